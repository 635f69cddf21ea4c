//! Off-chip memory models behind one interface, [`MemoryPort`].
//!
//! `dram` does not know the ISA or any other unit: it sees addressed
//! requests and returns responses.

mod bandwidth;
mod clock;
mod port;

pub use bandwidth::BandwidthModel;
pub use clock::ClockCrossing;
pub use port::{MemRequest, MemResponse, MemoryPort};
