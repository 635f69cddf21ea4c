//! `--emit footprint` rows match FLAT's Table 2 (× element bytes), within
//! the separately listed extras, for every granularity on BERT and XLM.

use compiler::report::{footprint_row, FOOTPRINT_HEADER};
use compiler::{Dataflow, DataflowSpec, Gran, Mapping, Workload};
use hwconfig::HwConfig;

fn column(row: &str, name: &str) -> String {
    let i = FOOTPRINT_HEADER.split(',').position(|c| c == name).unwrap();
    row.split(',').nth(i).unwrap().to_owned()
}

/// With grouped KV heads and in decode, Table 2's count (K and V once per
/// KV head, the group's query heads per tile) is what the buffers hold.
#[test]
fn grouped_and_decode_footprints_match_table_2() {
    let hw = HwConfig::parse("cloud", hwconfig::builtin_preset("cloud").unwrap(), &[]).unwrap();
    let decode = compiler::WorkloadFlags {
        phase: Some(compiler::Phase::Decode),
        kv_len: Some(4095),
        query_len: Some(3),
        ..Default::default()
    };
    let prefill = compiler::WorkloadFlags {
        seq_len: Some(2048),
        ..Default::default()
    };
    for flags in [decode, prefill] {
        let w = Workload::load_with("qwen2-7b", &flags).unwrap();
        for gran in [Gran::M, Gran::B, Gran::H, Gran::R] {
            let spec = DataflowSpec {
                gran: Some(gran),
                spill: Some(false),
                ..DataflowSpec::new(Dataflow::Flat)
            };
            let (plan, fp) = compiler::plan_with_footprint(&hw, &w, &spec).unwrap();
            let row = footprint_row(&plan, &fp, &compiler::problem(&hw, &w), None);
            let table2: u64 = column(&row, "table2_bytes").parse().unwrap();
            assert_eq!(table2, fp.main_bytes(), "{gran} {row}");
        }
    }
}

#[test]
fn flat_footprints_match_table_2() {
    let hw = HwConfig::edge();
    for model in ["bert", "xlm"] {
        for n in [512u64, 4096, 65536] {
            let w = Workload::load(model, Some(1), Some(n)).unwrap();
            let (b, h, d, hidden) = (w.batch, w.heads, w.head_dim, w.hidden);
            for (gran, rows) in [(Gran::M, n), (Gran::B, n), (Gran::H, n), (Gran::R, 64)] {
                let spec = DataflowSpec {
                    gran: Some(gran),
                    rows: (gran == Gran::R).then_some(rows),
                    // Table 2 counts resident K and V.
                    spill: Some(false),
                    ..DataflowSpec::new(Dataflow::Flat)
                };
                let (plan, fp) = compiler::plan_with_footprint(&hw, &w, &spec).unwrap();
                let row = footprint_row(&plan, &fp, &compiler::problem(&hw, &w), None);
                // FLAT Table 2, in elements, written out independently of the compiler.
                let elements = match gran {
                    Gran::M => 8 * b * hidden * n + b * h * n * n,
                    Gran::B => 8 * hidden * n + h * n * n,
                    Gran::H => 8 * n * d + n * n,
                    Gran::R => 4 * rows * d + 4 * n * d + rows * n,
                };
                let bytes = elements * 2;
                let total: u64 = column(&row, "footprint_bytes").parse().unwrap();
                let extra: u64 = column(&row, "extra_bytes").parse().unwrap();
                assert_eq!(
                    column(&row, "table2_bytes"),
                    bytes.to_string(),
                    "{model} N={n} {gran}: {row}"
                );
                assert_eq!(total - extra, bytes, "{model} N={n} {gran}: {row}");
                // The extras are the per-row maxima and sums (2 elements per score
                // row) and, with two score slots, the second slot (N per score row).
                let score_rows = match gran {
                    Gran::M => b * h * n,
                    Gran::B => h * n,
                    Gran::H => n,
                    Gran::R => rows,
                };
                let slots: u64 = column(&row, "score_slots").parse().unwrap();
                assert_eq!(slots, u64::from(plan.score_slots));
                let second_slot = (slots - 1) * score_rows * n;
                assert_eq!(
                    extra,
                    (2 * score_rows + second_slot) * 2,
                    "{model} N={n} {gran}"
                );
                // Two slots whenever they fit (m is a single step: one slot).
                let two = compiler::Plan {
                    score_slots: 2,
                    ..plan
                };
                let two_fit = compiler::footprint(&hw, &w, &two).fits();
                assert_eq!(
                    plan.score_slots,
                    if gran != Gran::M && two_fit { 2 } else { 1 },
                    "{model} N={n} {gran}"
                );
                let fits = total <= hw.sram.capacity_bytes && column(&row, "fits") == "true";
                assert_eq!(column(&row, "fits"), fits.to_string(), "{row}");
            }
        }
    }
}

#[test]
fn flash_footprint_is_independent_of_n() {
    let hw = HwConfig::edge();
    let fps: Vec<u64> = [512u64, 4096, 65536]
        .iter()
        .map(|&n| {
            let w = Workload::load("bert", None, Some(n)).unwrap();
            let spec = DataflowSpec {
                rows: Some(64),
                cols: Some(64),
                ..DataflowSpec::new(Dataflow::Flash)
            };
            compiler::plan_with_footprint(&hw, &w, &spec)
                .unwrap()
                .1
                .total_bytes()
        })
        .collect();
    assert!(fps.windows(2).all(|p| p[0] == p[1]), "{fps:?}");
}

#[test]
fn refusal_names_required_and_available_bytes() {
    let hw = HwConfig::edge();
    let w = Workload::load("bert", None, Some(4096)).unwrap();
    let spec = DataflowSpec {
        gran: Some(Gran::H),
        spill: Some(false),
        ..DataflowSpec::new(Dataflow::Flat)
    };
    let err = compiler::resolve_plan(&hw, &w, &spec)
        .unwrap_err()
        .to_string();
    // H: 8·4096·64 + 4096² elements = 37.7 MB of 2-byte elements, + 2·4096·2 bytes of extras.
    let required = (8 * 4096 * 64 + 4096 * 4096) * 2 + 2 * 4096 * 2;
    assert!(
        err.contains(&format!(
            "needs {required} bytes of SRAM, 524288 are available"
        )),
        "{err}"
    );
    assert!(err.contains("allow spilling (--spill"), "{err}");
}

#[test]
fn auto_mapping_ranks_fitting_plans_by_estimate() {
    let hw = HwConfig::parse("cloud", hwconfig::builtin_preset("cloud").unwrap(), &[]).unwrap();
    let w = Workload::load("bert", Some(1), Some(4096)).unwrap();
    let spec = DataflowSpec {
        mapping: Mapping::Auto,
        ..DataflowSpec::new(Dataflow::Flat)
    };
    let ranked = compiler::rank_plans(&hw, &w, &spec).unwrap();
    let fitting: Vec<u64> = ranked
        .iter()
        .filter_map(|r| r.estimate.map(|e| e.cycles))
        .collect();
    assert!(!fitting.is_empty());
    assert!(
        fitting.windows(2).all(|p| p[0] <= p[1]),
        "sorted by estimate"
    );
    // Fitting plans come first; the rest do not fit.
    let first_refused = ranked
        .iter()
        .position(|r| r.estimate.is_none())
        .unwrap_or(ranked.len());
    assert!(ranked[first_refused..].iter().all(|r| !r.footprint.fits()));
    assert!(ranked[..first_refused].iter().all(|r| r.footprint.fits()));
    let best = compiler::resolve_plan(&hw, &w, &spec).unwrap();
    assert_eq!(best, ranked[0].plan);
    // The estimate never beats the ideal PE time: B·H·N²·2d MACs on 256×256 PEs.
    let ideal = 12 * 4096u64 * 4096 * 2 * 64 / (256 * 256);
    assert!(fitting[0] >= ideal, "{} < {ideal}", fitting[0]);
}
