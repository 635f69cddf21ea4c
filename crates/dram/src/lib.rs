//! Off-chip memory models behind one interface, [`MemoryPort`]: a
//! cycle-level DRAM ([`CycleDram`]: channels › ranks › bank groups › banks,
//! a declarative timing-constraint table per preset, FR-FCFS controllers
//! with refresh) and a fixed-bandwidth pipe ([`BandwidthModel`]).
//! [`MemoryModel::from_config`] builds whichever a hardware config asks for.
//!
//! `dram` does not know the ISA or any other unit: it sees addressed
//! requests and returns responses. Around the model it provides trace
//! replay ([`replay`]), the reference workloads ([`workload`]) and a
//! protocol checker ([`checker`]) written independently of the scheduler.

mod bandwidth;
mod bank_state;
pub mod checker;
mod clock;
pub mod controller;
mod cycle;
mod error;
pub mod mapping;
mod model;
mod port;
pub mod replay;
pub mod spec;
pub mod stats;
pub mod workload;

pub use bandwidth::BandwidthModel;
pub use bank_state::{BankState, Refusal};
pub use clock::ClockCrossing;
pub use cycle::{CycleDram, CycleDramSettings};
pub use error::DramConfigError;
pub use model::MemoryModel;
pub use port::{MemRequest, MemResponse, MemoryPort};
