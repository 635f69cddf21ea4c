//! `flatsim compile`: compile a workload and dataflow and print the loop
//! nest, the instruction streams, the footprint(s) or a summary.

use super::common::HwArgs;
use crate::error::{CliError, CliResult};
use compiler::{Dataflow, DataflowSpec, Gran, Mapping, Mask, Phase, Workload, WorkloadFlags};
use std::io::Write;

/// `--workload NAME|FILE [--batch B] [--seq-len N] [--kv-heads] [--mask]
/// [--window] [--phase] [--query-len] [--kv-len]` (shared with `run`).
#[derive(Debug, clap::Args)]
pub struct WorkloadArgs {
    /// Workload: a built-in name (bert, trxl, t5, xlm, llama3-8b, llama3-70b, mistral-7b, qwen2-7b), a TOML file or a Hugging Face config.json
    #[arg(long, value_name = "NAME|FILE")]
    pub workload: String,
    /// Batch B (overrides the file; default 1)
    #[arg(long)]
    pub batch: Option<u64>,
    /// Sequence length N in prefill (overrides the file)
    #[arg(long)]
    pub seq_len: Option<u64>,
    /// KV heads; must divide the heads (default: the file's, else heads; 1 is MQA)
    #[arg(long)]
    pub kv_heads: Option<u64>,
    /// none | causal (default: the file's)
    #[arg(long, value_parser = |s: &str| Mask::parse(s))]
    pub mask: Option<Mask>,
    /// Sliding window in tokens, with --mask causal; `none` for unlimited
    #[arg(long, value_name = "TOKENS|none", value_parser = parse_window)]
    pub window: Option<Window>,
    /// prefill | decode (default: the file's, else prefill)
    #[arg(long, value_parser = |s: &str| Phase::parse(s))]
    pub phase: Option<Phase>,
    /// New tokens per sequence in decode (default 1)
    #[arg(long)]
    pub query_len: Option<u64>,
    /// Cached tokens per sequence in decode (required there)
    #[arg(long)]
    pub kv_len: Option<u64>,
}

/// `--window`: a token count, or unlimited.
#[derive(Debug, Clone, Copy)]
pub struct Window(Option<u64>);

fn parse_window(text: &str) -> Result<Window, String> {
    if text == "none" {
        return Ok(Window(None));
    }
    text.parse()
        .map(|w| Window(Some(w)))
        .map_err(|_| format!("expected a number of tokens or `none`, found `{text}`"))
}

impl WorkloadArgs {
    pub fn load(&self) -> CliResult<Workload> {
        let flags = WorkloadFlags {
            batch: self.batch,
            seq_len: self.seq_len,
            kv_heads: self.kv_heads,
            mask: self.mask,
            window: self.window.map(|w| w.0),
            phase: self.phase,
            query_len: self.query_len,
            kv_len: self.kv_len,
        };
        Ok(Workload::load_with(&self.workload, &flags)?)
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
    /// `auto` searches every tiling, spilling and GEMM dataflows for the fastest plan that fits (the default); `fixed` takes the flags and defaults (the default when --gran, --rows or --cols is given)
    #[arg(long, value_parser = ["auto", "fixed"])]
    pub mapping: Option<String>,
    /// Whether flat plans may stream K and V from DRAM (default: yes unless the workload file says `spill = false`); `--spill false` forbids it
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
            mapping: match self.mapping.as_deref() {
                Some("auto") => Mapping::Auto,
                Some(_) => Mapping::Fixed,
                // A tiling on the command line is a fixed plan; otherwise search.
                None if self.gran.is_some() || self.rows.is_some() || self.cols.is_some() => {
                    Mapping::Fixed
                }
                None => Mapping::Auto,
            },
            spill: self.spill,
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
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match write_emitted(args, overrides, &mut out) {
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

/// Loads the inputs and writes what `--emit` asks for to `out`.
pub fn write_emitted(args: &CompileArgs, overrides: &[String], out: &mut impl Write) -> CliResult {
    let hw = args.hw.load(overrides)?;
    let w = args.workload.load()?;
    let spec = args.dataflow.spec();
    emit(args, &hw, &w, &spec, out, CliError::failure)
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
