//! End-to-end snapshots of summary.csv and stats.csv for a tiny config per
//! dataflow: any change to what a run reports shows up here for review.

mod common;

use common::*;

fn snapshot(name: &str, flags: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = TINY_RUN.to_vec();
    args.extend_from_slice(&["--out", &out_arg]);
    args.extend_from_slice(flags);
    ok(&flatsim(&args));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let stats = std::fs::read_to_string(out.join("stats.csv")).unwrap();
    insta::assert_snapshot!(format!("{name}_summary"), summary);
    insta::assert_snapshot!(format!("{name}_stats"), stats);
}

#[test]
fn unfused() {
    snapshot("unfused", &["--dataflow", "unfused", "--mapping", "fixed"]);
}

#[test]
fn flat_head_granularity() {
    snapshot("flat_h", &["--dataflow", "flat", "--gran", "h"]);
}

#[test]
fn flat_row_granularity() {
    snapshot(
        "flat_r",
        &["--dataflow", "flat", "--gran", "r", "--rows", "16"],
    );
}

#[test]
fn flash() {
    snapshot(
        "flash",
        &["--dataflow", "flash", "--rows", "16", "--cols", "32"],
    );
}
