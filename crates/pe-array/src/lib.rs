//! The systolic PE array.
//!
//! [`GemmTiming`] is the closed-form schedule of one GEMM (folds, fill,
//! drain, overlap); [`PeArray`] is the cycle-level component that executes
//! GEMMs on that schedule, reports per-cycle operand demand, and stalls with
//! a reason when its operands are not ready. `pe-array` does not know DRAM,
//! SRAM or the compiler.

mod timing;

pub use hwconfig::PeDataflow;
pub use timing::{ArrayShape, GemmShape, GemmTiming};
