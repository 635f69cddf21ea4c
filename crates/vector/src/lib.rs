//! The softmax vector unit (design §3).
//!
//! `lanes` elements per vector step; each [`ElementOp`] costs its
//! `op_cycles` per step, pipelined, so a job (an [`OpMix`]) on an R×C tile
//! computes for ⌈R·C/lanes⌉·Σ element-op costs + ⌈R/lanes⌉·Σ row-op costs
//! cycles ([`StepCost`]). [`VectorUnit`] streams the step's operands from SRAM
//! and its results back through the SRAM's queues and counts every element
//! operation. See docs/units.md.
//!
//! `vector` does not know DRAM or the ISA: the driver hands it
//! [`VectorJob`]s.

mod job;
mod op;
mod stats;
mod unit;

pub use job::VectorJob;
pub use op::{op_counts, ElementOp, OpMix, StepCost};
pub use stats::{OP_STATS, VECTOR_STATS};
pub use unit::{check_buffer, VectorUnit};
