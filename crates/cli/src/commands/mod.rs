//! One module per subcommand; this file declares the command line and dispatches.

mod bench;
mod common;
pub(crate) mod compile;
mod default;
pub(crate) mod dram;
mod dram_check;
pub(crate) mod gemm;
pub(crate) mod run;
pub(crate) mod sweep;
mod sweep_merge;
mod validate;
mod work;

use crate::error::CliResult;
use clap::{Parser, Subcommand};

/// flatsim: a cycle-level simulator of attention accelerators (FLAT, FlashAttention, FuseMax).
#[derive(Debug, Parser)]
#[command(
    name = "flatsim",
    version,
    about = "flatsim: a cycle-level simulator of attention accelerators (FLAT, FlashAttention, FuseMax). Run with no arguments for FLAT's edge table; `flatsim run --help` to simulate one workload.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Override a hardware-config key, validated like the file (repeatable): --set sram.banks=64
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub set: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time the simulator on its standard cases: wall time, simulated cycles per second, peak memory.
    Bench(bench::BenchArgs),
    /// Compile a workload and dataflow: print the ISA, loop nest, footprint or summary.
    Compile(compile::CompileArgs),
    /// Replay an addr,is_write trace on the configured DRAM and report dram.csv.
    Dram(dram::DramArgs),
    /// Check a DRAM command trace against the configured preset's protocol rules.
    DramCheck(dram_check::DramCheckArgs),
    /// Time one GEMM on the PE array.
    Gemm(gemm::GemmArgs),
    /// Compile and simulate attention cycle by cycle; write summary, stats, timeline and traces.
    Run(run::RunArgs),
    /// Run every point of a sweep file (parallel, resumable, shardable, or as a Slurm job array).
    Sweep(sweep::SweepArgs),
    /// Merge the shards of a sweep into DIR/summary.csv.
    SweepMerge(sweep_merge::SweepMergeArgs),
    /// Check a hardware config file without simulating.
    Validate(validate::ValidateArgs),
}

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Some(Command::Bench(args)) => bench::run(&args, &cli.set),
        Some(Command::Compile(args)) => compile::run(&args, &cli.set),
        Some(Command::Dram(args)) => dram::run(&args, &cli.set),
        Some(Command::DramCheck(args)) => dram_check::run(&args, &cli.set),
        Some(Command::Gemm(args)) => gemm::run(&args, &cli.set),
        Some(Command::Run(args)) => run::run(&args, &cli.set),
        Some(Command::Sweep(args)) => sweep::run(&args, &cli.set),
        Some(Command::SweepMerge(args)) => sweep_merge::run(&args),
        Some(Command::Validate(args)) => validate::run(&args, &cli.set),
        None => default::run(&cli.set),
    }
}
