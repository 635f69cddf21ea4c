//! Bad input on the command line: every class exits with code 2 and names
//! the key (or flag) and the reason.

mod common;

use common::*;
use std::path::Path;

fn edge_with(dir: &Path, replace: &str, with: &str) -> String {
    let text = hwconfig::builtin_preset("edge").unwrap();
    assert!(text.contains(replace));
    let path = dir.join("hw.toml");
    std::fs::write(&path, text.replacen(replace, with, 1)).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs `validate` and `gemm` on an edited edge config; both must exit 2 naming `key` and `reason`.
fn assert_rejected(replace: &str, with: &str, key: &str, reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    let hw = edge_with(dir.path(), replace, with);
    for args in [
        vec!["validate", hw.as_str()],
        vec![
            "gemm",
            "--hw",
            hw.as_str(),
            "--m",
            "4",
            "--k",
            "4",
            "--n",
            "4",
        ],
    ] {
        let output = flatsim(&args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(
            message.contains(&format!("key `{key}`")),
            "{args:?}: {message}"
        );
        assert!(message.contains(reason), "{args:?}: {message}");
        assert!(
            message.contains("hw.toml:"),
            "{args:?}: file not named: {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn unknown_key_suggests_the_closest() {
    assert_rejected(
        "banks = 32",
        "bnaks = 32",
        "sram.bnaks",
        "did you mean `sram.banks`",
    );
}

#[test]
fn missing_required_key() {
    assert_rejected("rows = 32\n", "", "pe_array.rows", "required");
}

#[test]
fn wrong_type() {
    assert_rejected(
        "lanes = 32",
        "lanes = true",
        "vector.lanes",
        "expected an integer",
    );
}

#[test]
fn zero_size() {
    assert_rejected(
        "bank_width_bytes = 64",
        "bank_width_bytes = 0",
        "sram.bank_width_bytes",
        "power of two",
    );
    assert_rejected(
        "max_outstanding = 128",
        "max_outstanding = 0",
        "dma.max_outstanding",
        "positive",
    );
}

#[test]
fn negative_size() {
    assert_rejected(
        "clock_mhz = 940",
        "clock_mhz = -940",
        "core.clock_mhz",
        "-940 MHz is outside the supported range 1 ..= 100000 MHz",
    );
}

#[test]
fn non_power_of_two() {
    assert_rejected("banks = 32", "banks = 33", "sram.banks", "power of two");
}

#[test]
fn unknown_enum_value() {
    assert_rejected(
        "model = \"bandwidth\"",
        "model = \"magic\"",
        "dram.model",
        "bandwidth, cycle",
    );
}

#[test]
fn contradiction() {
    assert_rejected(
        "capacity_bytes = 524288",
        "capacity_bytes = 524000",
        "sram.capacity_bytes",
        "multiple",
    );
}

#[test]
fn unreadable_file() {
    let output = flatsim(&["validate", "/nonexistent/hw.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/hw.toml"));
    assert!(stderr(&output).contains("cannot read"));
}

#[test]
fn bad_override() {
    let output = flatsim(&[
        "gemm",
        "--hw",
        "edge",
        "--m",
        "1",
        "--k",
        "1",
        "--n",
        "1",
        "--set",
        "sram.banks=48",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--set: key `sram.banks`"),
        "{}",
        stderr(&output)
    );
    let output = flatsim(&["validate", "configs/none.toml", "--set", "nokey"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn bad_flags() {
    let output = flatsim(&["gemm", "--hw", "edge", "--m", "0", "--k", "1", "--n", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--m"));
    let output = flatsim(&[
        "gemm",
        "--hw",
        "edge",
        "--m",
        "1",
        "--k",
        "1",
        "--n",
        "1",
        "--pe-dataflow",
        "rs",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("os, ws, is"));
}

#[test]
fn existing_output_directory_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().into_owned();
    let output = flatsim(&[
        "gemm", "--hw", "edge", "--m", "1", "--k", "1", "--n", "1", "--out", &out,
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--force"));
}

#[test]
fn dram_organisation_is_checked_with_the_preset() {
    let output = flatsim(&["validate", "cloud-cycle", "--set", "dram.ranks=8"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("key `dram.ranks`"),
        "{}",
        stderr(&output)
    );
    let output = flatsim(&[
        "validate",
        "edge-cycle",
        "--set",
        "dram.address_mapping=RoBaCo",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("key `dram.address_mapping`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_describes_the_tool_not_the_crate() {
    let text = ok(&flatsim(&["--help"]));
    assert!(
        text.starts_with("flatsim: a cycle-level simulator of attention accelerators"),
        "{text}"
    );
    assert!(!text.contains("command line: argument parsing"), "{text}");
}
