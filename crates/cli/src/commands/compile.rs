//! `flatsim compile`: compile a workload and dataflow and print the loop
//! nest, the instruction streams, the footprint(s) or a summary.

use super::common::HwArgs;
use crate::error::{CliError, CliResult};
use compiler::{Dataflow, DataflowSpec, Gran, Mapping, Workload};
use std::io::Write;

/// `--workload NAME|FILE [--batch B] [--seq-len N]` (shared with `run`).
#[derive(Debug, clap::Args)]
pub struct WorkloadArgs {
    /// Workload: a built-in name (bert, trxl, t5, xlm) or a TOML file
    #[arg(long, value_name = "NAME|FILE")]
    pub workload: String,
    /// Batch B (overrides the file; default 1)
    #[arg(long)]
    pub batch: Option<u64>,
    /// Sequence length N (overrides the file)
    #[arg(long)]
    pub seq_len: Option<u64>,
}

impl WorkloadArgs {
    pub fn load(&self) -> CliResult<Workload> {
        Ok(Workload::load(&self.workload, self.batch, self.seq_len)?)
    }
}

/// `--dataflow … [--gran] [--rows] [--cols] [--mapping auto] [--spill]` (shared with `run`).
#[derive(Debug, clap::Args)]
pub struct DataflowArgs {
    /// unfused | flat | flash
    #[arg(long, value_parser = |s: &str| Dataflow::parse(s))]
    pub dataflow: Dataflow,
    /// FLAT granularity m | b | h | r (flat only; default r)
    #[arg(long, value_parser = |s: &str| Gran::parse(s))]
    pub gran: Option<Gran>,
    /// Rows per tile R (default: PE-array rows)
    #[arg(long)]
    pub rows: Option<u64>,
    /// Keys per block C (unfused, flash, and flat's K/V chunk when spilling; default: PE-array rows)
    #[arg(long)]
    pub cols: Option<u64>,
    /// `auto` searches granularity, R, C and GEMM dataflows for the fastest plan that fits
    #[arg(long, value_parser = ["auto", "fixed"], default_value = "fixed")]
    pub mapping: String,
    /// Let a flat plan that does not fit stream K and V from DRAM (as `spill = true` in the workload file); `--spill false` turns it off
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub spill: Option<bool>,
}

impl DataflowArgs {
    pub fn spec(&self) -> DataflowSpec {
        DataflowSpec {
            dataflow: self.dataflow,
            gran: self.gran,
            rows: self.rows,
            cols: self.cols,
            mapping: if self.mapping == "auto" {
                Mapping::Auto
            } else {
                Mapping::Fixed
            },
            spill: self.spill.unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Emit {
    /// The instruction streams in text form
    Isa,
    /// The loop nest
    Loops,
    /// CSV of the plan's footprint (every candidate, ranked, with --mapping auto)
    Footprint,
    /// Instruction counts per unit and planned DRAM bytes
    Summary,
}

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    #[command(flatten)]
    hw: HwArgs,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    dataflow: DataflowArgs,
    /// What to print
    #[arg(long, value_enum)]
    emit: Emit,
}

fn bad(err: compiler::CompileError) -> CliError {
    CliError::bad_input(err)
}

pub fn run(args: &CompileArgs, overrides: &[String]) -> CliResult {
    let hw = args.hw.load(overrides)?;
    let w = args.workload.load()?;
    let spec = args.dataflow.spec();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| CliError::failure(e);
    let result = emit(args, &hw, &w, &spec, &mut out, io);
    match result {
        // A reader that went away (`| head`) ends the output quietly.
        Err(CliError::Failure(e))
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn emit(
    args: &CompileArgs,
    hw: &hwconfig::HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
    out: &mut impl Write,
    io: impl Fn(std::io::Error) -> CliError,
) -> CliResult {
    match args.emit {
        Emit::Footprint => {
            let problem = compiler::problem(hw, w);
            let text = match spec.mapping {
                Mapping::Auto => compiler::report::ranking_csv(
                    &compiler::rank_plans(hw, w, spec).map_err(bad)?,
                    &problem,
                ),
                Mapping::Fixed => {
                    let (plan, fp) = compiler::plan_with_footprint(hw, w, spec).map_err(bad)?;
                    format!(
                        "{}\n{}\n",
                        compiler::report::FOOTPRINT_HEADER,
                        compiler::report::footprint_row(&plan, &fp, &problem, None)
                    )
                }
            };
            out.write_all(text.as_bytes()).map_err(&io)?;
        }
        Emit::Loops => {
            let plan = compiler::resolve_plan(hw, w, spec).map_err(bad)?;
            write!(out, "{}", compiler::loop_nest(hw, w, &plan)).map_err(&io)?;
        }
        Emit::Isa => {
            let plan = compiler::resolve_plan(hw, w, spec).map_err(bad)?;
            let program = compiler::compile(hw, w, &plan).map_err(bad)?;
            isa::write_program(&program, out).map_err(&io)?;
        }
        Emit::Summary => {
            let plan = compiler::resolve_plan(hw, w, spec).map_err(bad)?;
            let program = compiler::compile(hw, w, &plan).map_err(bad)?;
            out.write_all(compiler::report::summary_csv(&plan, &program.summary()).as_bytes())
                .map_err(&io)?;
        }
    }
    out.flush().map_err(io)
}
