//! Property tests over random small workloads (MHA, GQA and MQA groups,
//! no mask, causal, causal with a window, prefill and decode) and tilings, sizes that need not divide: every accepted
//! plan verifies, computes every score tile once, stores every O row once,
//! computes attention, and fits its SRAM.

mod common;
use common::*;
use compiler::{Dataflow, Gran, Workload};
use proptest::prelude::*;

fn dataflow_spec() -> impl Strategy<Value = compiler::DataflowSpec> {
    let gran = prop_oneof![Just(Gran::M), Just(Gran::B), Just(Gran::H), Just(Gran::R)];
    prop_oneof![
        (gran, 1u64..7, 1u64..7, any::<bool>()).prop_map(|(g, r, c, spill)| spec(
            Dataflow::Flat,
            Some(g),
            (g == Gran::R).then_some(r),
            Some(c),
            spill
        )),
        (1u64..7, 1u64..7).prop_map(|(r, c)| spec(Dataflow::Flash, None, Some(r), Some(c), false)),
        (1u64..7, 1u64..7).prop_map(|(r, c)| spec(
            Dataflow::Unfused,
            None,
            Some(r),
            Some(c),
            false
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn accepted_plans_are_correct(
        batch in 1u64..3, kv_heads in 1u64..3, group in prop_oneof![Just(1u64), Just(2), Just(3)],
        n in 1u64..10, d in 1u64..5,
        decode in proptest::option::of((1u64..4, 1u64..9)),
        mask in proptest::option::of(proptest::option::of(1u64..6)),
        s in dataflow_spec(),
        sram_log in 8u32..13,
        banks in prop_oneof![Just(1u64), Just(4)],
    ) {
        let mut w = grouped(batch, kv_heads, group, n, d, decode);
        if let Some(window) = mask {
            w = causal(w, window);
        }
        // Four 2-byte banks pad score rows of an even length (bank spread).
        let hw = tiny_hw_banked(1 << sram_log, banks, 2);
        let Ok(plan) = compiler::resolve_plan(&hw, &w, &s) else {
            // A refusal must be a real one: the footprint does not fit.
            let (_, fp) = compiler::plan_with_footprint(&hw, &w, &s).unwrap();
            prop_assert!(!fp.fits());
            return Ok(());
        };
        let fp = compiler::footprint(&hw, &w, &plan);
        prop_assert!(fp.fits());
        prop_assert!(fp.allocated_bytes.unwrap() <= hw.sram.capacity_bytes);
        prop_assert!(fp.total_bytes() <= hw.sram.capacity_bytes);
        let program = compiler::compile(&hw, &w, &plan).unwrap();
        if let Err(e) = isa::verify(&program) {
            return Err(TestCaseError::fail(format!("{}: {e}", plan.label())));
        }
        assert_exactly_once(&coverage(&program), &w);
        let err = max_error(&program);
        prop_assert!(err < 1e-9, "{}: error {}", plan.label(), err);
        let census = compiler::census(&hw, &w, &plan);
        let summary = program.summary();
        prop_assert_eq!(census.macs(), summary.macs);
        prop_assert_eq!(census.vector_ops, summary.vector_ops);
        prop_assert_eq!(census.dram_read_bytes + census.dram_write_bytes, summary.dram_read_bytes + summary.dram_write_bytes);
    }
}

#[test]
fn streams_are_deterministic_and_repeatable() {
    let w = Workload::new("p", 2, 3, 9, 4);
    let hw = tiny_hw(1 << 16);
    let (_, a) = compile(
        &hw,
        &w,
        &spec(Dataflow::Flash, None, Some(4), Some(3), false),
    );
    let (_, b) = compile(
        &hw,
        &w,
        &spec(Dataflow::Flash, None, Some(4), Some(3), false),
    );
    assert_eq!(isa::print(&a), isa::print(&b));
    assert_eq!(a, a.materialize());
}
