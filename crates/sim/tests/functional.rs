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
    for unit in report.units.iter().filter(|u| u.name != "dram") {
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
fn cloud_platform_runs_every_dataflow() {
    let w = Workload::new("tiny", 2, 2, 256, 64);
    let cloud = ["pe_array.rows=64", "pe_array.cols=64"];
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Flat, Some(Gran::M), None, None),
    );
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Flat, Some(Gran::B), None, None),
    );
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Flat, Some(Gran::H), None, None),
    );
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Flat, Some(Gran::R), Some(64), None),
    );
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Unfused, None, None, None),
    );
    check(
        "cloud",
        &cloud,
        &w,
        spec(Dataflow::Flash, None, Some(64), Some(64)),
    );
}

#[test]
fn cycle_level_dram_runs_every_dataflow() {
    let w = Workload::new("tiny", 1, 2, 64, 16);
    check(
        "edge-cycle",
        &[],
        &w,
        spec(Dataflow::Flat, Some(Gran::H), None, None),
    );
    check(
        "edge-cycle",
        &[],
        &w,
        spec(Dataflow::Unfused, None, None, None),
    );
    check(
        "cloud-cycle",
        &["pe_array.rows=16", "pe_array.cols=16"],
        &w,
        spec(Dataflow::Flash, None, Some(16), Some(32)),
    );
}

#[test]
fn a_missing_sync_token_is_caught() {
    let hw = hw("edge", &[]);
    let w = Workload::new("tiny", 1, 2, 64, 16);
    let program = program(&hw, &w, &spec(Dataflow::Flat, Some(Gran::H), None, None)).materialize();
    assert!(
        run(&hw, &program, true, Some(3))
            .unwrap()
            .max_abs_error
            .unwrap()
            < 1e-9
    );
    // Drop the waits of the first GEMM: it no longer waits for its operands' loads.
    let isa::Program { header, .. } = program.clone();
    let mut streams = isa::Unit::ALL.map(|u| program.stream(u).collect::<Vec<_>>());
    let first_gemm = &mut streams[isa::Unit::Pe.index()][0];
    assert!(!first_gemm.sync().wait.is_empty());
    first_gemm.sync_mut().wait.clear();
    let broken = isa::Program::materialized(header, streams);
    let verdict = isa::verify(&broken);
    let simulated = run(&hw, &broken, true, Some(3));
    assert!(verdict.is_err(), "the verifier catches the race");
    assert!(
        matches!(simulated, Err(sim::SimError::Functional { .. })),
        "functional mode sees the stale operands: {simulated:?}"
    );
}

/// Decode of Llama-3-8B (B = 8, 8K cached tokens) on cloud: the cache
/// streams once, so the run can be no faster than its DRAM bound.
#[test]
fn decode_is_no_faster_than_streaming_the_cache() {
    let hw = hw("cloud", &[]);
    let flags = compiler::WorkloadFlags {
        batch: Some(8),
        phase: Some(compiler::Phase::Decode),
        kv_len: Some(8192),
        ..Default::default()
    };
    let w = Workload::load_with("llama3-8b", &flags).unwrap();
    let p = program(&hw, &w, &spec(Dataflow::Flash, None, None, None));
    let report = run(&hw, &p, true, None).unwrap();
    let bytes = report.dram_read_bytes + report.dram_write_bytes;
    let bytes_per_cycle = compiler::estimate::dram_bytes_per_s(&hw) / (hw.core.clock_mhz * 1e6);
    let bound = bytes as f64 / bytes_per_cycle;
    assert!(
        report.cycles as f64 >= bound,
        "{} cycles, DRAM bound {bound}",
        report.cycles
    );
}

/// One key short in one K tile (its last key keeps the previous tile's
/// value in SRAM): the tolerance derived from f64 rounding (~1e-12 here)
/// catches it, while a correct run passes it.
#[test]
fn a_tile_one_key_short_fails_the_check() {
    let hw = hw("edge", &[]);
    let w = Workload::new("tiny", 1, 1, 256, 16);
    let program = program(&hw, &w, &spec(Dataflow::Flash, None, Some(64), Some(64))).materialize();
    let report = run(&hw, &program, true, Some(5)).unwrap();
    assert!(report.max_abs_error.unwrap() < 1e-14, "{report:?}");
    let isa::Program { header, .. } = program.clone();
    let k = header.dram.by_role(isa::TensorRole::K).unwrap().clone();
    let k_range =
        k.base_bytes..k.base_bytes + k.dims.iter().product::<u64>() * header.element_bytes;
    let mut streams = isa::Unit::ALL.map(|u| program.stream(u).collect::<Vec<_>>());
    let last_k_load = streams[isa::Unit::Dma.index()]
        .iter_mut()
        .filter_map(|i| match i {
            isa::Instr::Dma(d) if d.dir == isa::DmaDir::Load && k_range.contains(&d.dram_addr) => {
                Some(d)
            }
            _ => None,
        })
        .last()
        .expect("K tiles are loaded");
    last_k_load.rows -= 1;
    let broken = isa::Program::materialized(header, streams);
    match run(&hw, &broken, true, Some(5)) {
        Err(sim::SimError::Functional { error, limit }) => {
            assert!(
                error > limit && limit < 1e-10,
                "error {error}, limit {limit}"
            )
        }
        other => panic!("a K tile one key short passed: {other:?}"),
    }
}
