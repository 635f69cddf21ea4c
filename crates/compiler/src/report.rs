//! Text of the `--emit footprint` and `--emit summary` outputs.

use crate::{Footprint, Plan, Ranked};
use isa::{Summary, Unit};

/// CSV header of `--emit footprint`: design §7's columns, then the GEMM
/// dataflows, spilling, Table 2's share, extras, placed bytes, the ranking
/// estimate and flat's score slots.
pub const FOOTPRINT_HEADER: &str = "dataflow,gran,rows,cols,footprint_bytes,capacity_bytes,fits,l_dataflow,a_dataflow,spill,table2_bytes,extra_bytes,allocated_bytes,estimated_cycles,bound,score_slots";

/// One CSV row; `table2_bytes` is empty for plans Table 2 does not cover.
pub fn footprint_row(
    plan: &Plan,
    fp: &Footprint,
    problem: &crate::ir::Problem,
    estimate: Option<&crate::estimate::Estimate>,
) -> String {
    let table2 = match (plan.dataflow, plan.gran, plan.spill) {
        (crate::Dataflow::Flat, Some(g), false) => {
            (crate::table2_elements(problem, g, plan.rows) * problem.element_bytes).to_string()
        }
        _ => String::new(),
    };
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        plan.dataflow,
        plan.gran.map(|g| g.as_str()).unwrap_or(""),
        plan.rows,
        plan.cols,
        fp.total_bytes(),
        fp.capacity_bytes,
        fp.fits(),
        plan.l_dataflow,
        plan.a_dataflow,
        plan.spill,
        table2,
        fp.extra_bytes(),
        fp.allocated_bytes
            .map(|b| b.to_string())
            .unwrap_or_default(),
        estimate.map(|e| e.cycles.to_string()).unwrap_or_default(),
        estimate.map(|e| e.bound.as_str()).unwrap_or(""),
        plan.score_slots,
    )
}

/// The ranking as CSV (header included).
pub fn ranking_csv(ranked: &[Ranked], problem: &crate::ir::Problem) -> String {
    let mut out = format!("{FOOTPRINT_HEADER}\n");
    for r in ranked {
        out.push_str(&footprint_row(
            &r.plan,
            &r.footprint,
            problem,
            r.estimate.as_ref(),
        ));
        out.push('\n');
    }
    out
}

/// `--emit summary`: instruction counts per unit and planned DRAM bytes, as `key,value` CSV.
pub fn summary_csv(plan: &Plan, s: &Summary) -> String {
    let mut out = String::from("key,value\n");
    out.push_str(&format!("plan,{}\n", plan.label()));
    for unit in Unit::ALL {
        out.push_str(&format!(
            "{unit}_instructions,{}\n",
            s.instructions[unit.index()]
        ));
    }
    let rows = [
        ("dram_read_bytes", s.dram_read_bytes),
        ("dram_write_bytes", s.dram_write_bytes),
        ("macs", s.macs),
        ("vector_element_ops", s.vector_ops.total()),
    ];
    for (k, v) in rows {
        out.push_str(&format!("{k},{v}\n"));
    }
    out
}
