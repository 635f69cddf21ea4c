//! The systolic PE array.
//!
//! [`GemmTiming`] is the closed-form schedule of one GEMM (folds, fill,
//! drain, overlap) and its per-cycle operand demand; [`PeArray`] is the
//! cycle-level component that executes GEMMs on that schedule and stalls with
//! a reason when its operands are not ready. `pe-array` does not know DRAM,
//! SRAM, the ISA or the compiler.

mod array;
mod demand;
mod timing;

pub use array::{
    GemmJob, PeArray, STAT_A_ELEMENTS, STAT_B_ELEMENTS, STAT_C_ELEMENTS, STAT_GEMMS, STAT_MACS,
};
pub use demand::OperandDemand;
pub use hwconfig::PeDataflow;
pub use timing::{ArrayShape, FoldTile, GemmShape, GemmTiming};
