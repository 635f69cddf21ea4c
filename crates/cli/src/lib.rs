//! The `flatsim` command line as a library: the binary (`main.rs`) and the
//! Python bindings (`python/`) call the same commands, so both give the same
//! numbers and the same error messages.

#[macro_use]
mod output;
pub mod commands;
pub mod embed;
pub mod error;
mod progress;
mod sweep;

pub use output::stdout_error;
