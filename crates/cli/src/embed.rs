//! Entry points for programs that embed flatsim (the Python package): each
//! takes a subcommand's arguments as on the command line, parses them with
//! the command line's own parser and runs the command's own code, but
//! returns what the command would print or write instead of doing so.

use crate::commands::{self, Cli, Command};
use crate::error::{CliError, CliResult};
use crate::output::{csv_bytes, SUMMARY_COLUMNS};
use crate::sweep::spec::SweepSpec;
use clap::{CommandFactory, Parser};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::commands::run::TriedPlan;
pub use crate::commands::sweep::LocalRun;

/// Parses `flatsim COMMAND ARGS…`; a bad flag or value is bad input.
fn parse(command: &str, args: &[String]) -> CliResult<Cli> {
    let argv = ["flatsim", command]
        .into_iter()
        .map(str::to_owned)
        .chain(args.iter().cloned());
    Cli::try_parse_from(argv).map_err(|e| {
        // clap's message without the usage and --help hints that follow it.
        let text = e.render().to_string();
        let text = text.split("\n\nUsage:").next().unwrap_or_default();
        let text = text
            .split("\n\nFor more information")
            .next()
            .unwrap_or_default();
        let text = text.trim_end().trim_start_matches("error: ");
        CliError::bad_input(anyhow::anyhow!("{text}"))
    })
}

fn not(command: &str) -> CliError {
    CliError::bad_input(anyhow::anyhow!(
        "arguments of another command than `{command}`"
    ))
}

/// The long option names of a subcommand (`seq-len`, …) and of the global
/// options (`set`), so a binding can check it offers every one.
pub fn option_names(command: &str) -> Option<Vec<String>> {
    let cli = Cli::command();
    let sub = cli.find_subcommand(command)?;
    let names = sub
        .get_arguments()
        .chain(cli.get_arguments())
        .filter_map(|a| a.get_long().map(str::to_owned))
        .filter(|name| name != "help" && name != "version")
        .collect();
    Some(names)
}

/// The files `run --out` writes, in this order.
const RUN_FILES: [&str; 4] = [
    "summary.csv",
    "stats.csv",
    "timeline.csv",
    "config.resolved.toml",
];

/// A finished `flatsim run`.
#[derive(Debug)]
pub struct RunOutput {
    /// The files `--out` gets (summary.csv, stats.csv, timeline.csv,
    /// config.resolved.toml), byte for byte, read back from `--out` or from
    /// the private directory a run without it writes into.
    pub files: Vec<(&'static str, Vec<u8>)>,
    /// The simulated plan's label and loop nest.
    pub plan_label: String,
    pub loop_nest: String,
    /// With `--mapping auto`: every plan simulated.
    pub tried: Vec<TriedPlan>,
}

/// A directory of this process's own under the system's temporary
/// directory, removed with everything in it when dropped (on error too).
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("flatsim-embed-{}-{n}", std::process::id());
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `flatsim run ARGS…`. The timeline is streamed to a file as the CLI does
/// (never held in memory whole), so without `--out` the run goes into a
/// scratch directory that is read back and removed.
pub fn run(args: &[String]) -> CliResult<RunOutput> {
    let cli = parse("run", args)?;
    let Some(Command::Run(run)) = &cli.command else {
        return Err(not("run"));
    };
    let scratch = run.out.out.is_none().then(ScratchDir::new);
    let mut finished =
        commands::run::execute(run, &cli.set, scratch.as_ref().map(|s| s.0.as_path()))?;
    finished.write_outputs().map_err(CliError::failure)?;
    let dir = finished
        .out_dir
        .as_deref()
        .expect("--out or the scratch directory");
    let files = RUN_FILES
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map(|bytes| (name, bytes))
                .map_err(|e| {
                    CliError::failure(anyhow::anyhow!("cannot read {}: {e}", path.display()))
                })
        })
        .collect::<CliResult<Vec<_>>>()?;
    let plan = &finished.outcome.plan;
    Ok(RunOutput {
        files,
        plan_label: plan.label(),
        loop_nest: compiler::loop_nest(&finished.hw, &finished.workload, plan).to_string(),
        tried: finished.outcome.tried,
    })
}

/// `flatsim compile ARGS…`: what it prints.
pub fn compile(args: &[String]) -> CliResult<String> {
    let cli = parse("compile", args)?;
    let Some(Command::Compile(compile)) = &cli.command else {
        return Err(not("compile"));
    };
    let mut text = Vec::new();
    commands::compile::write_emitted(compile, &cli.set, &mut text)?;
    String::from_utf8(text).map_err(CliError::failure)
}

/// `flatsim gemm ARGS…`: its summary.csv and the line it prints.
pub fn gemm(args: &[String]) -> CliResult<(Vec<u8>, String)> {
    let cli = parse("gemm", args)?;
    let Some(Command::Gemm(gemm)) = &cli.command else {
        return Err(not("gemm"));
    };
    let (row, description) = commands::gemm::simulate(gemm, &cli.set)?;
    let csv = csv_bytes(SUMMARY_COLUMNS, &[row.cells()]).map_err(CliError::failure)?;
    Ok((csv, description))
}

/// `flatsim dram ARGS…`: its dram.csv and what it prints.
pub fn dram(args: &[String]) -> CliResult<(Vec<u8>, String)> {
    let cli = parse("dram", args)?;
    let Some(Command::Dram(dram)) = &cli.command else {
        return Err(not("dram"));
    };
    let (report, description) = commands::dram::replay_trace(dram, &cli.set)?;
    Ok((
        commands::dram::report_csv(&report)?,
        format!("{description}\n{report}"),
    ))
}

/// Points of the sweep file at `path` (for a progress bar's length).
pub fn sweep_point_count(path: &Path) -> CliResult<usize> {
    Ok(SweepSpec::load(path)
        .map_err(CliError::bad_input)?
        .point_count())
}

/// `flatsim sweep ARGS…` (its checks first) without the progress bar: `on_point` is called as
/// each point ends. Results are in the returned directory's summary.csv and
/// failures.csv; failed points are not an error here.
pub fn sweep(args: &[String], on_point: &(dyn Fn() + Sync)) -> CliResult<LocalRun> {
    let cli = parse("sweep", args)?;
    let Some(Command::Sweep(sweep)) = &cli.command else {
        return Err(not("sweep"));
    };
    commands::sweep::checked_spec(sweep, &cli.set)?;
    commands::sweep::run_here(sweep, &cli.set, false, on_point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_are_the_long_flags() {
        let names = option_names("run").unwrap();
        for name in ["hw", "seq-len", "mapping", "functional", "out", "set"] {
            assert!(names.iter().any(|n| n == name), "{name} missing: {names:?}");
        }
        assert!(!names.iter().any(|n| n == "help"));
        assert_eq!(option_names("nonsense"), None);
    }

    fn scratch_dirs() -> Vec<PathBuf> {
        let prefix = format!("flatsim-embed-{}-", std::process::id());
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .collect()
    }

    #[test]
    fn a_run_without_out_reads_its_files_back_and_removes_the_scratch_dir() {
        let args: Vec<String> = "--hw edge --workload bert --dataflow flash --seq-len 128"
            .split(' ')
            .map(str::to_owned)
            .collect();
        let output = run(&args).unwrap();
        let names: Vec<&str> = output.files.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, RUN_FILES);
        let timeline = String::from_utf8(output.files[2].1.clone()).unwrap();
        assert!(timeline.starts_with("cycle_start,cycle_end,"), "{timeline}");
        assert!(timeline.lines().count() > 1, "{timeline}");
        // A run refused after the directory was made (by the work limit) removes it too.
        let mut refused = args.clone();
        refused.extend(["--max-cycles".to_owned(), "10".to_owned()]);
        assert_eq!(run(&refused).unwrap_err().exit_code(), 2);
        assert_eq!(scratch_dirs(), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_bad_flag_is_bad_input_with_clap_s_message() {
        let err = run(&["--hw".into(), "edge".into(), "--bogus".into()]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(format!("{err}").contains("--bogus"), "{err}");
    }
}
