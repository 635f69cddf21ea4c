//! `flatsim` with no arguments: FLAT's edge platform, BERT, B = 1, N = 4096,
//! unfused vs flat vs flash, each the plan `--mapping auto` finds (the same
//! search as `flatsim run`), as a table. Writes no files.

use super::run::{simulate, Outcome};
use crate::error::CliResult;
use compiler::{Dataflow, DataflowSpec, Mapping, Workload};
use hwconfig::HwConfig;
use sim::RunOptions;

/// Tilings `--mapping auto` simulates per dataflow for the default table.
const CANDIDATES: usize = 2;

pub fn run(overrides: &[String]) -> CliResult {
    let hw = HwConfig::parse(
        "<built-in edge>",
        hwconfig::builtin_preset("edge").unwrap_or_default(),
        overrides,
    )?;
    super::common::check_models(&hw, "<built-in edge>")?;
    let w = Workload::load("bert", Some(1), Some(4096))?;
    say!(
        "flatsim: {} ({}x{} PEs, {} KiB SRAM), {} B={} H={} N={} d={}\n",
        hw.name,
        hw.pe_array.rows,
        hw.pe_array.cols,
        hw.sram.capacity_bytes / 1024,
        w.name,
        w.batch,
        w.heads,
        w.seq_len,
        w.head_dim
    );
    say!(
        "Each dataflow's plan is the fastest of the same search (--mapping auto: every tiling, \
         spilling and GEMM dataflow ranked by estimate, the best {CANDIDATES} tilings simulated); \
         speedup is over unfused.\n"
    );
    let mut outcomes: Vec<Outcome> = Vec::new();
    for dataflow in Dataflow::ALL {
        let spec = DataflowSpec {
            mapping: Mapping::Auto,
            ..DataflowSpec::new(*dataflow)
        };
        outcomes.push(simulate(
            &hw,
            &w,
            &spec,
            CANDIDATES,
            None,
            Default::default(),
            || RunOptions {
                fast_forward: true,
                ..Default::default()
            },
        )?);
    }
    let baseline = outcomes[0].report.cycles as f64;
    let plan_width = outcomes
        .iter()
        .map(|o| o.plan.label().len())
        .max()
        .unwrap_or(4);
    say!(
        "{:<9} {:<plan_width$} {:>12} {:>10} {:>7} {:>8} {:>9} {:>10} {:>8}",
        "dataflow",
        "plan",
        "cycles",
        "time_ms",
        "pe_util",
        "vec_util",
        "dram_MB",
        "sram_KiB",
        "speedup"
    );
    for o in &outcomes {
        let r = &o.report;
        say!(
            "{:<9} {:<plan_width$} {:>12} {:>10.3} {:>7.3} {:>8.3} {:>9.1} {:>10.1} {:>7.2}x",
            o.plan.dataflow.to_string(),
            o.plan.label(),
            r.cycles,
            r.seconds * 1e3,
            r.pe_util,
            r.vector_util,
            (r.dram_read_bytes + r.dram_write_bytes) as f64 / 1e6,
            r.sram_peak_bytes as f64 / 1024.0,
            baseline / r.cycles as f64
        );
    }
    say!("\nMore: flatsim --help; flatsim run --help");
    Ok(())
}
