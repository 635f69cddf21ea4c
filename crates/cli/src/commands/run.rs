//! `flatsim run`: compile a workload and dataflow and simulate it cycle by
//! cycle; with `--mapping auto` (the default), simulate the compiler's
//! best-ranked tilings and keep the fastest. Traced runs pick their plan the
//! same way, then trace it.

use super::common::{HwArgs, OutArgs};
use super::compile::{DataflowArgs, WorkloadArgs};
use super::work::WorkLimitArgs;
use crate::error::{CliError, CliResult};
use crate::output::{
    self, AtomicFile, CsvCommandSink, CsvTraceSink, PerfettoSink, SharedCommandSink,
    SharedTimeline, SummaryRow, TimelineCsv, SUMMARY_COLUMNS,
};
use compiler::{DataflowSpec, Mapping, Plan, Workload};
use hwconfig::HwConfig;
use sim::{RunOptions, RunReport};
use simkit::{StallReason, TraceSink};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Units whose instructions `--trace` can write as CSV; `dram` writes the
/// cycle-level DRAM's commands (`trace_dram.csv`).
const TRACE_UNITS: &[&str] = &["pe", "dma", "vector", "dram"];
/// Bytes one trace event takes in the files, about (for the size estimate).
const TRACE_EVENT_BYTES: u64 = 160;
/// Default timeline epoch.
const DEFAULT_EPOCH_CYCLES: u64 = 10_000;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub hw: HwArgs,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub dataflow: DataflowArgs,
    /// Move real values (random Q, K, V) and check O against reference attention
    #[arg(long)]
    pub functional: bool,
    /// Seed of the functional inputs
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Step every cycle instead of jumping to the next event (same output, slower)
    #[arg(long)]
    pub no_fast_forward: bool,
    /// Best-ranked tilings that `--mapping auto` simulates (each with its best GEMM dataflows)
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub candidates: usize,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub limit: WorkLimitArgs,
    /// Per-event CSV traces of these units into --out: pe, dma, vector (one row per instruction), dram (every DRAM command; cycle model)
    #[arg(long, value_delimiter = ',', value_name = "UNITS")]
    pub trace: Vec<String>,
    /// Largest trace (CSV and JSON) allowed, in bytes
    #[arg(long, default_value_t = 1_000_000_000, value_name = "BYTES")]
    pub trace_limit: u64,
    /// Chrome trace-event JSON (trace.json) for ui.perfetto.dev, into --out
    #[arg(long)]
    pub perfetto: bool,
    /// Cycles per row of timeline.csv
    #[arg(long, default_value_t = DEFAULT_EPOCH_CYCLES, value_name = "E")]
    pub epoch_cycles: u64,
}

/// A simulated plan.
#[derive(Debug)]
pub struct Outcome {
    pub plan: Plan,
    pub report: RunReport,
    /// With `--mapping auto`: every plan simulated.
    pub tried: Vec<TriedPlan>,
    /// The plan's timeline, written and not yet committed.
    pub timeline: Option<TimelineCsv>,
}

/// A candidate plan of `--mapping auto` and how far it was simulated.
#[derive(Debug)]
pub struct TriedPlan {
    pub label: String,
    /// Its cycles, or, if it was given up on, the cycle it had reached.
    pub cycles: u64,
    /// False when it was given up on because it could not beat the best plan so far.
    pub finished: bool,
}

fn bad(err: impl Into<anyhow::Error>) -> CliError {
    CliError::bad_input(err)
}

/// Simulates `spec` on `w`: the compiler's shortlist (the fixed plan, or
/// with auto mapping the best plan of each of the `candidates` best-ranked
/// tilings), keeping the fastest. A plan whose estimate exceeds `limit` is
/// refused before it runs, and a run that passes the limit is stopped. With
/// `timeline`, each plan streams its epochs to a temporary file for that
/// path, and the outcome keeps the chosen plan's.
pub fn simulate(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
    candidates: usize,
    timeline: Option<&Path>,
    limit: WorkLimitArgs,
    options: impl FnMut() -> RunOptions<'static>,
) -> CliResult<Outcome> {
    let plans = compiler::shortlist(hw, w, spec, candidates).map_err(bad)?;
    let searched = spec.mapping == Mapping::Auto;
    simulate_plans(hw, w, &plans, searched, timeline, limit, options)
}

/// Simulates `plans` in order and keeps the fastest (the first among equals);
/// a later plan stops once it cannot beat the best so far. With `searched`,
/// the outcome lists every plan tried.
fn simulate_plans(
    hw: &HwConfig,
    w: &Workload,
    plans: &[Plan],
    searched: bool,
    timeline: Option<&Path>,
    limit: WorkLimitArgs,
    mut options: impl FnMut() -> RunOptions<'static>,
) -> CliResult<Outcome> {
    let mut best: Option<Outcome> = None;
    let mut tried = Vec::new();
    for (number, &plan) in plans.iter().enumerate() {
        let estimate_cycles = limit.check_plan(hw, w, &plan)?;
        let program = compiler::compile(hw, w, &plan).map_err(bad)?;
        // A later plan is kept only if strictly faster, so its run can stop
        // once it has taken as long as the best one.
        let best_cycles = best.as_ref().map(|b| b.report.cycles);
        let mut progress = progress_reporter(estimate_cycles);
        let base = options();
        let epochs = timeline
            .map(|path| TimelineCsv::create(path, number).map(SharedTimeline::new))
            .transpose()
            .map_err(CliError::failure)?;
        let run_options = RunOptions {
            fast_forward: base.fast_forward,
            functional_seed: base.functional_seed,
            epoch_cycles: base.epoch_cycles,
            timeline: epochs
                .clone()
                .map(|e| Box::new(e) as Box<dyn sim::EpochSink + Send>),
            trace: base.trace.map(|t| t as &mut dyn TraceSink),
            dram_commands: base.dram_commands,
            progress: Some(&mut progress),
            give_up_after: Some(best_cycles.map_or(limit.max_cycles, |b| b.min(limit.max_cycles))),
        };
        let result = sim::simulate(hw, &program, run_options);
        let epochs = epochs
            .map(SharedTimeline::into_inner)
            .transpose()
            .map_err(CliError::failure)?;
        let report = match result {
            Err(sim::SimError::GaveUp { cycle, limit: at })
                if at == limit.max_cycles && best_cycles.is_none_or(|b| b > at) =>
            {
                return Err(limit.passed(&plan, cycle));
            }
            Err(sim::SimError::GaveUp { cycle, .. }) => {
                tried.push(TriedPlan {
                    label: plan.label(),
                    cycles: cycle,
                    finished: false,
                });
                continue;
            }
            result => result.map_err(CliError::failure)?,
        };
        tried.push(TriedPlan {
            label: plan.label(),
            cycles: report.cycles,
            finished: true,
        });
        if best
            .as_ref()
            .is_none_or(|b| report.cycles < b.report.cycles)
        {
            best = Some(Outcome {
                plan,
                report,
                tried: Vec::new(),
                timeline: epochs,
            });
        }
    }
    let mut best = best.expect("the shortlist has a plan and the first always finishes");
    if searched {
        best.tried = tried;
    }
    Ok(best)
}

/// The summary.csv row of a run.
pub fn summary_row(hw: &HwConfig, w: &Workload, outcome: &Outcome) -> SummaryRow {
    let r = &outcome.report;
    let pe = r
        .unit("pe_array")
        .map(|u| u.account.clone())
        .unwrap_or_default();
    let stall = |reasons: &[StallReason]| reasons.iter().map(|&s| pe.stall_cycles(s)).sum();
    SummaryRow {
        hw: hw.name.clone(),
        workload: Some(w.name.clone()),
        batch: Some(w.batch),
        heads: Some(w.heads),
        seq_len: Some(w.seq_len),
        head_dim: Some(w.head_dim),
        kv_heads: Some(w.kv_heads),
        mask: Some(w.mask.to_string()),
        window: w.window,
        phase: Some(w.phase.to_string()),
        query_len: Some(w.queries()),
        kv_len: (w.phase == compiler::Phase::Decode).then_some(w.kv_len),
        dataflow: outcome.plan.dataflow.to_string(),
        gran: outcome.plan.gran.map(|g| g.to_string()),
        rows: Some(outcome.plan.rows),
        cols: Some(outcome.plan.cols),
        cycles: r.cycles,
        seconds: r.seconds,
        pe_util: r.pe_util,
        vector_util: Some(r.vector_util),
        dram_read_bytes: Some(r.dram_read_bytes),
        dram_write_bytes: Some(r.dram_write_bytes),
        dram_bw_util: Some(r.dram_bw_util),
        sram_peak_bytes: Some(r.sram_peak_bytes),
        energy_pj: r.energy.total_pj(),
        stall_wait_token: stall(&[StallReason::WaitToken]),
        stall_sram_bank_conflict: stall(&[StallReason::SramBankConflict]),
        stall_dram: stall(&[StallReason::DramBandwidth, StallReason::DramQueueFull]),
        stall_other: stall(&[
            StallReason::OperandNotReady,
            StallReason::OutputBackpressure,
        ]),
        root_cycles: r
            .unit("pe_array")
            .map(|u| sim::Resource::ALL.map(|res| u.roots.cycles(res)))
            .unwrap_or_default(),
        max_abs_error: r.max_abs_error,
    }
}

/// A progress callback: a bar of simulated cycles against the estimate on
/// a terminal, shown once a run has taken more than a second.
fn progress_reporter(estimate_cycles: u64) -> impl FnMut(simkit::Cycle) {
    let started = std::time::Instant::now();
    let bar = crate::progress::bar(estimate_cycles, "simulated cycles (estimated)", true);
    move |cycle| {
        if started.elapsed().as_secs_f64() > 1.0 {
            bar.set_position(cycle);
        }
    }
}

/// The summary row of one sweep point (no files, no traces).
pub fn summary_for_sweep(args: &RunArgs, overrides: &[String]) -> CliResult<SummaryRow> {
    let hw = args.hw.load(overrides)?;
    let w = args.workload.load()?;
    let fast_forward = !args.no_fast_forward;
    let functional_seed = args.functional.then_some(args.seed);
    let outcome = simulate(
        &hw,
        &w,
        &args.dataflow.spec(),
        args.candidates,
        None,
        args.limit,
        || RunOptions {
            fast_forward,
            functional_seed,
            ..Default::default()
        },
    )?;
    Ok(summary_row(&hw, &w, &outcome))
}

/// A finished run: the resolved inputs and the simulated plan, its output
/// files not yet written.
#[derive(Debug)]
pub struct Finished {
    pub hw: HwConfig,
    pub workload: Workload,
    pub outcome: Outcome,
    /// Where the output files go: `--out`, or the caller's directory.
    pub out_dir: Option<std::path::PathBuf>,
}

impl Finished {
    /// Writes summary.csv, stats.csv and config.resolved.toml into the
    /// output directory and commits the streamed timeline.csv.
    pub fn write_outputs(&mut self) -> anyhow::Result<()> {
        let Some(dir) = &self.out_dir else {
            return Ok(());
        };
        let timeline = self.outcome.timeline.take();
        write_outputs(dir, &self.hw, &self.workload, &self.outcome, timeline)
    }
}

pub fn run(args: &RunArgs, overrides: &[String]) -> CliResult {
    let mut finished = execute(args, overrides, None)?;
    print_outcome(&finished.hw, &finished.workload, &finished.outcome);
    finished.write_outputs().map_err(CliError::failure)
}

/// Everything `run` does but printing and writing the summary files: checks
/// the arguments, prepares the output directory (`--out`, else
/// `default_out` if given), writes the traces and streams the timeline into
/// it, simulates.
pub fn execute(
    args: &RunArgs,
    overrides: &[String],
    default_out: Option<&Path>,
) -> CliResult<Finished> {
    let hw = args.hw.load(overrides)?;
    let w = args.workload.load()?;
    let spec = args.dataflow.spec();
    for unit in &args.trace {
        if !TRACE_UNITS.contains(&unit.as_str()) {
            return Err(bad(anyhow::anyhow!(
                "--trace: unknown unit `{unit}`; valid: {}",
                TRACE_UNITS.join(", ")
            )));
        }
    }
    let trace_dram = args.trace.iter().any(|t| t == "dram");
    if trace_dram && hw.dram.model != hwconfig::DramModel::Cycle {
        return Err(bad(anyhow::anyhow!("--trace dram writes DRAM commands, which need dram.model = \"cycle\" (e.g. --hw edge-cycle)")));
    }
    let tracing = !args.trace.is_empty() || args.perfetto;
    if tracing && args.out.out.is_none() {
        return Err(bad(anyhow::anyhow!(
            "--trace and --perfetto write into --out DIR; give one"
        )));
    }
    if args.epoch_cycles == 0 {
        return Err(bad(anyhow::anyhow!("--epoch-cycles must be positive")));
    }
    let plans = compiler::shortlist(&hw, &w, &spec, args.candidates).map_err(bad)?;
    if tracing {
        // Estimate before starting: one event per instruction, per file, for
        // the largest plan the search may pick.
        let instructions: u64 = plans
            .iter()
            .map(|plan| compiler::census(&hw, &w, plan).instructions.iter().sum())
            .max()
            .unwrap_or(0);
        let files = args.trace.len() as u64 + u64::from(args.perfetto);
        let estimate = instructions * TRACE_EVENT_BYTES * files.max(1);
        if estimate > args.trace_limit {
            return Err(bad(anyhow::anyhow!(
                "the traces would take about {estimate} bytes ({instructions} instructions), above --trace-limit {}; raise it or trace a smaller run",
                args.trace_limit
            )));
        }
    }
    let out_dir = match args.out.prepare()? {
        Some(dir) => Some(dir),
        None => default_out.map(prepare_default).transpose()?,
    };

    let fast_forward = !args.no_fast_forward;
    let functional_seed = args.functional.then_some(args.seed);
    let epoch_cycles = Some(args.epoch_cycles);
    let untraced = || RunOptions {
        fast_forward,
        functional_seed,
        epoch_cycles,
        ..Default::default()
    };
    let searched = spec.mapping == Mapping::Auto;
    let outcome = if tracing {
        // The plan is chosen exactly as without tracing (by simulation when
        // there is a choice), then traced: tracing never changes the plan.
        let search = if plans.len() > 1 {
            Some(simulate_plans(
                &hw, &w, &plans, searched, None, args.limit, untraced,
            )?)
        } else {
            None
        };
        let plan = search.as_ref().map_or(plans[0], |s| s.plan);
        let dir = out_dir.expect("checked above");
        let mut perfetto = if args.perfetto {
            Some(
                PerfettoSink::create(&dir.join("trace.json"), hw.core.clock_mhz)
                    .map_err(CliError::failure)?,
            )
        } else {
            None
        };
        let units: Vec<&'static str> = TRACE_UNITS
            .iter()
            .copied()
            .filter(|u| *u != "dram" && args.trace.iter().any(|t| t == u))
            .collect();
        let commands = if trace_dram {
            let sink =
                CsvCommandSink::create(&dir.join("trace_dram.csv")).map_err(CliError::failure)?;
            Some(Arc::new(Mutex::new(sink)))
        } else {
            None
        };
        let mut csv = if units.is_empty() {
            None
        } else {
            Some(CsvTraceSink::create(dir, &units).map_err(CliError::failure)?)
        };
        let mut fanout = Fanout { sinks: vec![] };
        if let Some(p) = perfetto.as_mut() {
            fanout.sinks.push(p);
        }
        if let Some(c) = csv.as_mut() {
            fanout.sinks.push(c);
        }
        let estimate_cycles = args.limit.check_plan(&hw, &w, &plan)?;
        let program = compiler::compile(&hw, &w, &plan).map_err(bad)?;
        let mut progress = progress_reporter(estimate_cycles);
        let dram_commands = commands
            .clone()
            .map(|c| Box::new(SharedCommandSink(c)) as Box<dyn dram::spec::CommandSink + Send>);
        let epochs = SharedTimeline::new(
            TimelineCsv::create(&dir.join("timeline.csv"), 0).map_err(CliError::failure)?,
        );
        let options = RunOptions {
            fast_forward,
            functional_seed,
            epoch_cycles,
            timeline: Some(Box::new(epochs.clone())),
            trace: Some(&mut fanout),
            progress: Some(&mut progress),
            dram_commands,
            give_up_after: Some(args.limit.max_cycles),
        };
        let report = match sim::simulate(&hw, &program, options) {
            Err(sim::SimError::GaveUp { cycle, .. }) => {
                return Err(args.limit.passed(&plan, cycle))
            }
            result => result.map_err(CliError::failure)?,
        };
        drop(fanout);
        if let Some(commands) = commands {
            // The simulator (and with it the sink's other handle) is gone now.
            let sink = Arc::try_unwrap(commands)
                .map_err(|_| {
                    CliError::failure(anyhow::anyhow!("the DRAM command trace is still in use"))
                })?
                .into_inner()
                .map_err(|_| {
                    CliError::failure(anyhow::anyhow!("the DRAM command trace writer failed"))
                })?;
            sink.commit().map_err(CliError::failure)?;
        }
        if let Some(p) = perfetto {
            p.finish().map_err(CliError::failure)?;
        }
        if let Some(c) = csv {
            c.finish().map_err(CliError::failure)?;
        }
        let tried = match search {
            Some(s) if s.report.cycles != report.cycles => {
                return Err(CliError::failure(anyhow::anyhow!(
                    "the traced run of `{}` took {} cycles, the untraced one {}: tracing changed the simulation",
                    plan.label(),
                    report.cycles,
                    s.report.cycles
                )));
            }
            Some(s) => s.tried,
            None if searched => vec![TriedPlan {
                label: plan.label(),
                cycles: report.cycles,
                finished: true,
            }],
            None => Vec::new(),
        };
        Outcome {
            plan,
            report,
            tried,
            timeline: Some(epochs.into_inner().map_err(CliError::failure)?),
        }
    } else {
        let timeline = out_dir.map(|dir| dir.join("timeline.csv"));
        simulate_plans(
            &hw,
            &w,
            &plans,
            searched,
            timeline.as_deref(),
            args.limit,
            untraced,
        )?
    };

    Ok(Finished {
        out_dir: out_dir.map(Path::to_path_buf),
        hw,
        workload: w,
        outcome,
    })
}

/// Creates a caller's output directory (which it owns: no `--force` check).
fn prepare_default(dir: &Path) -> CliResult<&Path> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::failure(anyhow::anyhow!(
            "cannot create output directory {}: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// Sends every event to several sinks.
struct Fanout<'a> {
    sinks: Vec<&'a mut dyn TraceSink>,
}

impl TraceSink for Fanout<'_> {
    fn record(&mut self, event: &simkit::TraceEvent<'_>) {
        for sink in &mut self.sinks {
            sink.record(event);
        }
    }

    fn counter(&mut self, name: &'static str, cycle: simkit::Cycle, value: f64) {
        for sink in &mut self.sinks {
            sink.counter(name, cycle, value);
        }
    }
}

fn print_outcome(hw: &HwConfig, w: &Workload, outcome: &Outcome) {
    for tried in &outcome.tried {
        if tried.finished {
            // Progress, not a result: stderr, so stdout holds only the result.
            eprintln!(
                "auto mapping: simulated `{}`: {} cycles",
                tried.label, tried.cycles
            );
        } else {
            eprintln!(
                "auto mapping: stopped `{}` at cycle {}: slower than the best plan",
                tried.label, tried.cycles
            );
        }
    }
    let r = &outcome.report;
    say!(
        "{} on {}: {} ({}): {} cycles ({:.6} s), pe_util {:.4}, vector_util {:.4}, DRAM {:.3} MB, SRAM peak {} bytes, energy {:.3} uJ{}",
        outcome.plan.label(),
        hw.name,
        w.name,
        w.shape(),
        r.cycles,
        r.seconds,
        r.pe_util,
        r.vector_util,
        (r.dram_read_bytes + r.dram_write_bytes) as f64 / 1e6,
        r.sram_peak_bytes,
        r.energy.total_pj() / 1e6,
        r.max_abs_error.map_or(String::new(), |e| format!(", max |O - reference| {e:e}")),
    );
    if let Some(pe) = r.unit("pe_array") {
        say!("{}", pe_stall_lines(pe));
    }
}

/// The PE array's stall cycles by direct reason (all six) and by root cause.
pub fn pe_stall_lines(pe: &sim::UnitReport) -> String {
    let direct: Vec<String> = StallReason::ALL
        .iter()
        .map(|&reason| format!("{reason} {}", pe.account.stall_cycles(reason)))
        .collect();
    let roots: Vec<String> = sim::Resource::ALL
        .iter()
        .map(|&res| format!("{} {}", res.name(), pe.roots.cycles(res)))
        .collect();
    format!(
        "pe_array stalls (cycles): {}\npe_array stalls by root cause (cycles): {}",
        direct.join(", "),
        roots.join(", ")
    )
}

fn write_outputs(
    dir: &Path,
    hw: &HwConfig,
    w: &Workload,
    outcome: &Outcome,
    timeline: Option<TimelineCsv>,
) -> anyhow::Result<()> {
    let r = &outcome.report;
    let summary = summary_row(hw, w, outcome);
    output::write_atomic(
        &dir.join("summary.csv"),
        &output::csv_bytes(SUMMARY_COLUMNS, &[summary.cells()])?,
    )?;
    let mut units: Vec<(&str, Vec<simkit::StatValue>)> =
        r.units.iter().map(|u| (u.name, u.stats.clone())).collect();
    units.push(("energy", r.energy_stats()));
    output::write_atomic(&dir.join("stats.csv"), &output::stats_csv(&units)?)?;
    if let Some(timeline) = timeline {
        timeline.commit()?;
    }
    let mut config = AtomicFile::create(&dir.join("config.resolved.toml"))?;
    config.write_all(hw.to_toml_string().as_bytes())?;
    config.commit()
}
