//! Plan resolution: the fixed plan of the flags and defaults, and the
//! ranked search of `--mapping auto`.

use crate::estimate::{estimate, Estimate};
use crate::footprint::Footprint;
use crate::ir::Problem;
use crate::lower::{census, TokenPlan};
use crate::plan::{Dataflow, DataflowSpec, Gran, Mapping, Plan};
use crate::{CompileError, Workload};
use hwconfig::{HwConfig, PeDataflow};

/// A candidate plan with its footprint and, when it fits, its estimate.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub plan: Plan,
    pub footprint: Footprint,
    pub estimate: Option<Estimate>,
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

/// The largest power of two ≤ `x` (x ≥ 1).
fn floor_pow2(x: u64) -> u64 {
    1 << (63 - x.leading_zeros())
}

/// Unfused: scores in SRAM when that fits, else in DRAM with the largest
/// power-of-two softmax row block that fits.
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

/// Completes `plan` (score placement, a second score slot when it fits,
/// spilling) and returns it with its footprint.
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

fn refusal(plan: &Plan, fp: &Footprint, allow_spill: bool) -> CompileError {
    let hint = if plan.dataflow == Dataflow::Flat && !allow_spill {
        " (spill = true streams K and V from DRAM)"
    } else {
        ""
    };
    CompileError::DoesNotFit {
        plan: plan.label(),
        required_bytes: fp.total_bytes(),
        capacity_bytes: fp.capacity_bytes,
        detail: format!(
            "{}{hint}",
            fp.refusal
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default()
        ),
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
    Ok(fixed(hw, &p, spec, spec.spill || w.spill))
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

/// The plan to compile: the flags and defaults (`--mapping` fixed) or the
/// best-ranked fitting candidate (`--mapping auto`). Refuses a plan that
/// does not fit, with the numbers.
pub fn resolve(hw: &HwConfig, w: &Workload, spec: &DataflowSpec) -> Result<Plan, CompileError> {
    check_flags(spec)?;
    let p = problem(hw, w);
    let allow_spill = spec.spill || w.spill;
    match spec.mapping {
        Mapping::Fixed => {
            let (plan, fp) = fixed(hw, &p, spec, allow_spill);
            if fp.fits() {
                Ok(plan)
            } else {
                Err(refusal(&plan, &fp, allow_spill))
            }
        }
        Mapping::Auto => {
            let ranked = rank(hw, w, spec)?;
            match ranked.iter().find(|r| r.estimate.is_some()) {
                Some(best) => Ok(best.plan),
                None => {
                    let smallest = ranked
                        .iter()
                        .min_by_key(|r| r.footprint.total_bytes())
                        .expect("the search always has a candidate");
                    Err(refusal(&smallest.plan, &smallest.footprint, allow_spill))
                }
            }
        }
    }
}

/// Powers of two from `lo` to `hi` (inclusive), plus `hi` itself.
fn sizes(lo: u64, hi: u64) -> Vec<u64> {
    let mut out: Vec<u64> =
        std::iter::successors(Some(lo.min(hi)), |&x| (x * 2 <= hi).then_some(x * 2)).collect();
    if out.last() != Some(&hi) {
        out.push(hi);
    }
    out
}

/// [`sizes`] and the midpoints 1.5 × 2^k between them (16, 24, 32, 48, …).
/// Flat's row tile R trades the R·N score buffer against PE-array
/// efficiency (the GEMMs fill R of the array's rows); at large N the best R
/// with two score slots often lies between two powers of two.
fn fine_sizes(lo: u64, hi: u64) -> Vec<u64> {
    let mut out = sizes(lo, hi);
    let mids: Vec<u64> = out
        .windows(2)
        .map(|w| w[0] + w[0] / 2)
        .filter(|&m| m < hi)
        .collect();
    out.extend(mids);
    out.sort_unstable();
    out.dedup();
    out
}

/// The largest row tile R (a multiple of [`ROW_STEP`], at least 16) with
/// which flat's `shape` fits the SRAM, if any. At large N the score buffer
/// bounds R, and the best plan is often the largest R that still fits
/// (fewer K/V passes, and with two slots the vector unit stays the
/// bottleneck), which the 2^k and 1.5·2^k sizes can miss by up to a third.
fn largest_fitting_rows(hw: &HwConfig, p: &Problem, shape: &Plan) -> Option<u64> {
    let fits = |rows: u64| footprint(hw, p, &Plan { rows, ..*shape }).fits();
    let (mut lo, mut hi) = (16 / ROW_STEP, p.seq_len / ROW_STEP);
    if hi < lo || !fits(lo * ROW_STEP) {
        return None;
    }
    // Footprints grow with R: the invariant is fits(lo), !fits(hi + 1).
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid * ROW_STEP) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo * ROW_STEP)
}

/// Granularity of [`largest_fitting_rows`]: row tiles stay whole multiples
/// of 16 rows, so they split evenly over PE-array folds of 16 and more.
const ROW_STEP: u64 = 16;

/// Every legal tiling for `spec` (flags that are given stay fixed) and GEMM
/// dataflow pair, with footprints and estimates; fitting plans first,
/// fastest first.
pub fn rank(hw: &HwConfig, w: &Workload, spec: &DataflowSpec) -> Result<Vec<Ranked>, CompileError> {
    check_flags(spec)?;
    let p = problem(hw, w);
    let n = p.seq_len;
    let allow_spill = spec.spill || w.spill;
    let fixed_or = |flag: Option<u64>, range: Vec<u64>| flag.map_or(range, |v| vec![v.min(n)]);
    // Row tiles: up to the query rows (decode has few), and down to 16
    // rows of stacked query heads (a group of g heads stacks g·R rows).
    let (nq, min_rows) = (p.queries, (16 / p.group()).max(1));
    let mut tilings: Vec<Plan> = Vec::new();
    let base = base_plan(hw, &p, spec);
    match spec.dataflow {
        Dataflow::Flat => {
            let grans = spec
                .gran
                .map_or(vec![Gran::M, Gran::B, Gran::H, Gran::R], |g| vec![g]);
            for gran in grans {
                // (spill, K/V chunk): resident K and V, or streamed in chunks.
                let mut kv = vec![(false, base.cols)];
                if allow_spill {
                    kv.extend(
                        fixed_or(spec.cols, sizes(64, n))
                            .into_iter()
                            .map(|c| (true, c)),
                    );
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
                                let mut rows = fine_sizes(min_rows, nq);
                                rows.extend(largest_fitting_rows(hw, &p, &shape));
                                rows.sort_unstable();
                                rows.dedup();
                                rows
                            }
                            _ => vec![n],
                        };
                        tilings.extend(rows.into_iter().map(|rows| Plan { rows, ..shape }));
                    }
                }
            }
        }
        Dataflow::Flash | Dataflow::Unfused => {
            for r in fixed_or(spec.rows, sizes(min_rows, nq.min(1024))) {
                for c in fixed_or(spec.cols, sizes(16, n.min(4096))) {
                    tilings.push(Plan {
                        rows: r,
                        cols: c,
                        ..base
                    });
                }
            }
        }
    }
    let mut out = Vec::new();
    for tiling in tilings {
        let (plan, fp) = match tiling.dataflow {
            Dataflow::Unfused => place_scores(hw, &p, tiling),
            _ => (tiling, footprint(hw, &p, &tiling)),
        };
        if !fp.fits() {
            out.push(Ranked {
                plan,
                footprint: fp,
                estimate: None,
            });
            continue;
        }
        let nest = crate::build::loop_nest(&p, &plan, &hw.sram);
        let c = census(&nest, &TokenPlan::new(&nest));
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
                    estimate: Some(estimate(hw, &c, &plan)),
                });
            }
        }
    }
    out.sort_by(|x, y| {
        // Among equally fast plans the one moving fewer DRAM bytes wins (less
        // energy, less exposed to DRAM timing the estimate does not see):
        // a vector-bound flat plan that re-streams K and V ties with one that
        // keeps them, but is slower on a real DRAM.
        let key = |r: &Ranked| {
            (
                r.estimate.is_none(),
                r.estimate.map_or(u64::MAX, |e| e.cycles),
                r.estimate.map_or(u64::MAX, |e| e.dram_cycles),
                r.footprint.total_bytes(),
            )
        };
        key(x)
            .cmp(&key(y))
            .then_with(|| x.plan.label().cmp(&y.plan.label()))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_fitting_row_tile_fits_and_one_step_more_does_not() {
        let hw = HwConfig::parse("edge", hwconfig::builtin_preset("edge").unwrap(), &[]).unwrap();
        let w = Workload::new("w", 1, 12, 4096, 64);
        let p = problem(&hw, &w);
        let shape = Plan {
            gran: Some(Gran::R),
            spill: true,
            cols: 256,
            ..base_plan(&hw, &p, &DataflowSpec::new(Dataflow::Flat))
        };
        let rows = largest_fitting_rows(&hw, &p, &shape).expect("a spilled R plan fits 512 KiB");
        assert_eq!(rows % ROW_STEP, 0);
        let fits = |rows| footprint(&hw, &p, &Plan { rows, ..shape }).fits();
        assert!(fits(rows));
        assert!(!fits(rows + ROW_STEP));
        // Resident K and V (2 MB) never fit 512 KiB.
        let resident = Plan {
            spill: false,
            ..shape
        };
        assert_eq!(largest_fitting_rows(&hw, &p, &resident), None);
    }

    #[test]
    fn equally_fast_plans_prefer_fewer_dram_bytes() {
        // Edge, real softmax: flat is vector-bound, so re-streaming K and V
        // costs no estimated time; the plan that keeps them must rank first.
        let hw = HwConfig::parse("edge", hwconfig::builtin_preset("edge").unwrap(), &[]).unwrap();
        let w = Workload::new("w", 1, 12, 512, 64);
        let spec = DataflowSpec {
            mapping: Mapping::Auto,
            spill: true,
            ..DataflowSpec::new(Dataflow::Flat)
        };
        let ranked = rank(&hw, &w, &spec).unwrap();
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
    fn fine_sizes_add_the_midpoints_between_powers_of_two() {
        assert_eq!(sizes(16, 100), vec![16, 32, 64, 100]);
        assert_eq!(fine_sizes(16, 100), vec![16, 24, 32, 48, 64, 96, 100]);
        assert_eq!(fine_sizes(16, 70), vec![16, 24, 32, 48, 64, 70]);
        assert_eq!(fine_sizes(16, 16), vec![16]);
        assert_eq!(fine_sizes(16, 8), vec![8]);
    }
}
