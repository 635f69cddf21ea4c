//! Functional runs: values move as the instructions move them, and O matches
//! reference attention, for every dataflow and granularity on both platforms.

mod common;

use common::{hw, program, run, spec};
use compiler::{Dataflow, Gran, Workload};

fn check(preset: &str, overrides: &[&str], w: &Workload, s: compiler::DataflowSpec) {
    let hw = hw(preset, overrides);
    let p = program(&hw, w, &s);
    let report = run(&hw, &p, true, Some(7)).unwrap_or_else(|e| panic!("{preset} {s:?}: {e}"));
    let error = report.max_abs_error.unwrap();
    assert!(error < 1e-9, "{preset} {s:?}: error {error}");
    for unit in &report.units {
        assert!(unit.account.check(report.cycles).is_ok(), "{}", unit.name);
    }
}

#[test]
fn flat_every_granularity_on_edge() {
    let w = Workload::new("tiny", 2, 2, 64, 16);
    for gran in [Gran::M, Gran::B, Gran::H] {
        check(
            "edge",
            &[],
            &w,
            spec(Dataflow::Flat, Some(gran), None, None),
        );
    }
    check(
        "edge",
        &[],
        &w,
        spec(Dataflow::Flat, Some(Gran::R), Some(16), None),
    );
}

#[test]
fn unfused_and_flash_on_edge() {
    let w = Workload::new("tiny", 2, 2, 64, 16);
    check("edge", &[], &w, spec(Dataflow::Unfused, None, None, None));
    check(
        "edge",
        &[],
        &w,
        spec(Dataflow::Flash, None, Some(16), Some(32)),
    );
}

#[test]
fn print_a_run() {
    let hw = hw("edge", &[]);
    let w = Workload::new("tiny", 1, 2, 256, 64);
    let p = program(&hw, &w, &spec(Dataflow::Flat, Some(Gran::H), None, None));
    let r = run(&hw, &p, true, Some(1)).unwrap();
    println!(
        "cycles {} pe {} vec {} dram {}+{} err {:?} instr {:?}",
        r.cycles,
        r.pe_util,
        r.vector_util,
        r.dram_read_bytes,
        r.dram_write_bytes,
        r.max_abs_error,
        r.instructions
    );
    for u in &r.units {
        println!(
            "{} busy {} idle {} stalls {:?}",
            u.name,
            u.account.busy_cycles(),
            u.account.idle_cycles(),
            simkit::StallReason::ALL.map(|s| u.account.stall_cycles(s))
        );
    }
    let r2 = run(&hw, &p, false, Some(1)).unwrap();
    println!("noff cycles {}", r2.cycles);
}
