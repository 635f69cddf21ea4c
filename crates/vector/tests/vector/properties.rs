//! Properties over random jobs and random interference.

use super::common::SoftmaxStep;
use super::common::{run, sram_config, vector_config, Hog};
use super::formulas::job;
use proptest::prelude::*;
use simkit::StallReason;
use sram::Sram;
use vector::{StepCost, VectorUnit};

fn jobs() -> impl Strategy<Value = Vec<(u64, SoftmaxStep, u64, u64)>> {
    proptest::collection::vec((0u64..200, 0usize..5, 1u64..40, 1u64..90), 1..5).prop_map(|v| {
        v.into_iter()
            .map(|(at, s, r, c)| (at, SoftmaxStep::ALL[s], r, c))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn accounting_is_exact_under_interference(
        lanes in prop_oneof![Just(4u64), Just(16), Just(32)],
        costs in proptest::array::uniform6(1u64..4),
        latency in 1u64..4,
        banks in prop_oneof![Just(4u64), Just(16)],
        hog_cycles in proptest::collection::vec(0u64..600, 0..80),
        list in jobs(),
    ) {
        let config = vector_config(lanes, false, costs);
        let mut sram = Sram::new(&sram_config(banks, 1, latency), 64);
        let mut unit = VectorUnit::new(&config, 2, sram.link_timing());
        let mut hog = Hog::new(banks, hog_cycles.clone());
        let list: Vec<_> = list.iter().enumerate().map(|(i, &(at, s, r, c))| (at, job(i as u64, s, r, c))).collect();
        let compute: u64 = list.iter().map(|(_, j)| StepCost::new(&j.ops, j.rows, j.cols, lanes, &config.op_cycles, false).compute_cycles()).sum();
        let a = run(&mut sram, &mut unit, &mut hog, list.clone(), false);
        // `run` checked busy + Σ stalls + idle = total for the unit and the SRAM.
        prop_assert_eq!(a.account.busy_cycles(), compute);
        prop_assert_eq!(unit.jobs_done(), list.len() as u64);
        // Fast-forward reproduces the cycle-by-cycle run exactly.
        let mut sram2 = Sram::new(&sram_config(banks, 1, latency), 64);
        let mut unit2 = VectorUnit::new(&config, 2, sram2.link_timing());
        let mut hog2 = Hog::new(banks, hog_cycles);
        let b = run(&mut sram2, &mut unit2, &mut hog2, list, true);
        prop_assert_eq!(a.results(), b.results());
        prop_assert!(a.account.stall_cycles(StallReason::WaitToken) == 0);
    }
}
