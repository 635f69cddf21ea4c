//! Every dataflow and granularity computes attention exactly: the program
//! verifies, every score is computed once, every O row stored once, and
//! the functional result matches reference attention.

mod common;
use common::*;
use compiler::{Dataflow, Gran, Workload};

fn check(sram: u64, w: &Workload, s: compiler::DataflowSpec) {
    let hw = tiny_hw(sram);
    let (plan, program) = compile(&hw, w, &s);
    check_program(&hw, w, &plan, &program);
}

/// The program verifies, computes every score and O row once, matches
/// reference attention, and its census equals the streamed totals.
fn check_program(
    hw: &hwconfig::HwConfig,
    w: &Workload,
    plan: &compiler::Plan,
    program: &isa::Program,
) {
    isa::verify(program)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", plan.label(), isa::print(program)));
    assert_exactly_once(&coverage(program), w);
    let err = max_error(program);
    assert!(err < 1e-9, "{}: max error {err}", plan.label());
    let c = compiler::census(hw, w, plan);
    let s = program.summary();
    assert_eq!(
        (
            c.macs(),
            c.vector_ops,
            c.dram_read_bytes,
            c.dram_write_bytes
        ),
        (s.macs, s.vector_ops, s.dram_read_bytes, s.dram_write_bytes),
        "{}",
        plan.label()
    );
}

#[test]
fn flat_every_granularity() {
    let w = Workload::new("t", 2, 2, 8, 4);
    for gran in [Gran::M, Gran::B, Gran::H] {
        check(
            1 << 16,
            &w,
            spec(Dataflow::Flat, Some(gran), None, None, false),
        );
    }
    for rows in [1, 2, 3, 8] {
        check(
            1 << 16,
            &w,
            spec(Dataflow::Flat, Some(Gran::R), Some(rows), None, false),
        );
    }
}

#[test]
fn flat_spilled() {
    let w = Workload::new("t", 2, 2, 8, 4);
    for gran in [Gran::M, Gran::B, Gran::H, Gran::R] {
        for cols in [2, 3, 8] {
            let rows = (gran == Gran::R).then_some(3);
            let mut s = spec(Dataflow::Flat, Some(gran), rows, Some(cols), true);
            s.spill = Some(true);
            // Too little SRAM for resident K and V forces the spill.
            let hw = tiny_hw(1 << 16);
            let plan = compiler::resolve_plan(&hw, &w, &s).unwrap();
            for score_slots in [1, 2] {
                let forced = compiler::Plan {
                    spill: true,
                    cols,
                    score_slots,
                    ..plan
                };
                let program = compiler::compile(&hw, &w, &forced).unwrap();
                check_program(&hw, &w, &forced, &program);
            }
        }
    }
}

#[test]
fn flash_blocks() {
    let w = Workload::new("t", 2, 2, 8, 4);
    for (r, c) in [(2, 2), (3, 5), (8, 8), (1, 3)] {
        check(
            1 << 16,
            &w,
            spec(Dataflow::Flash, None, Some(r), Some(c), false),
        );
    }
}

#[test]
fn unfused_scores_in_sram_and_in_dram() {
    let w = Workload::new("t", 2, 2, 8, 4);
    check(
        1 << 16,
        &w,
        spec(Dataflow::Unfused, None, Some(4), Some(4), false),
    );
    check(
        1 << 16,
        &w,
        spec(Dataflow::Unfused, None, Some(3), Some(5), false),
    );
    // 2 KiB cannot hold 2·2·16·16 two-byte scores and the tiles: they go to DRAM.
    let w = Workload::new("t", 2, 2, 16, 4);
    let hw = tiny_hw(2048);
    let plan = compiler::resolve_plan(
        &hw,
        &w,
        &spec(Dataflow::Unfused, None, Some(4), Some(4), false),
    )
    .unwrap();
    assert!(!plan.scores_in_sram);
    check(
        2048,
        &w,
        spec(Dataflow::Unfused, None, Some(4), Some(4), false),
    );
    check(
        2048,
        &w,
        spec(Dataflow::Unfused, None, Some(3), Some(5), false),
    );
}

#[test]
fn padded_score_rows_spread_over_banks_and_compute_the_same() {
    // 4 banks of 16 bytes: a 16-element score row is 32 bytes, two bank words,
    // so every other row would start in bank 0; one word of padding spreads them.
    let w = Workload::new("t", 1, 2, 16, 4);
    let hw = tiny_hw(1 << 16);
    for rows in [4, 16] {
        let s = spec(Dataflow::Flat, Some(Gran::R), Some(rows), None, false);
        let resolved = compiler::resolve_plan(&hw, &w, &s).unwrap();
        for slots in [1, 2] {
            let plan = compiler::Plan {
                score_slots: slots,
                ..resolved
            };
            let program = compiler::compile(&hw, &w, &plan).unwrap();
            let l_stride: Vec<u64> = program
                .pe()
                .filter(|g| g.b_transposed)
                .map(|g| g.c.row_stride_bytes)
                .collect();
            assert!(!l_stride.is_empty());
            assert!(l_stride.iter().all(|&b| b == (16 + 8) * 2), "{l_stride:?}");
            isa::verify(&program).unwrap_or_else(|e| panic!("{}: {e}", plan.label()));
            assert_exactly_once(&coverage(&program), &w);
            assert!(max_error(&program) < 1e-9, "{}", plan.label());
        }
    }
}
