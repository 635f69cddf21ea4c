//! The contract between the compiler and the simulator.
//!
//! A [`Program`] is a [`ProgramHeader`] — SRAM [`RegionTable`], DRAM
//! [`DramLayout`] of Q, K, V, O (and a spill tensor), and the [`Token`] table
//! — plus one instruction stream per [`Unit`] (dma, pe, vector), produced
//! lazily by a [`StreamSource`] so that a program never needs to sit whole in
//! memory. `isa` knows nothing of loop nests or timing.
//!
//! # Execution and sync-token semantics
//!
//! * A **token** is a counter, 0 at the start, declared in the token table
//!   together with the one unit allowed to signal it.
//! * Each unit takes its instructions **in stream order**. The head
//!   instruction *issues* once, for every `wait` entry `T >= n`, counter(T)
//!   ≥ n. Nothing overtakes a blocked head.
//! * **PE array and vector unit** run one instruction at a time: an
//!   instruction issues only after its predecessor has completed.
//! * **DMA** may have several instructions in flight (issued in order, up to
//!   the engine's capacity), but *retires* them in order: an instruction's
//!   completion becomes visible only after its predecessor's.
//! * When an instruction completes — every byte it reads has been read and
//!   every byte it writes is written in SRAM/DRAM — each token in its
//!   `signal` list is incremented by one (in retirement order).
//! * Hence `counter(T) ≥ n` ⇔ the first `n` signallers of `T`, in the
//!   signalling unit's stream order, have completed. A simulator needs one
//!   integer per token and never has to look ahead in a stream.
//!
//! A program that passes [`verify()`] cannot deadlock under these rules and
//! has no data race (see the rules in [`verify`]), so every schedule that
//! obeys them computes the same values as [`exec::Machine::run`].
//!
//! # Data
//!
//! SRAM operands are byte addresses inside a slot of a region
//! ([`SramAddr`]); matrices are row-major views with a row stride in bytes
//! ([`SramTile`]); per-row statistics are `rows` consecutive elements. DRAM
//! operands are absolute byte addresses into the [`DramLayout`].

pub mod exec;
mod instr;
mod layout;
mod parse;
mod program;
pub mod reference;
mod region;
pub mod text;
pub mod verify;

pub use instr::{
    masked, Access, DmaDir, DmaInstr, ElementOps, GemmInstr, Instr, Pattern, PeDataflow, Place,
    RegionId, SramAddr, SramTile, Sync, TokenId, Unit, VectorInstr, VectorOp, Wait,
};
pub use layout::{DramLayout, DramTensor, TensorRole};
pub use parse::{parse, ParseError};
pub use program::{Materialized, Program, ProgramHeader, StreamSource, Summary, Token};
pub use region::{AllocError, Region, RegionAllocator, RegionTable};
pub use text::{print, write_program};
pub use verify::{verify, Rule, VerifyError};
