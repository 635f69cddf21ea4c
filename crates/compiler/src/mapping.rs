//! Plan resolution: the fixed plan of the flags and defaults, and the
//! ranked search of `--mapping auto`, in one place for every command.

use crate::estimate::{estimate, Estimate};
use crate::footprint::Footprint;
use crate::ir::Problem;
use crate::lower::{census, TokenPlan};
use crate::plan::{Dataflow, DataflowSpec, Gran, Mapping, Plan};
use crate::{CompileError, Workload};
use hwconfig::{HwConfig, PeDataflow};
use std::cmp::Reverse;

/// A candidate plan with its footprint and, when it fits, its estimate.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub plan: Plan,
    pub footprint: Footprint,
    pub estimate: Option<Estimate>,
    /// Index of the tiling in the search: candidates with the same index
    /// differ only in their GEMM dataflows.
    pub tiling: usize,
}

pub(crate) fn problem(hw: &HwConfig, w: &Workload) -> Problem {
    Problem {
        batch: w.batch,
        heads: w.heads,
        kv_heads: w.kv_heads,
        seq_len: w.keys(),
        queries: w.queries(),
        mask: isa::reference::AttentionMask {
            causal: w.mask == crate::Mask::Causal,
            window: w.window,
        },
        head_dim: w.head_dim,
        element_bytes: hw.core.element_bytes,
    }
}

fn footprint(hw: &HwConfig, p: &Problem, plan: &Plan) -> Footprint {
    Footprint::of(&crate::build::loop_nest(p, plan, &hw.sram), &hw.sram)
}

fn flag_error(flag: &str, reason: &str) -> CompileError {
    CompileError::Flag {
        flag: flag.to_owned(),
        reason: reason.to_owned(),
    }
}

fn check_flags(spec: &DataflowSpec) -> Result<(), CompileError> {
    for (flag, value) in [("--rows", spec.rows), ("--cols", spec.cols)] {
        if value == Some(0) {
            return Err(flag_error(flag, "must be positive, found 0"));
        }
    }
    if spec.gran.is_some() && spec.dataflow != Dataflow::Flat {
        return Err(flag_error("--gran", "applies to --dataflow flat only"));
    }
    if spec.dataflow == Dataflow::Flat
        && spec.rows.is_some()
        && spec.gran.is_some_and(|g| g != Gran::R)
    {
        return Err(flag_error(
            "--rows",
            "applies to --gran r only (m, b and h cover all N rows)",
        ));
    }
    Ok(())
}

/// Whether plans may stream K and V (flat) from DRAM: the flag, else the
/// workload file, else yes — spilling is part of the plan space unless
/// `--spill false` or `spill = false` forbids it.
fn allow_spill(spec: &DataflowSpec, w: &Workload) -> bool {
    spec.spill.or(w.spill).unwrap_or(true)
}

/// The largest power of two ≤ `x` (x ≥ 1).
fn floor_pow2(x: u64) -> u64 {
    1 << (63 - x.leading_zeros())
}

/// The largest `v` in `step, 2·step, …, ≤ hi` with `fits(v)`, if any, for a
/// `fits` that holds up to some size and not beyond (footprints grow with
/// every tile edge).
fn largest_fitting(step: u64, hi: u64, fits: impl Fn(u64) -> bool) -> Option<u64> {
    let (mut lo, mut top) = (1, hi / step);
    if top < lo || !fits(step) {
        return None;
    }
    // Invariant: fits(lo · step), !fits((top + 1) · step).
    while lo < top {
        let mid = (lo + top).div_ceil(2);
        if fits(mid * step) {
            lo = mid;
        } else {
            top = mid - 1;
        }
    }
    Some(lo * step)
}

/// Unfused, fixed mapping: scores in SRAM when that fits, else in DRAM with
/// the largest power-of-two softmax row block that fits.
/// With grouped KV heads the scores always go to DRAM: a row tile of the
/// group's query heads is not one matrix of the all-heads score buffer.
fn place_scores(hw: &HwConfig, p: &Problem, mut plan: Plan) -> (Plan, Footprint) {
    plan.scores_in_sram = true;
    plan.softmax_rows = plan.rows;
    if p.group() == 1 {
        let fp = footprint(hw, p, &plan);
        if fp.fits() {
            return (plan, fp);
        }
    }
    plan.scores_in_sram = false;
    let mut rows = floor_pow2(plan.rows);
    loop {
        plan.softmax_rows = rows;
        let fp = footprint(hw, p, &plan);
        if fp.fits() || rows == 1 {
            return (plan, fp);
        }
        rows /= 2;
    }
}

/// Unfused, searched: every score placement — in SRAM, and in DRAM with
/// softmax row blocks of every power of two up to the largest block that
/// fits, and that block itself.
fn score_placements(hw: &HwConfig, p: &Problem, tiling: Plan) -> Vec<Plan> {
    let in_sram = Plan {
        scores_in_sram: true,
        softmax_rows: tiling.rows,
        ..tiling
    };
    let in_dram = |softmax_rows| Plan {
        scores_in_sram: false,
        softmax_rows,
        ..tiling
    };
    // Grouped KV heads keep their scores in DRAM (see [`place_scores`]).
    let mut out = if p.group() == 1 {
        vec![in_sram]
    } else {
        Vec::new()
    };
    let largest = largest_fitting(1, p.queries, |r| footprint(hw, p, &in_dram(r)).fits());
    match largest {
        Some(top) => {
            let mut rows: Vec<u64> =
                std::iter::successors(Some(1), |&x| (x * 2 <= top).then_some(x * 2)).collect();
            rows.push(top);
            rows.dedup();
            out.extend(rows.into_iter().map(in_dram));
        }
        // Nothing fits: the smallest block, so a refusal names its footprint.
        None => out.push(in_dram(1)),
    }
    out
}

fn base_plan(hw: &HwConfig, p: &Problem, spec: &DataflowSpec) -> Plan {
    let n = p.seq_len;
    let tile = Plan::default_tile(hw, n);
    let gran = (spec.dataflow == Dataflow::Flat).then(|| spec.gran.unwrap_or(Gran::R));
    let rows = match gran {
        Some(Gran::R) | None => spec.rows.unwrap_or(tile).min(n),
        Some(_) => n,
    };
    let cols = match spec.dataflow {
        Dataflow::Flat => n,
        _ => spec.cols.unwrap_or(tile).min(n),
    };
    let df = hw.pe_array.dataflow;
    Plan {
        dataflow: spec.dataflow,
        gran,
        rows,
        cols,
        l_dataflow: df,
        a_dataflow: df,
        spill: false,
        scores_in_sram: false,
        softmax_rows: rows,
        score_slots: 1,
    }
}

/// Whether a second score slot can overlap the PE array and the vector
/// unit: flat with tile loops (granularity m is a single step).
fn can_pipeline(plan: &Plan) -> bool {
    plan.dataflow == Dataflow::Flat && plan.gran != Some(Gran::M)
}

/// Completes a fixed `plan` (score placement, a second score slot when it
/// fits, spilling) and returns it with its footprint.
fn finish(
    hw: &HwConfig,
    p: &Problem,
    plan: Plan,
    allow_spill: bool,
    chunk: Option<u64>,
) -> (Plan, Footprint) {
    match plan.dataflow {
        Dataflow::Unfused => place_scores(hw, p, plan),
        Dataflow::Flash => (plan, footprint(hw, p, &plan)),
        Dataflow::Flat => {
            let (plan, fp) = choose_slots(hw, p, plan);
            if fp.fits() || !allow_spill {
                return (plan, fp);
            }
            let spilled = Plan {
                spill: true,
                cols: chunk
                    .unwrap_or_else(|| Plan::default_tile(hw, p.seq_len))
                    .min(p.seq_len),
                ..plan
            };
            choose_slots(hw, p, spilled)
        }
    }
}

/// `plan` (one score slot) with two score slots when they fit, else as is.
fn choose_slots(hw: &HwConfig, p: &Problem, plan: Plan) -> (Plan, Footprint) {
    if can_pipeline(&plan) {
        let pipelined = Plan {
            score_slots: 2,
            ..plan
        };
        let fp = footprint(hw, p, &pipelined);
        if fp.fits() {
            return (pipelined, fp);
        }
    }
    (plan, footprint(hw, p, &plan))
}

/// The SRAM capacity `plan` needs: its regions placed in an unbounded
/// scratchpad of the same banks, rounded up to the bank stripe (capacities
/// are multiples of it).
fn capacity_needed(hw: &HwConfig, p: &Problem, plan: &Plan) -> u64 {
    let stripe = hw.sram.banks * hw.sram.bank_width_bytes;
    let unbounded = hwconfig::Sram {
        capacity_bytes: (u64::MAX / 4) / stripe * stripe,
        ..hw.sram.clone()
    };
    let nest = crate::build::loop_nest(p, plan, &unbounded);
    crate::program::allocate(&nest, &unbounded)
        .map_or(u64::MAX, |t| t.allocated_bytes())
        .div_ceil(stripe)
        * stripe
}

/// `bytes` in KiB for messages (one decimal unless whole).
fn kib(bytes: u64) -> String {
    if bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// The largest buffer of a footprint, as `name (what) N bytes`.
fn dominant_buffer(fp: &Footprint) -> String {
    fp.tensors
        .iter()
        .max_by_key(|t| t.bytes)
        .map(|t| format!("buffer `{}` ({}) {} bytes", t.name, t.what, t.bytes))
        .unwrap_or_default()
}

fn fixed_refusal(
    hw: &HwConfig,
    p: &Problem,
    plan: &Plan,
    fp: &Footprint,
    allow_spill: bool,
) -> CompileError {
    let mut ways = Vec::new();
    if plan.dataflow == Dataflow::Flat && !allow_spill {
        ways.push("allow spilling (--spill; it streams K and V from DRAM)".to_owned());
    }
    ways.push("let --mapping auto search the tile sizes".to_owned());
    ways.push(format!(
        "set sram.capacity_bytes ≥ {}",
        capacity_needed(hw, p, plan)
    ));
    CompileError::DoesNotFit {
        plan: plan.label(),
        required_bytes: fp.total_bytes(),
        capacity_bytes: fp.capacity_bytes,
        detail: format!(
            "{}; {}",
            fp.refusal
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            or_list(&ways)
        ),
    }
}

/// `a, b, or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, or {last}", init.join(", ")),
    }
}

/// The refusal of a search that found no fitting plan: the smallest
/// footprint it saw, the buffer that dominates it, and what would fit.
fn nothing_fits(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
    ranked: &[Ranked],
) -> CompileError {
    let p = problem(hw, w);
    let smallest = ranked
        .iter()
        .min_by_key(|r| r.footprint.total_bytes())
        .expect("the search always has a candidate");
    let mut ways = Vec::new();
    if spec.dataflow == Dataflow::Flat && !allow_spill(spec, w) {
        ways.push("allow spilling (--spill)".to_owned());
    }
    let searched = |s: &DataflowSpec| {
        rank(hw, w, s).is_ok_and(|r| r.first().is_some_and(|c| c.estimate.is_some()))
    };
    let free = DataflowSpec {
        gran: None,
        rows: None,
        cols: None,
        mapping: Mapping::Auto,
        ..spec.clone()
    };
    if free
        != (DataflowSpec {
            mapping: Mapping::Auto,
            ..spec.clone()
        })
        && searched(&free)
    {
        ways.push("search every tile size (drop --gran, --rows, --cols)".to_owned());
    }
    for other in Dataflow::ALL.iter().filter(|&&d| d != spec.dataflow) {
        let alternative = DataflowSpec {
            dataflow: *other,
            ..free.clone()
        };
        if searched(&alternative) {
            ways.push(format!("use --dataflow {other}"));
        }
    }
    let needed = capacity_needed(hw, &p, &smallest.plan);
    ways.push(format!("set sram.capacity_bytes ≥ {needed}"));
    CompileError::NothingFits {
        dataflow: spec.dataflow.to_string(),
        capacity: kib(hw.sram.capacity_bytes),
        smallest_bytes: smallest.footprint.total_bytes(),
        smallest: format!(
            "{}; {}",
            smallest.plan.label(),
            dominant_buffer(&smallest.footprint)
        ),
        ways_out: or_list(&ways),
    }
}

/// The plan the flags and defaults describe (fixed mapping), with its
/// footprint, whether or not it fits.
pub fn candidate(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
) -> Result<(Plan, Footprint), CompileError> {
    check_flags(spec)?;
    let p = problem(hw, w);
    Ok(fixed(hw, &p, spec, allow_spill(spec, w)))
}

/// The fixed plan of the flags and defaults. With grouped KV heads a row
/// tile stacks the g query heads of its KV head, so when the default R
/// (the PE rows) does not fit, it is halved until it does.
fn fixed(hw: &HwConfig, p: &Problem, spec: &DataflowSpec, allow_spill: bool) -> (Plan, Footprint) {
    let mut base = base_plan(hw, p, spec);
    loop {
        let (plan, fp) = finish(hw, p, base, allow_spill, spec.cols);
        let row_tiled = plan.gran.is_none_or(|g| g == Gran::R);
        if fp.fits() || p.group() == 1 || spec.rows.is_some() || !row_tiled || base.rows == 1 {
            return (plan, fp);
        }
        base.rows /= 2;
        base.softmax_rows = base.rows;
    }
}

/// The plans worth simulating, best first: the fixed plan of the flags, or
/// the best-ranked plan of each of the `k` best-ranked tilings (so the
/// simulated candidates differ in tiling, not only in GEMM dataflow).
/// Refuses when nothing fits, with the numbers and the ways out. Every
/// command resolves its plans here.
pub fn shortlist(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
    k: usize,
) -> Result<Vec<Plan>, CompileError> {
    check_flags(spec)?;
    match spec.mapping {
        Mapping::Fixed => {
            let p = problem(hw, w);
            let allow = allow_spill(spec, w);
            let (plan, fp) = fixed(hw, &p, spec, allow);
            if fp.fits() {
                Ok(vec![plan])
            } else {
                Err(fixed_refusal(hw, &p, &plan, &fp, allow))
            }
        }
        Mapping::Auto => {
            let ranked = rank(hw, w, spec)?;
            let mut tilings = Vec::new();
            let mut out = Vec::new();
            for r in ranked.iter().take_while(|r| r.estimate.is_some()) {
                if out.len() == k.max(1) {
                    break;
                }
                if !tilings.contains(&r.tiling) {
                    tilings.push(r.tiling);
                    out.push(r.plan);
                }
            }
            if out.is_empty() {
                return Err(nothing_fits(hw, w, spec, &ranked));
            }
            Ok(out)
        }
    }
}

/// The plan to compile: the fixed plan, or the best-ranked candidate of
/// `--mapping auto` (commands that simulate pick among [`shortlist`]).
pub fn resolve(hw: &HwConfig, w: &Workload, spec: &DataflowSpec) -> Result<Plan, CompileError> {
    Ok(shortlist(hw, w, spec, 1)?[0])
}

/// Tile sizes from `lo` to `hi`: powers of two, the midpoints 1.5 × 2^k
/// between them, the multiples of `step` (the PE array's edge) up to
/// 8 · `step`, and `hi` itself (N: one tile). The best tile at large N is
/// often between two powers of two (the score buffer bounds it), and a
/// multiple of the array edge fills every fold.
fn tile_sizes(lo: u64, hi: u64, step: u64) -> Vec<u64> {
    let lo = lo.min(hi);
    let pow2 = std::iter::successors(Some(lo), |&x| (x * 2 <= hi).then_some(x * 2));
    let mut out: Vec<u64> = pow2.flat_map(|x| [x, x + x / 2]).collect();
    out.extend((1..=8).map(|i| i * step));
    out.push(hi);
    out.retain(|&x| x >= lo && x <= hi);
    out.sort_unstable();
    out.dedup();
    out
}

/// Granularity of the largest fitting flat row tile: whole multiples of 16
/// rows split evenly over PE-array folds of 16 and more.
const ROW_STEP: u64 = 16;

/// Flat's tilings: every granularity (or the one given); resident K and V,
/// or (when allowed) streamed in chunks of C keys; one or two score slots;
/// at R granularity every row tile of [`tile_sizes`] plus the largest that
/// fits each shape.
fn flat_tilings(hw: &HwConfig, p: &Problem, spec: &DataflowSpec, allow_spill: bool) -> Vec<Plan> {
    let n = p.seq_len;
    let base = base_plan(hw, p, spec);
    let fixed_or = |flag: Option<u64>, range: Vec<u64>| flag.map_or(range, |v| vec![v.min(n)]);
    // Row tiles: up to the query rows (decode has few), and down to 16
    // rows of stacked query heads (a group of g heads stacks g·R rows).
    let (nq, min_rows) = (p.queries, (16 / p.group()).max(1));
    let grans = spec
        .gran
        .map_or(vec![Gran::M, Gran::B, Gran::H, Gran::R], |g| vec![g]);
    let mut out = Vec::new();
    for gran in grans {
        let mut kv = vec![(false, n)];
        if allow_spill {
            let chunks = fixed_or(spec.cols, tile_sizes(64, n, hw.pe_array.cols));
            kv.extend(chunks.into_iter().map(|c| (true, c)));
        }
        for (spill, cols) in kv {
            for score_slots in [1, 2] {
                let shape = Plan {
                    gran: Some(gran),
                    rows: n,
                    cols,
                    spill,
                    score_slots,
                    ..base
                };
                if score_slots == 2 && !can_pipeline(&shape) {
                    continue;
                }
                let rows = match (gran, spec.rows) {
                    (Gran::R, Some(r)) => vec![r.min(n)],
                    (Gran::R, None) => {
                        let mut rows = tile_sizes(min_rows, nq, hw.pe_array.rows);
                        rows.extend(largest_fitting(ROW_STEP, nq, |rows| {
                            footprint(hw, p, &Plan { rows, ..shape }).fits()
                        }));
                        rows.sort_unstable();
                        rows.dedup();
                        rows
                    }
                    _ => vec![n],
                };
                out.extend(rows.into_iter().map(|rows| Plan { rows, ..shape }));
            }
        }
    }
    out
}

/// Flash and unfused tilings: row tiles × key blocks of [`tile_sizes`] (up
/// to N), plus for each row tile the largest key block (a multiple of 16)
/// that fits; unfused with every score placement of each.
fn block_tilings(hw: &HwConfig, p: &Problem, spec: &DataflowSpec) -> Vec<Plan> {
    let n = p.seq_len;
    let base = base_plan(hw, p, spec);
    // Row tiles as for flat: up to the query rows, down to 16 stacked rows.
    let (nq, min_rows) = (p.queries, (16 / p.group()).max(1));
    let rows = spec.rows.map_or_else(
        || tile_sizes(min_rows, nq, hw.pe_array.rows),
        |r| vec![r.min(n)],
    );
    let mut out = Vec::new();
    for r in rows {
        let cols = match spec.cols {
            Some(c) => vec![c.min(n)],
            None => {
                let mut cols = tile_sizes(16, n, hw.pe_array.cols);
                if spec.dataflow == Dataflow::Flash {
                    let at = |cols| Plan {
                        rows: r,
                        cols,
                        ..base
                    };
                    cols.extend(largest_fitting(ROW_STEP, n, |c| {
                        footprint(hw, p, &at(c)).fits()
                    }));
                    cols.sort_unstable();
                    cols.dedup();
                }
                cols
            }
        };
        for c in cols {
            let tiling = Plan {
                rows: r,
                cols: c,
                softmax_rows: r,
                ..base
            };
            match spec.dataflow {
                Dataflow::Unfused => out.extend(score_placements(hw, p, tiling)),
                _ => out.push(tiling),
            }
        }
    }
    out
}

/// The order of GEMM dataflows among otherwise equal plans: the array's
/// configured dataflow first, then os, ws, is.
fn dataflow_order(hw: &HwConfig, df: PeDataflow) -> (bool, usize) {
    (
        df != hw.pe_array.dataflow,
        PeDataflow::ALL.iter().position(|&d| d == df).unwrap_or(0),
    )
}

/// Every legal plan for `spec` (flags that are given stay fixed) with
/// footprints and estimates: fitting plans first, then by the documented
/// order (`docs/compiler.md`, "Plan ranking"): estimated cycles, estimated
/// DRAM cycles, estimated PE cycles, instructions, footprint, then the
/// plan's shape.
pub fn rank(hw: &HwConfig, w: &Workload, spec: &DataflowSpec) -> Result<Vec<Ranked>, CompileError> {
    check_flags(spec)?;
    let p = problem(hw, w);
    let tilings = match spec.dataflow {
        Dataflow::Flat => flat_tilings(hw, &p, spec, allow_spill(spec, w)),
        Dataflow::Flash | Dataflow::Unfused => block_tilings(hw, &p, spec),
    };
    let mut out = Vec::new();
    for (tiling, plan) in tilings.into_iter().enumerate() {
        let fp = footprint(hw, &p, &plan);
        if !fp.fits() {
            out.push(Ranked {
                plan,
                footprint: fp,
                estimate: None,
                tiling,
            });
            continue;
        }
        let nest = crate::build::loop_nest(&p, &plan, &hw.sram);
        let phases = crate::estimate::phase_censuses(&nest, |n| census(n, &TokenPlan::new(n)));
        for l in PeDataflow::ALL {
            for a in PeDataflow::ALL {
                let plan = Plan {
                    l_dataflow: *l,
                    a_dataflow: *a,
                    ..plan
                };
                out.push(Ranked {
                    plan,
                    footprint: fp.clone(),
                    estimate: Some(estimate(hw, &phases, &plan)),
                    tiling,
                });
            }
        }
    }
    // Among equally fast plans the one moving fewer DRAM bytes wins (less
    // energy, less exposed to DRAM timing the estimate does not see: a
    // vector-bound flat plan that re-streams K and V ties with one that
    // keeps them, but is slower on a real DRAM), then the one leaving the
    // PE array more slack, then fewer instructions (fewer DRAM latencies
    // and synchronisations), then the smaller footprint; the plan's shape
    // settles the rest, so the same inputs always choose the same plan.
    out.sort_by_key(|r| {
        let e = r.estimate;
        let q = &r.plan;
        (
            e.is_none(),
            e.map_or(u64::MAX, |e| e.cycles),
            e.map_or(u64::MAX, |e| e.dram_cycles),
            e.map_or(u64::MAX, |e| e.pe_cycles),
            e.map_or(u64::MAX, |e| e.instructions),
            r.footprint.total_bytes(),
            (
                q.spill,
                Reverse(q.rows),
                Reverse(q.cols),
                q.score_slots,
                !q.scores_in_sram,
                Reverse(q.softmax_rows),
                q.gran.map(|g| Gran::ALL.iter().position(|&x| x == g)),
                dataflow_order(hw, q.l_dataflow),
                dataflow_order(hw, q.a_dataflow),
            ),
        )
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(name: &str, overrides: &[String]) -> HwConfig {
        HwConfig::parse(name, hwconfig::builtin_preset(name).unwrap(), overrides).unwrap()
    }

    fn auto(dataflow: Dataflow) -> DataflowSpec {
        DataflowSpec {
            mapping: Mapping::Auto,
            ..DataflowSpec::new(dataflow)
        }
    }

    #[test]
    fn the_largest_fitting_row_tile_fits_and_one_step_more_does_not() {
        let hw = preset("edge", &[]);
        let w = Workload::new("w", 1, 12, 4096, 64);
        let p = problem(&hw, &w);
        let shape = Plan {
            gran: Some(Gran::R),
            spill: true,
            cols: 256,
            ..base_plan(&hw, &p, &DataflowSpec::new(Dataflow::Flat))
        };
        let fits = |rows| footprint(&hw, &p, &Plan { rows, ..shape }).fits();
        let rows = largest_fitting(ROW_STEP, p.seq_len, fits).expect("a spilled R plan fits");
        assert_eq!(rows % ROW_STEP, 0);
        assert!(fits(rows));
        assert!(!fits(rows + ROW_STEP));
        // Resident K and V (2 MB) never fit 512 KiB.
        let resident = Plan {
            spill: false,
            ..shape
        };
        let fits = |rows| footprint(&hw, &p, &Plan { rows, ..resident }).fits();
        assert_eq!(largest_fitting(ROW_STEP, p.seq_len, fits), None);
    }

    #[test]
    fn equally_fast_plans_prefer_fewer_dram_bytes() {
        // Edge, real softmax: flat is vector-bound, so re-streaming K and V
        // costs no estimated time; the plan that keeps them must rank first.
        let hw = preset("edge", &[]);
        let w = Workload::new("w", 1, 12, 512, 64);
        let ranked = rank(&hw, &w, &auto(Dataflow::Flat)).unwrap();
        let best = &ranked[0];
        let best_estimate = best.estimate.unwrap();
        let tied_spilled = ranked
            .iter()
            .find(|r| r.plan.spill && r.estimate.is_some_and(|e| e.cycles == best_estimate.cycles));
        assert!(
            tied_spilled.is_some(),
            "the case needs a spilled plan as fast as the best"
        );
        assert!(!best.plan.spill, "{}", best.plan.label());
        assert!(best_estimate.dram_cycles < tied_spilled.unwrap().estimate.unwrap().dram_cycles);
    }

    #[test]
    fn tile_sizes_are_powers_of_two_midpoints_array_multiples_and_n() {
        assert_eq!(tile_sizes(16, 100, 32), vec![16, 24, 32, 48, 64, 96, 100]);
        assert_eq!(
            tile_sizes(16, 70, 20),
            vec![16, 20, 24, 32, 40, 48, 60, 64, 70]
        );
        assert_eq!(tile_sizes(16, 16, 32), vec![16]);
        assert_eq!(tile_sizes(16, 8, 4), vec![8]);
        // Multiples of the array edge reach 8 edges: 5 × 32 = 160 is not a power of two.
        assert!(tile_sizes(16, 4096, 32).contains(&160));
    }

    #[test]
    fn equal_estimates_never_fall_back_to_the_label() {
        // With an ideal vector unit and a tiny bandwidth every plan is DRAM
        // bound, so all nine GEMM dataflow pairs of a tiling tie on
        // estimated cycles; the order among them must be the documented one
        // (configured dataflow first), not `is` < `os` < `ws`.
        let hw = preset(
            "edge",
            &[
                "vector.ideal=true".into(),
                "dram.bandwidth_gib_per_s=1".into(),
            ],
        );
        let w = Workload::new("w", 1, 2, 256, 64);
        let ranked = rank(&hw, &w, &auto(Dataflow::Flash)).unwrap();
        let best = &ranked[0];
        let ties: Vec<&Ranked> = ranked
            .iter()
            .filter(|r| {
                r.tiling == best.tiling
                    && r.estimate.unwrap().cycles == best.estimate.unwrap().cycles
            })
            .collect();
        assert!(ties.len() > 1, "the case needs tied dataflow pairs");
        let min_pe = ties
            .iter()
            .map(|r| r.estimate.unwrap().pe_cycles)
            .min()
            .unwrap();
        assert_eq!(best.estimate.unwrap().pe_cycles, min_pe);
        // The same inputs rank identically.
        let again = rank(&hw, &w, &auto(Dataflow::Flash)).unwrap();
        let labels = |r: &[Ranked]| r.iter().map(|r| r.plan.label()).collect::<Vec<_>>();
        assert_eq!(labels(&ranked), labels(&again));
    }

    #[test]
    fn the_shortlist_holds_distinct_tilings() {
        let hw = preset("edge", &[]);
        let w = Workload::new("w", 1, 12, 1024, 64);
        let plans = shortlist(&hw, &w, &auto(Dataflow::Flash), 3).unwrap();
        assert_eq!(plans.len(), 3);
        let tiling = |p: &Plan| (p.rows, p.cols);
        assert_ne!(tiling(&plans[0]), tiling(&plans[1]));
        assert_ne!(tiling(&plans[1]), tiling(&plans[2]));
        assert_ne!(tiling(&plans[0]), tiling(&plans[2]));
    }

    #[test]
    fn the_search_spills_unless_forbidden() {
        // Edge at N = 4096: K and V alone take 2 MB of 512 KiB.
        let hw = preset("edge", &[]);
        let w = Workload::new("w", 1, 12, 4096, 64);
        let plan = resolve(&hw, &w, &auto(Dataflow::Flat)).unwrap();
        assert!(plan.spill, "{}", plan.label());
        let forbidden = DataflowSpec {
            spill: Some(false),
            ..auto(Dataflow::Flat)
        };
        let err = resolve(&hw, &w, &forbidden).unwrap_err().to_string();
        assert!(
            err.starts_with("no flat plan fits 512 KiB: the smallest needs "),
            "{err}"
        );
        assert!(err.contains("allow spilling (--spill)"), "{err}");
        assert!(err.contains("use --dataflow flash"), "{err}");
        // The workload file forbids it the same way, and the flag overrides the file.
        let w_forbids = Workload {
            spill: Some(false),
            ..w.clone()
        };
        assert!(resolve(&hw, &w_forbids, &auto(Dataflow::Flat)).is_err());
        let flag_allows = DataflowSpec {
            spill: Some(true),
            ..auto(Dataflow::Flat)
        };
        assert!(resolve(&hw, &w_forbids, &flag_allows).is_ok());
    }

    #[test]
    fn a_refusal_names_the_smallest_footprint_and_a_capacity_that_fits() {
        let hw = preset("edge", &["sram.capacity_bytes=16384".into()]);
        let w = Workload::new("w", 1, 12, 512, 64);
        for dataflow in Dataflow::ALL {
            let ranked = rank(&hw, &w, &auto(*dataflow)).unwrap();
            assert!(ranked.iter().all(|r| r.estimate.is_none()), "{dataflow}");
            let smallest = ranked
                .iter()
                .min_by_key(|r| r.footprint.total_bytes())
                .unwrap();
            let err = resolve(&hw, &w, &auto(*dataflow)).unwrap_err().to_string();
            let bytes = smallest.footprint.total_bytes();
            assert!(
                err.contains(&format!("the smallest needs {bytes} bytes")),
                "{err}"
            );
            assert!(err.contains("buffer `"), "{err}");
            // The capacity the message names is enough for that plan, and one
            // bank stripe less is not.
            let p = problem(&hw, &w);
            let needed = capacity_needed(&hw, &p, &smallest.plan);
            assert!(
                err.contains(&format!("sram.capacity_bytes ≥ {needed}")),
                "{err}"
            );
            let with = |capacity: u64| {
                let hw = preset("edge", &[format!("sram.capacity_bytes={capacity}")]);
                footprint(&hw, &p, &smallest.plan).fits()
            };
            assert!(with(needed), "{err}");
            assert!(!with(needed - 32 * 64), "{err}");
        }
    }
}
