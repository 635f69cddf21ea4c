//! `flatsim sweep FILE --out DIR`: runs every point of a sweep (or one shard
//! of it), or writes a Slurm job array that runs the shards.

use super::Cli;
use crate::error::{CliError, CliResult};
use crate::output::SummaryRow;
use crate::sweep::merge;
use crate::sweep::runner::{run_points, SweepOutcome};
use crate::sweep::shard::{recorded_count, Shard};
use crate::sweep::slurm;
use crate::sweep::spec::SweepSpec;
use crate::sweep::stored;
use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Sweep file (TOML: version, command, [base], [axes])
    file: PathBuf,
    /// Output directory; a rerun with the same sweep resumes in it
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    out: Option<PathBuf>,
    /// Points run in parallel (default: all cores)
    #[arg(long, value_name = "J")]
    jobs: Option<usize>,
    /// List the points and their arguments without running them
    #[arg(long)]
    dry_run: bool,
    /// Run only the points whose index ≡ I (mod N), into DIR/shards/I/
    #[arg(long, value_name = "I/N", conflicts_with = "slurm")]
    shard: Option<Shard>,
    /// Write DIR/sweep.sbatch, a Slurm job array of --tasks shards, instead of running
    #[arg(long)]
    slurm: bool,
    /// Array tasks (shards) of the Slurm job [default: the study's shard count, else 4]
    #[arg(long, value_name = "N", requires = "slurm")]
    tasks: Option<usize>,
    /// #SBATCH option KEY=VALUE (repeatable), e.g. time=02:00:00, mem=8G, partition=debug
    #[arg(long = "slurm-opt", value_name = "KEY=VALUE", requires = "slurm")]
    slurm_opt: Vec<String>,
    /// Submit the job with sbatch after writing it
    #[arg(long, requires = "slurm")]
    submit: bool,
    /// Resubmit only the tasks whose shards have missing or failed points
    #[arg(long, requires = "slurm")]
    only_missing: bool,
}

/// Runs one point in-process: `command args…` parsed exactly like a command line.
pub fn run_point(command: &str, args: &[String]) -> anyhow::Result<SummaryRow> {
    let argv = ["flatsim", command]
        .into_iter()
        .map(str::to_owned)
        .chain(args.iter().cloned());
    let cli = Cli::try_parse_from(argv)?;
    let row = match cli.command {
        Some(super::Command::Gemm(gemm)) => {
            super::gemm::simulate(&gemm, &cli.set).map(|(row, _)| row)
        }
        Some(super::Command::Run(run)) => super::run::summary_for_sweep(&run, &cli.set),
        _ => return Err(anyhow::anyhow!("a sweep cannot run `{command}`")),
    };
    row.map_err(|e| anyhow::anyhow!("{e:#}"))
}

/// Errors of one point that would fail on its input alone: its arguments,
/// hardware config and workload, checked without simulating.
fn check_point(command: &str, args: &[String], overrides: &[String]) -> CliResult {
    let argv = ["flatsim", command]
        .into_iter()
        .map(str::to_owned)
        .chain(args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(CliError::bad_input)?;
    let set: Vec<String> = overrides.iter().chain(&cli.set).cloned().collect();
    match cli.command {
        Some(super::Command::Gemm(gemm)) => gemm.check_input(&set),
        Some(super::Command::Run(run)) => {
            run.hw.load(&set)?;
            run.workload.load()?;
            Ok(())
        }
        _ => Err(CliError::bad_input(anyhow::anyhow!(
            "a sweep cannot run `{command}`"
        ))),
    }
}

/// Most input errors listed before giving up.
const LISTED_ERRORS: usize = 10;

/// Checks every point's input before any runs; an error names the sweep
/// file's line of the axis (or base entry) it comes from, and its value.
fn check_points(spec: &SweepSpec, overrides: &[String]) -> CliResult {
    // Each distinct error once, with the points it stops.
    let mut errors: Vec<(String, Vec<usize>)> = Vec::new();
    for point in spec.points() {
        let args = spec.run_arguments(&point);
        let Err(err) = check_point(&spec.command, &args, overrides) else {
            continue;
        };
        // clap's message is a paragraph for a terminal: keep its first line.
        let full = format!("{err:#}");
        let first_line = full.lines().next().unwrap_or_default();
        let text = first_line
            .strip_prefix("error: ")
            .unwrap_or(first_line)
            .to_owned();
        let named = |name: &str, value: &str| {
            let flag = format!("--{}", name.replace('_', "-"));
            text.contains(&format!("key `{name}`"))
                || text.contains(&format!("'{flag}"))
                || text.contains(&format!("`{flag}`"))
                || text.contains(&format!("key `{flag}`"))
                || (name == "hw" && text.contains(&spec.resolve_hw(value).display().to_string()))
                || (name == "workload" && text.starts_with(value))
        };
        let axes = spec
            .axes
            .iter()
            .zip(&point.axis_values)
            .zip(&spec.axes_at)
            .map(|(((name, _), value), at)| ("axis", name, value, at));
        let base = spec
            .base
            .iter()
            .zip(&spec.base_at)
            .map(|((name, value), at)| ("base", name, value, at));
        let message = match axes
            .chain(base)
            .find(|(_, name, value, _)| named(name, value))
        {
            Some((kind, name, value, at)) => format!("{at}: {kind} `{name}` = `{value}`: {text}"),
            None => format!("{}: `{}`: {text}", spec.origin, args.join(" ")),
        };
        match errors.iter().position(|(m, _)| *m == message) {
            Some(i) => errors[i].1.push(point.index),
            None if errors.len() < LISTED_ERRORS => errors.push((message, vec![point.index])),
            None => {}
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = errors
        .iter()
        .map(|(message, points)| {
            let shown: Vec<String> = points.iter().take(8).map(usize::to_string).collect();
            let more = if points.len() > 8 { ", …" } else { "" };
            let noun = if points.len() == 1 { "point" } else { "points" };
            format!("{message} ({noun} {}{more})", shown.join(", "))
        })
        .collect();
    Err(CliError::bad_input(anyhow::anyhow!(
        "the sweep's input is refused; no point was run:\n{}",
        lines.join("\n")
    )))
}

pub fn run(args: &SweepArgs, overrides: &[String]) -> CliResult {
    let spec = checked_spec(args, overrides)?;
    if args.dry_run {
        let mut listing = format!(
            "{} points of `flatsim {}`\n",
            spec.point_count(),
            spec.command
        );
        for point in spec.points() {
            listing.push_str(&format!(
                "{}\t{}\n",
                point.index,
                spec.run_arguments(&point).join(" ")
            ));
        }
        return crate::output::print_until_closed(&listing).map_err(CliError::failure);
    }
    if args.slurm {
        // Refused before anything is stored.
        slurm::options(&args.slurm_opt).map_err(CliError::bad_input)?;
        let (spec, out_dir) = stored_spec(args, overrides)?;
        return write_slurm_job(args, &spec, &out_dir);
    }
    let LocalRun {
        points,
        outcome,
        dir,
    } = run_here(args, overrides, true, &|| {})?;
    say!(
        "{} points: {} run, {} already done, {} failed; results in {}",
        points,
        outcome.succeeded,
        outcome.skipped,
        outcome.failed,
        dir.join(crate::sweep::table::SUMMARY_FILE).display()
    );
    if outcome.failed > 0 {
        return Err(CliError::failure(anyhow::anyhow!(
            "{} points failed; see {}",
            outcome.failed,
            dir.join(crate::sweep::table::FAILURES_FILE).display()
        )));
    }
    Ok(())
}

/// A sweep (or shard) run in this process.
#[derive(Debug)]
pub struct LocalRun {
    /// Points of the sweep or shard.
    pub points: usize,
    pub outcome: SweepOutcome,
    /// Where its summary.csv and failures.csv are.
    pub dir: PathBuf,
}

/// The sweep file, every point's input checked.
pub fn checked_spec(args: &SweepArgs, overrides: &[String]) -> CliResult<SweepSpec> {
    let spec = SweepSpec::load(&args.file).map_err(CliError::bad_input)?;
    check_points(&spec, overrides)?;
    Ok(spec)
}

/// The sweep file as stored in `--out` (with `--set` folded in), and `--out`.
fn stored_spec(args: &SweepArgs, overrides: &[String]) -> CliResult<(SweepSpec, PathBuf)> {
    let out_dir = args
        .out
        .clone()
        .expect("clap requires --out without --dry-run");
    let stored_path =
        stored::store(&args.file, &out_dir, overrides).map_err(CliError::bad_input)?;
    let spec = SweepSpec::load(&stored_path).map_err(CliError::bad_input)?;
    Ok((spec, out_dir))
}

/// Runs the sweep's points (or its shard's) in this process, resuming;
/// `on_point` is called as each point ends.
pub fn run_here(
    args: &SweepArgs,
    overrides: &[String],
    show_progress: bool,
    on_point: &(dyn Fn() + Sync),
) -> CliResult<LocalRun> {
    let (spec, out_dir) = stored_spec(args, overrides)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = match args.jobs {
        Some(0) => {
            return Err(CliError::bad_input(anyhow::anyhow!(
                "--jobs must be positive"
            )))
        }
        Some(jobs) if jobs > threads => {
            say!("note: --jobs {jobs} is more than this machine's {threads} threads; running {threads} at a time");
            threads
        }
        Some(jobs) => jobs,
        None => threads,
    };
    let runner = |point_args: &[String]| {
        let row = run_point(&spec.command, point_args);
        on_point();
        row
    };
    let (points, dir) = match args.shard {
        Some(shard) => {
            shard.record_count(&out_dir).map_err(CliError::bad_input)?;
            let dir = shard.dir(&out_dir);
            record_inputs(&out_dir, &dir)?;
            (shard.points(&spec), dir)
        }
        None => (spec.points().collect(), out_dir.clone()),
    };
    // An interrupted run of this sweep may have left temporary files.
    if dir.is_dir() {
        super::common::remove_files(&dir, |name| crate::output::temporary_of(name).is_some())?;
    }
    let outcome = run_points(&spec, &points, &dir, jobs, show_progress, &runner)
        .map_err(CliError::failure)?;
    Ok(LocalRun {
        points: points.len(),
        outcome,
        dir,
    })
}

/// Writes the study's input fingerprint into the shard's directory.
fn record_inputs(out_dir: &std::path::Path, shard_dir: &std::path::Path) -> CliResult {
    let fingerprint = stored::fingerprint(out_dir).map_err(CliError::failure)?;
    std::fs::create_dir_all(shard_dir).map_err(|e| {
        CliError::failure(anyhow::anyhow!(
            "cannot create {}: {e}",
            shard_dir.display()
        ))
    })?;
    crate::output::write_atomic(
        &shard_dir.join(stored::SHARD_INPUTS_FILE),
        format!("{fingerprint}\n").as_bytes(),
    )
    .map_err(CliError::failure)
}

fn write_slurm_job(args: &SweepArgs, spec: &SweepSpec, out_dir: &std::path::Path) -> CliResult {
    // A resubmission keeps the study's split unless --tasks names another (which is refused).
    let task_count = match args.tasks {
        Some(count) => count,
        None => recorded_count(out_dir)
            .map_err(CliError::bad_input)?
            .unwrap_or(slurm::DEFAULT_TASKS),
    };
    if task_count == 0 {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "--tasks must be positive"
        )));
    }
    let options = slurm::options(&args.slurm_opt).map_err(CliError::bad_input)?;
    let shard = Shard {
        index: 0,
        count: task_count,
    };
    shard.record_count(out_dir).map_err(CliError::bad_input)?;
    let tasks: Vec<usize> = if args.only_missing {
        merge::status(out_dir)
            .map_err(CliError::failure)?
            .incomplete_shards()
    } else {
        (0..task_count).collect()
    };
    if tasks.is_empty() {
        say!("every point is done; nothing to submit");
        return Ok(());
    }
    let array = slurm::array_spec(&tasks, task_count);
    let job =
        slurm::write_script(out_dir, task_count, &array, &options).map_err(CliError::failure)?;
    let script = job.script;
    say!(
        "wrote {} ({} points in {} tasks)",
        script.display(),
        spec.point_count(),
        tasks.len()
    );
    if job.binary == slurm::BinaryCopy::KeptOther {
        say!(
            "note: the study keeps its own flatsim ({}), another build than this one; delete it to run the remaining tasks with this build",
            out_dir.join(slurm::BINARY_COPY).display()
        );
    }
    if args.submit {
        let output = std::process::Command::new("sbatch")
            .arg(&script)
            .output()
            .map_err(|e| CliError::failure(anyhow::anyhow!("cannot run sbatch: {e}")))?;
        let _ = crate::output::print_until_closed(&String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            return Err(CliError::failure(anyhow::anyhow!(
                "sbatch failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    } else {
        say!("submit with: sbatch {}", script.display());
    }
    Ok(())
}
