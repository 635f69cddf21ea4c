//! SRAM tests: one binary, so the scripted user is compiled once.

mod arbitration;
mod common;
mod properties;
