//! The DMA engine (design §3): moves tiles between DRAM and SRAM as bursts
//! of the memory port, with at most `max_outstanding` DRAM requests in
//! flight; loads and stores run concurrently. [`Dma`] owns the
//! [`dram::MemoryPort`] and talks to the SRAM through its queues
//! ([`sram::exchange`]). See docs/units.md.
//!
//! `dma` does not know the ISA: the driver hands it [`DmaJob`]s.

mod channel;
mod engine;
mod job;
mod stats;

pub use engine::{Dma, LINES_PER_WINDOW};
pub use job::{Direction, DmaJob};
pub use stats::DMA_STATS;
