//! Running the `flatsim` binary from the integration tests.
#![allow(dead_code)] // each test binary uses a subset

use std::process::{Command, Output};

/// `flatsim run` on a tiny problem (BERT, N = 64, an 8×8 array); add the dataflow and flags.
pub const TINY_RUN: &[&str] = &[
    "run",
    "--hw",
    "edge",
    "--workload",
    "bert",
    "--seq-len",
    "64",
    "--batch",
    "1",
    "--set",
    "pe_array.rows=8",
    "--set",
    "pe_array.cols=8",
];

/// Runs `flatsim args…` (as in CI: no progress bars).
pub fn flatsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flatsim"))
        .args(args)
        .env("CI", "1")
        .output()
        .unwrap()
}

/// Its stdout, asserting success.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
