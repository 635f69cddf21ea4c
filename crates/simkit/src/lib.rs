//! Simulation kernel shared by every hardware unit.
//!
//! `simkit` knows nothing about any hardware unit or the ISA: it provides the
//! vocabulary the units and the driver speak — [`Cycle`], the [`Component`]
//! trait, bounded [`TimedQueue`]s, the closed set of [`StallReason`]s, exact
//! per-unit [`CycleAccount`]ing, declared statistics ([`StatDecl`]) and the
//! [`TraceSink`] trait.

mod account;
mod component;
mod ledger;
mod queue;
mod stats;
mod trace;

pub use account::{AccountError, CycleAccount, CycleState, StallReason};
pub use component::{Component, Cycle};
pub use ledger::{account_stats, Ledger, ACCOUNT_STATS};
pub use queue::TimedQueue;
pub use stats::{StatDecl, StatValue};
pub use trace::{NullTraceSink, TraceEvent, TraceSink};
