//! Fast-forward changes nothing, and runs are deterministic, over random
//! small workloads and configurations.

mod common;

use common::{hw, program, run, spec};
use compiler::{Dataflow, Gran, Workload};
use proptest::prelude::*;
use std::sync::{Arc, Mutex};

/// Keeps a run's timeline where the test can read it after the run.
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<sim::Epoch>>>);

impl sim::EpochSink for Timeline {
    fn record(&mut self, epoch: &sim::Epoch) {
        self.0.lock().unwrap().push(*epoch);
    }
}

/// Runs with a timeline of 97-cycle epochs; the report and its timeline.
fn run_with_timeline(
    hw: &hwconfig::HwConfig,
    p: &isa::Program,
    options: sim::RunOptions<'_>,
) -> Result<(sim::RunReport, Vec<sim::Epoch>), sim::SimError> {
    let timeline = Timeline::default();
    let options = sim::RunOptions {
        epoch_cycles: Some(97),
        timeline: Some(Box::new(timeline.clone())),
        ..options
    };
    let report = sim::simulate(hw, p, options)?;
    let epochs = timeline.0.lock().unwrap().clone();
    Ok((report, epochs))
}

fn signature((r, timeline): &(sim::RunReport, Vec<sim::Epoch>)) -> String {
    let units: Vec<String> = r
        .units
        .iter()
        .map(|u| {
            format!(
                "{}:{:?}:{:?}",
                u.name,
                u.account,
                u.stats.iter().map(|s| s.value).collect::<Vec<_>>()
            )
        })
        .collect();
    format!(
        "{} {:?} {:?} {}",
        r.cycles,
        r.energy,
        timeline,
        units.join("|")
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn fast_forward_equals_stepping_and_runs_repeat(
        heads in 1u64..3, n_pow in 5u32..7, d_pow in 3u32..6, which in 0usize..4,
        rows_pow in 2u32..4, banks_pow in 2u32..6, lanes_pow in 2u32..6, dram in 0usize..3,
    ) {
        let n = 1 << n_pow;
        let w = Workload::new("p", 1, heads, n, 1 << d_pow);
        let banks = format!("sram.banks={}", 1 << banks_pow);
        let lanes = format!("vector.lanes={}", 1 << lanes_pow);
        let mut keys = vec!["pe_array.rows=8", "pe_array.cols=8", &banks, &lanes];
        // Bandwidth DRAM, cycle-level DDR4, or HBM2 with per-bank refresh.
        let preset = match dram {
            0 => "edge",
            1 => "edge-cycle",
            _ => {
                keys.extend(["dram.preset=\"hbm2\"", "dram.refresh=\"per-bank\""]);
                "edge-cycle"
            }
        };
        let hw = hw(preset, &keys);
        let r = 1 << rows_pow;
        let s = match which {
            0 => spec(Dataflow::Flat, Some(Gran::H), None, None),
            1 => spec(Dataflow::Flat, Some(Gran::R), Some(r), None),
            2 => spec(Dataflow::Flash, None, Some(r), Some(r)),
            _ => spec(Dataflow::Unfused, None, None, None),
        };
        let p = program(&hw, &w, &s);
        let options = |ff| sim::RunOptions { fast_forward: ff, ..Default::default() };
        let fast = run_with_timeline(&hw, &p, options(true)).unwrap();
        let slow = run_with_timeline(&hw, &p, options(false)).unwrap();
        let again = run_with_timeline(&hw, &p, options(true)).unwrap();
        prop_assert!(fast.1.iter().all(|e| e.cycle_end - e.cycle_start <= 97));
        prop_assert_eq!(fast.1.last().map(|e| e.cycle_end), Some(fast.0.cycles));
        prop_assert_eq!(signature(&fast), signature(&slow));
        prop_assert_eq!(signature(&fast), signature(&again));
        for unit in fast.0.units.iter().filter(|u| u.name != "dram") {
            prop_assert!(unit.account.check(fast.0.cycles).is_ok(), "{}", unit.name);
        }
        let _ = run;
    }
}

/// A run given up on just before its last cycle fails; allowed its last cycle it
/// finishes with the same result.
#[test]
fn give_up_after_stops_only_runs_that_take_longer() {
    let hw = hw("edge", &["pe_array.rows=8", "pe_array.cols=8"]);
    let w = Workload::new("p", 1, 2, 64, 16);
    let p = program(&hw, &w, &spec(Dataflow::Flash, None, Some(8), Some(8)));
    let full = run_with_timeline(&hw, &p, sim::RunOptions::default()).unwrap();
    let limited = |limit| {
        run_with_timeline(
            &hw,
            &p,
            sim::RunOptions {
                give_up_after: Some(limit),
                ..Default::default()
            },
        )
    };
    // A run of `cycles` cycles finishes in cycle `cycles - 1`.
    let allowed = limited(full.0.cycles - 1).unwrap();
    assert_eq!(signature(&allowed), signature(&full));
    match limited(full.0.cycles - 2) {
        Err(sim::SimError::GaveUp { limit, .. }) => assert_eq!(limit, full.0.cycles - 2),
        other => panic!("expected GaveUp, got {other:?}"),
    }
}
