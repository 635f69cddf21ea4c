//! Flat with two score slots: the PE array computes the next tile's scores
//! while the vector unit runs this tile's softmax. The tokens carry exactly
//! the dependencies (enough for the verifier, each one a real conflict),
//! the streams interleave as intended, and the estimate and the plan choice
//! know which plans overlap.

mod common;
use common::*;
use compiler::{Dataflow, DataflowSpec, Gran, Mapping, Plan, Workload};
use hwconfig::HwConfig;
use isa::{Instr, Program, Unit};
use std::collections::BTreeMap;

fn two_slot_program(w: &Workload, gran: Gran, rows: Option<u64>) -> Program {
    let hw = tiny_hw(1 << 16);
    let (plan, program) = compile(&hw, w, &spec(Dataflow::Flat, Some(gran), rows, None, false));
    assert_eq!(plan.score_slots, 2, "{}", plan.label());
    program
}

/// The verifier accepts the program (its waits suffice) and every wait
/// `T >= n` names a real conflict: the n-th instruction to signal `T`
/// touches a byte the waiter touches, at least one writing it — or one a
/// later instruction of the waiter's unit touches that relies on this wait
/// (it waits on `T` no more itself: the lowering drops waits an earlier one
/// implies). No spurious order; a wait may still be implied through another
/// unit's chain.
fn assert_waits_are_the_dependencies(program: &Program) {
    isa::verify(program).unwrap_or_else(|e| panic!("{e}"));
    let h = &program.header;
    let streams: [Vec<Instr>; 3] = Unit::ALL.map(|u| program.stream(u).collect());
    let mut signallers: BTreeMap<(u32, u64), &Instr> = BTreeMap::new();
    for stream in &streams {
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        for instr in stream {
            for t in &instr.sync().signal {
                let c = counts.entry(t.0).or_default();
                *c += 1;
                signallers.insert((t.0, *c), instr);
            }
        }
    }
    let absolute = |a: &isa::Access| match a.place {
        isa::Place::Sram(at) => (
            false,
            h.regions
                .get(at.region)
                .unwrap()
                .address(at.slot, at.offset_bytes),
        ),
        isa::Place::Dram(addr) => (true, addr),
    };
    let conflict = |x: &Instr, y: &Instr| {
        x.accesses(h.element_bytes).iter().any(|a| {
            y.accesses(h.element_bytes).iter().any(|b| {
                let ((da, pa), (db, pb)) = (absolute(a), absolute(b));
                (a.write || b.write) && da == db && a.pattern.overlaps(pa, &b.pattern, pb)
            })
        })
    };
    let mut waits = 0;
    for (unit, stream) in Unit::ALL.iter().zip(&streams) {
        for (i, instr) in stream.iter().enumerate() {
            for w in &instr.sync().wait {
                let first = signallers[&(w.token.0, w.count)];
                let relying = std::iter::once(instr).chain(
                    stream[i + 1..]
                        .iter()
                        .take_while(|later| later.sync().wait.iter().all(|x| x.token != w.token)),
                );
                assert!(
                    relying.into_iter().any(|later| conflict(first, later)),
                    "{unit} instruction {i} waits for {w:?}, which touches none of the bytes it orders"
                );
                waits += 1;
            }
        }
    }
    assert!(waits > 0);
}

/// The two-slot plan of `gran`, spilled in chunks of `cols` keys.
fn two_slot_spilled(w: &Workload, gran: Gran, rows: Option<u64>, cols: u64) -> Program {
    let hw = tiny_hw(1 << 16);
    let s = spec(Dataflow::Flat, Some(gran), rows, Some(cols), true);
    let plan = Plan {
        spill: true,
        cols,
        ..compiler::resolve_plan(&hw, w, &s).unwrap()
    };
    assert_eq!(plan.score_slots, 2, "{}", plan.label());
    compiler::compile(&hw, w, &plan).unwrap()
}

#[test]
fn every_wait_is_a_real_dependency() {
    let w = Workload::new("t", 1, 2, 4, 2);
    assert_waits_are_the_dependencies(&two_slot_program(&w, Gran::R, Some(2)));
    assert_waits_are_the_dependencies(&two_slot_program(&w, Gran::H, None));
    assert_waits_are_the_dependencies(&two_slot_spilled(&w, Gran::R, Some(2), 2));
    let w = Workload::new("t", 2, 2, 6, 2);
    assert_waits_are_the_dependencies(&two_slot_program(&w, Gran::B, None));
    assert_waits_are_the_dependencies(&two_slot_program(&w, Gran::R, Some(4)));
    assert_waits_are_the_dependencies(&two_slot_spilled(&w, Gran::B, None, 4));
}

#[test]
fn spilled_tiles_stream_their_keys_then_the_previous_tiles_values() {
    // 2 heads × 3 row tiles, keys in 3 chunks of 2.
    let w = Workload::new("t", 1, 2, 6, 2);
    let program = two_slot_spilled(&w, Gran::R, Some(2), 2);
    let tiles = 2 * 3;
    let order: String = program
        .pe()
        .map(|g| if g.b_transposed { 'L' } else { 'A' })
        .collect();
    let want = format!("LLL{}AAA", "LLLAAA".repeat(tiles - 1));
    assert_eq!(order, want);
    assert!(max_error(&program) < 1e-9);
    assert_exactly_once(&coverage(&program), &w);
}

#[test]
fn pe_array_runs_the_next_scores_before_this_tiles_context() {
    // 2 batches × 2 heads × 3 row tiles: the pipeline runs across heads and batches.
    let w = Workload::new("t", 2, 2, 6, 2);
    let program = two_slot_program(&w, Gran::R, Some(2));
    let tiles = 2 * 2 * 3;
    let order: String = program
        .pe()
        .map(|g| if g.b_transposed { 'L' } else { 'A' })
        .collect();
    let want = format!("L{}A", "LA".repeat(tiles - 1));
    assert_eq!(order, want);
    // Consecutive tiles' scores go to alternating slots; A reads its tile's slot.
    let slots: Vec<(char, u32)> = program
        .pe()
        .map(|g| {
            if g.b_transposed {
                ('L', g.c.at.slot)
            } else {
                ('A', g.a.at.slot)
            }
        })
        .collect();
    let l_slots: Vec<u32> = slots.iter().filter(|s| s.0 == 'L').map(|s| s.1).collect();
    let a_slots: Vec<u32> = slots.iter().filter(|s| s.0 == 'A').map(|s| s.1).collect();
    let alternating: Vec<u32> = (0..tiles as u32).map(|i| i % 2).collect();
    assert_eq!(l_slots, alternating);
    assert_eq!(a_slots, alternating);
    assert!(max_error(&program) < 1e-9);
}

#[test]
fn one_and_two_slots_compute_the_same_attention() {
    let w = Workload::new("t", 2, 2, 8, 4);
    let hw = tiny_hw(1 << 16);
    for (gran, rows) in [(Gran::B, None), (Gran::H, None), (Gran::R, Some(3))] {
        let resolved = compiler::resolve_plan(
            &hw,
            &w,
            &spec(Dataflow::Flat, Some(gran), rows, None, false),
        )
        .unwrap();
        for slots in [1, 2] {
            let plan = Plan {
                score_slots: slots,
                ..resolved
            };
            let program = compiler::compile(&hw, &w, &plan).unwrap();
            isa::verify(&program).unwrap_or_else(|e| panic!("{}: {e}", plan.label()));
            assert_exactly_once(&coverage(&program), &w);
            let err = max_error(&program);
            assert!(err < 1e-9, "{}: max error {err}", plan.label());
            let regions = &program.header.regions;
            let l = regions.get(regions.by_name("l").unwrap()).unwrap();
            assert_eq!(l.slots, slots, "{}", plan.label());
        }
    }
}

fn cloud(overrides: &[&str]) -> HwConfig {
    let overrides: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
    HwConfig::parse(
        "cloud",
        hwconfig::builtin_preset("cloud").unwrap(),
        &overrides,
    )
    .unwrap()
}

/// Cloud, BERT, N = 4096, flat R = 512 with `--mapping auto`.
fn bert_4096_r512() -> (Workload, DataflowSpec) {
    let w = Workload::load("bert", Some(1), Some(4096)).unwrap();
    let spec = DataflowSpec {
        gran: Some(Gran::R),
        rows: Some(512),
        mapping: Mapping::Auto,
        ..DataflowSpec::new(Dataflow::Flat)
    };
    (w, spec)
}

#[test]
fn the_estimate_adds_pe_and_vector_time_unless_they_overlap() {
    let hw = cloud(&[]);
    let (w, spec) = bert_4096_r512();
    let ranked = compiler::rank_plans(&hw, &w, &spec).unwrap();
    let find = |slots: u32| {
        ranked
            .iter()
            .find(|r| {
                r.plan.score_slots == slots
                    && r.plan.l_dataflow == hw.pe_array.dataflow
                    && r.plan.a_dataflow == hw.pe_array.dataflow
            })
            .and_then(|r| r.estimate)
            .unwrap()
    };
    let (one, two) = (find(1), find(2));
    // Same work either way; only how it adds up differs.
    assert_eq!(
        (one.pe_cycles, one.vector_cycles, one.dram_cycles),
        (two.pe_cycles, two.vector_cycles, two.dram_cycles)
    );
    assert_eq!(one.cycles, one.pe_cycles + one.vector_cycles);
    assert_eq!(one.bound.as_str(), "pe+vector");
    assert_eq!(
        two.cycles,
        two.pe_cycles.max(two.vector_cycles).max(two.dram_cycles)
    );
    // FuseMax's accounting: 256 lanes make softmax the bottleneck.
    assert_eq!(two.bound.as_str(), "vector");
    assert!(two.cycles < one.cycles);
    let best = compiler::resolve_plan(&hw, &w, &spec).unwrap();
    assert_eq!(best.score_slots, 2, "{}", best.label());
}

#[test]
fn an_ideal_vector_unit_gains_nothing_from_the_second_slot() {
    let hw = cloud(&["vector.ideal=true"]);
    let (w, spec) = bert_4096_r512();
    let ranked = compiler::rank_plans(&hw, &w, &spec).unwrap();
    let best = &ranked[0];
    // Equal estimates and DRAM bytes; the smaller footprint (one slot) ranks first.
    let twin = ranked
        .iter()
        .find(|r| {
            r.plan
                == Plan {
                    score_slots: 2,
                    ..best.plan
                }
        })
        .unwrap();
    assert_eq!(best.plan.score_slots, 1);
    assert_eq!(best.estimate.unwrap().cycles, twin.estimate.unwrap().cycles);
    assert!(best.footprint.total_bytes() < twin.footprint.total_bytes());
}

#[test]
fn the_fixed_mapping_falls_back_to_one_slot_when_two_do_not_fit() {
    let hw = cloud(&[]);
    // N = 16384, R = 512: Table 2 needs 25.4 MB of 32 MiB; a second 16 MiB slot does not fit.
    let w = Workload::load("bert", Some(1), Some(16384)).unwrap();
    let at = |rows| {
        compiler::resolve_plan(
            &hw,
            &w,
            &DataflowSpec {
                gran: Some(Gran::R),
                rows: Some(rows),
                ..DataflowSpec::new(Dataflow::Flat)
            },
        )
        .unwrap()
    };
    assert_eq!(at(512).score_slots, 1);
    // R = 256: 12.7 MB of Table 2 plus an 8 MiB second slot fit.
    assert_eq!(at(256).score_slots, 2);
}
