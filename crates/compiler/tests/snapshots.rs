//! Snapshots of the printed loop nest and instruction streams of tiny
//! problems, for every dataflow and granularity; each also round-trips
//! through the text form and verifies.

mod common;
use common::*;
use compiler::{Dataflow, Gran, Workload};

/// One 2-byte bank, so regions pack without padding and capacities can be
/// set just below a plan's footprint.
fn snapshot(name: &str, w: &Workload, s: compiler::DataflowSpec, sram: u64) {
    let hw = tiny_hw_banked(sram, 1, 2);
    let (plan, program) = compile(&hw, w, &s);
    isa::verify(&program).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = isa::print(&program);
    let parsed = isa::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parsed, program, "{name}: parse(print(p)) != p");
    let nest = compiler::loop_nest(&hw, w, &plan).to_string();
    insta::assert_snapshot!(format!("{name}_loops"), nest);
    insta::assert_snapshot!(format!("{name}_isa"), text);
}

fn tiny() -> Workload {
    Workload::new("tiny", 1, 2, 4, 2)
}

#[test]
fn flat_m() {
    snapshot(
        "flat_m",
        &tiny(),
        spec(Dataflow::Flat, Some(Gran::M), None, None, false),
        4096,
    );
}

#[test]
fn flat_b() {
    snapshot(
        "flat_b",
        &Workload::new("tiny", 2, 2, 4, 2),
        spec(Dataflow::Flat, Some(Gran::B), None, None, false),
        4096,
    );
}

#[test]
fn flat_h() {
    snapshot(
        "flat_h",
        &tiny(),
        spec(Dataflow::Flat, Some(Gran::H), None, None, false),
        4096,
    );
}

#[test]
fn flat_r() {
    // 128 bytes hold the tiles with one score slot (120 bytes), not with two (136).
    let s = spec(Dataflow::Flat, Some(Gran::R), Some(2), None, false);
    let hw = tiny_hw_banked(128, 1, 2);
    assert_eq!(
        compiler::resolve_plan(&hw, &tiny(), &s)
            .unwrap()
            .score_slots,
        1
    );
    snapshot("flat_r", &tiny(), s, 128);
}

#[test]
fn flat_r_two_score_slots() {
    // 136 bytes: the second score slot fits, so L of the next tile overlaps softmax.
    let s = spec(Dataflow::Flat, Some(Gran::R), Some(2), None, false);
    let hw = tiny_hw_banked(136, 1, 2);
    assert_eq!(
        compiler::resolve_plan(&hw, &tiny(), &s)
            .unwrap()
            .score_slots,
        2
    );
    snapshot("flat_r_two_slots", &tiny(), s, 136);
}

#[test]
fn flat_r_spill() {
    // 80 bytes cannot keep K and V resident (120 bytes): they stream in chunks
    // of 2 rows (72 bytes), with one score slot (two take 88 bytes).
    let s = spec(Dataflow::Flat, Some(Gran::R), Some(2), Some(2), true);
    let hw = tiny_hw_banked(80, 1, 2);
    let plan = compiler::resolve_plan(&hw, &tiny(), &s).unwrap();
    assert!(plan.spill);
    assert_eq!(plan.score_slots, 1);
    assert!(compiler::resolve_plan(
        &hw,
        &tiny(),
        &spec(Dataflow::Flat, Some(Gran::R), Some(2), Some(2), false)
    )
    .is_err());
    snapshot("flat_r_spill", &tiny(), s, 80);
}

#[test]
fn flat_r_spill_two_score_slots() {
    // 100 bytes: spilled, and the second score slot fits (88 bytes): tile i
    // streams its K chunks for L, then tile i−1's V chunks for A.
    let s = spec(Dataflow::Flat, Some(Gran::R), Some(2), Some(2), true);
    let hw = tiny_hw_banked(100, 1, 2);
    let plan = compiler::resolve_plan(&hw, &tiny(), &s).unwrap();
    assert!(plan.spill);
    assert_eq!(plan.score_slots, 2);
    snapshot("flat_r_spill_two_slots", &tiny(), s, 100);
}

#[test]
fn flash() {
    snapshot(
        "flash",
        &tiny(),
        spec(Dataflow::Flash, None, Some(2), Some(2), false),
        4096,
    );
}

#[test]
fn unfused_scores_in_sram() {
    snapshot(
        "unfused_sram",
        &tiny(),
        spec(Dataflow::Unfused, None, Some(2), Some(2), false),
        4096,
    );
}

#[test]
fn unfused_scores_in_dram() {
    // 140 bytes hold the tiles (136) but not the tiles with every score (144).
    let hw = tiny_hw_banked(140, 1, 2);
    assert!(
        !compiler::resolve_plan(
            &hw,
            &tiny(),
            &spec(Dataflow::Unfused, None, Some(2), Some(2), false)
        )
        .unwrap()
        .scores_in_sram
    );
    snapshot(
        "unfused_dram",
        &tiny(),
        spec(Dataflow::Unfused, None, Some(2), Some(2), false),
        140,
    );
}
