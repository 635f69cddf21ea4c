//! Trace replay: a streaming trace reader, the reference harness and its report.

mod harness;
mod report;
mod trace;

pub use harness::{replay, ReplayDevice, ReplayOptions};
pub use report::DramReport;
pub use trace::{TraceError, TraceReader, TraceRequest, TRACE_HEADER};
