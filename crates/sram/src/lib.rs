//! The banked on-chip scratchpad (design §3).
//!
//! Addresses interleave across banks at `bank_width_bytes`; each bank has
//! read and write ports; [`Sram`] arbitrates its clients' requests with a
//! fixed priority ([`SramClient::ALL`]) and charges a client a conflict cycle
//! whenever one of its chunks finds its bank's ports taken. Units talk to it
//! only through queues, linked once per cycle by [`exchange`]. It also keeps
//! the live and peak bytes of the regions the driver reports.
//!
//! `sram` does not know the ISA: it sees addresses and requests only. The
//! region allocator lives in the compiler↔simulator contract (`isa`).
//! See docs/units.md for arbitration, latencies and accounting.

mod banks;
mod client;
mod sram;
mod stats;
mod user;

pub use client::{SramClient, SramRequest, SramResponse, SramSpan};
pub use sram::{LiveBytesError, Sram, SramLinkTiming, WRITE_ROUND_TRIP_CYCLES};
pub use stats::{SRAM_CLIENT_STATS, SRAM_STATS};
pub use user::{exchange, SramUser};
