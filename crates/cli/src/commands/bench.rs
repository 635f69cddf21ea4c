//! `flatsim bench`: the simulator's standard speed cases, timed.
//!
//! The three `edge-bert4096-*` cases are the runs `flatsim` makes without
//! arguments (edge, BERT, B = 1, N = 4096: unfused, flat and flash, each
//! with auto mapping); `cloud-bert16384-flat-r512` is the cloud-scale case
//! (BERT, N = 16384, FLAT at R granularity with 512 rows, bandwidth DRAM);
//! the two `cloud-llama3-8b-*` cases are decoder attention: causal flash
//! prefill at N = 8192 (grouped KV heads, masked blocks skipped) and flash
//! decode of one token per sequence against an 8K-token cache (B = 8).
//! Each case prints the chosen plan's cycles, the cycles simulated to find
//! and run it (with `--mapping auto`, every candidate up to where it was
//! given up: the work the speed figures divide), wall time, CPU time (from
//! `/proc/self/schedstat`: on a shared machine the steadier figure),
//! simulated cycles per wall and per CPU second and the peak resident memory
//! of the run (`VmHWM`, reset before each case where the kernel allows).

use super::run::simulate;
use crate::error::{CliError, CliResult};
use compiler::{Dataflow, DataflowSpec, Gran, Mapping, Mask, Phase, Workload, WorkloadFlags};
use hwconfig::HwConfig;
use sim::RunOptions;
use std::time::Instant;

/// Tilings `--mapping auto` simulates, as in `flatsim` without arguments.
const AUTO_CANDIDATES: usize = 2;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Run only the cases whose name contains this text (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub case: Vec<String>,
    /// Step every cycle instead of jumping to the next event (to measure what fast-forward saves)
    #[arg(long)]
    pub no_fast_forward: bool,
}

/// One standard case.
struct Case {
    name: &'static str,
    hw: &'static str,
    model: &'static str,
    workload: WorkloadFlags,
    spec: DataflowSpec,
}

fn cases() -> Vec<Case> {
    let bert = |seq_len| WorkloadFlags {
        batch: Some(1),
        seq_len: Some(seq_len),
        ..WorkloadFlags::default()
    };
    let edge = |name, spec| Case {
        name,
        hw: "edge",
        model: "bert",
        workload: bert(4096),
        spec,
    };
    let auto = |dataflow| DataflowSpec {
        mapping: Mapping::Auto,
        ..DataflowSpec::new(dataflow)
    };
    vec![
        edge("edge-bert4096-unfused-auto", auto(Dataflow::Unfused)),
        edge("edge-bert4096-flat-auto", auto(Dataflow::Flat)),
        edge("edge-bert4096-flash-auto", auto(Dataflow::Flash)),
        Case {
            name: "cloud-bert16384-flat-r512",
            hw: "cloud",
            model: "bert",
            workload: bert(16384),
            spec: DataflowSpec {
                gran: Some(Gran::R),
                rows: Some(512),
                ..DataflowSpec::new(Dataflow::Flat)
            },
        },
        Case {
            name: "cloud-llama3-8b-8192-causal-flash",
            hw: "cloud",
            model: "llama3-8b",
            workload: WorkloadFlags {
                mask: Some(Mask::Causal),
                ..bert(8192)
            },
            spec: DataflowSpec::new(Dataflow::Flash),
        },
        Case {
            name: "cloud-llama3-8b-decode-b8-8k-flash",
            hw: "cloud",
            model: "llama3-8b",
            workload: WorkloadFlags {
                batch: Some(8),
                phase: Some(Phase::Decode),
                kv_len: Some(8192),
                ..WorkloadFlags::default()
            },
            spec: DataflowSpec::new(Dataflow::Flash),
        },
    ]
}

/// The process's peak resident set in bytes, from `/proc/self/status`.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time the process has run, in seconds, from `/proc/self/schedstat`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 * 1e-9)
}

/// Resets the peak resident set to the current one (Linux `clear_refs` 5);
/// false where the kernel does not allow it.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn run(args: &BenchArgs, overrides: &[String]) -> CliResult {
    let selected: Vec<Case> = cases()
        .into_iter()
        .filter(|c| args.case.is_empty() || args.case.iter().any(|t| c.name.contains(t)))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
        return Err(CliError::bad_input(anyhow::anyhow!(
            "--case matches no case; the cases are: {}",
            names.join(", ")
        )));
    }
    let fast_forward = !args.no_fast_forward;
    println!(
        "{:<27} {:>12} {:>16} {:>8} {:>8} {:>13} {:>16} {:>12}  plan",
        "case",
        "cycles",
        "simulated_cycles",
        "wall_s",
        "cpu_s",
        "cycles_per_s",
        "cycles_per_cpu_s",
        "peak_rss_MiB"
    );
    let mut per_case_rss = true;
    let mut edge = (0u64, 0u64, 0.0, 0.0); // plan cycles, simulated cycles, wall, CPU
    for case in &selected {
        let hw = HwConfig::parse(
            case.hw,
            hwconfig::builtin_preset(case.hw).unwrap_or_default(),
            overrides,
        )?;
        super::common::check_models(&hw, case.hw)?;
        let w = Workload::load_with(case.model, &case.workload)?;
        per_case_rss &= reset_peak_rss();
        let (started, cpu_started) = (Instant::now(), cpu_seconds());
        let outcome = simulate(
            &hw,
            &w,
            &case.spec,
            AUTO_CANDIDATES,
            None,
            Default::default(),
            || RunOptions {
                fast_forward,
                ..Default::default()
            },
        )?;
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds()
            .zip(cpu_started)
            .map(|(end, start)| end - start);
        // With auto mapping every candidate plan was simulated (up to where it was given up).
        let simulated: u64 = if outcome.tried.is_empty() {
            outcome.report.cycles
        } else {
            outcome.tried.iter().map(|t| t.cycles).sum()
        };
        let cycles = outcome.report.cycles;
        if case.hw == "edge" {
            edge.0 += cycles;
            edge.1 += simulated;
            edge.2 += wall;
            edge.3 += cpu.unwrap_or(f64::NAN);
        }
        let rss = peak_rss_bytes().map_or_else(
            || "-".to_string(),
            |b| format!("{:.1}", b as f64 / f64::from(1 << 20)),
        );
        println!(
            "{:<27} {:>12} {:>16} {:>8.2} {:>8} {:>13.0} {:>16} {:>12}  {}",
            case.name,
            cycles,
            simulated,
            wall,
            cpu.map_or_else(|| "-".to_string(), |c| format!("{c:.2}")),
            simulated as f64 / wall,
            cpu.map_or_else(
                || "-".to_string(),
                |c| format!("{:.0}", simulated as f64 / c)
            ),
            rss,
            outcome.plan.label()
        );
    }
    if selected.iter().filter(|c| c.hw == "edge").count() == 3 {
        let (cycles, simulated, wall, cpu) = edge;
        println!(
            "{:<27} {:>12} {:>16} {:>8.2} {:>8.2} {:>13.0} {:>16.0} {:>12}  the three edge cases",
            "edge-bert4096 (= flatsim)",
            cycles,
            simulated,
            wall,
            cpu,
            simulated as f64 / wall,
            simulated as f64 / cpu,
            ""
        );
    }
    if !per_case_rss {
        println!(
            "(peak_rss_MiB is the process's peak so far: this kernel does not reset it per case)"
        );
    }
    Ok(())
}
