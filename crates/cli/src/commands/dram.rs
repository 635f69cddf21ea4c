//! `flatsim dram`: replays an `addr,is_write` trace on the configured DRAM
//! as the reference harness does (design §7) and reports `dram.csv` (§8).

use super::common::{HwArgs, OutArgs};
use crate::error::{CliError, CliResult};
use crate::output::{csv_bytes, number, print_until_closed, write_atomic, CsvCommandSink};
use dram::replay::{replay, DramReport, ReplayOptions, TraceReader};
use dram::spec::NullCommandSink;
use dram::MemoryModel;
use std::io::BufReader;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DramArgs {
    #[command(flatten)]
    hw: HwArgs,
    /// Request trace: CSV with header `addr,is_write` (addr decimal or 0x-hex, is_write 0 or 1)
    #[arg(long, value_name = "FILE.csv")]
    trace: PathBuf,
    /// Reads in flight at most; 1 offers the next request only after the previous read returned (default: unlimited; with the bandwidth model, dma.max_outstanding)
    #[arg(long, value_name = "K")]
    max_outstanding: Option<usize>,
    /// Write every DRAM command to FILE as CSV: cycle,cmd,channel,rank,bankgroup,bank,row,col
    #[arg(long, value_name = "FILE")]
    command_trace: Option<PathBuf>,
    #[command(flatten)]
    out: OutArgs,
}

pub fn run(args: &DramArgs, overrides: &[String]) -> CliResult {
    let (report, description) = replay_trace(args, overrides)?;
    if let Some(dir) = &args.out.out {
        write_report(dir, &report)?;
    }
    print_until_closed(&format!("{description}\n{report}")).map_err(CliError::failure)
}

/// Replays the trace (refusing an existing `--out` first, as `run` writes
/// into it): the report and a description of the DRAM model.
pub fn replay_trace(args: &DramArgs, overrides: &[String]) -> CliResult<(DramReport, String)> {
    if args.max_outstanding == Some(0) {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "--max-outstanding must be at least 1 (omit it for unlimited)"
        )));
    }
    let hw = args.hw.load(overrides)?;
    let model = MemoryModel::from_config(&hw)
        .map_err(|e| CliError::bad_input(anyhow::anyhow!("{}: {e}", args.hw.hw.display())))?;
    args.out.prepare()?;
    let file = std::fs::File::open(&args.trace).map_err(|e| {
        CliError::bad_input(anyhow::anyhow!(
            "cannot read trace {}: {e}",
            args.trace.display()
        ))
    })?;
    let trace = TraceReader::new(BufReader::new(file)).map(|r| r.map(|t| (t.addr, t.is_write)));
    let options = ReplayOptions {
        max_outstanding: args.max_outstanding,
        every_cycle: false,
    };
    let trace_error = |e: dram::replay::TraceError| {
        CliError::bad_input(anyhow::anyhow!("{}: {e}", args.trace.display()))
    };
    let (report, description) = match model {
        MemoryModel::Cycle(mut dram) => {
            let description = format!(
                "dram {}: {} channel(s) × {} rank(s), {}, {} page, {} refresh, queues {}+{}, tCK {} ns",
                dram.spec().name,
                dram.channels(),
                dram.ranks(),
                hw.dram.address_mapping,
                hw.dram.page_policy,
                hw.dram.refresh,
                hw.dram.read_queue,
                hw.dram.write_queue,
                number(dram.spec().timing.tck_ns()),
            );
            let report = match &args.command_trace {
                Some(path) => {
                    let mut sink = CsvCommandSink::create(path).map_err(CliError::bad_input)?;
                    let report =
                        replay(dram.as_mut(), trace, options, &mut sink).map_err(trace_error)?;
                    sink.commit().map_err(CliError::failure)?;
                    report
                }
                None => replay(dram.as_mut(), trace, options, &mut NullCommandSink)
                    .map_err(trace_error)?,
            };
            (report, description)
        }
        MemoryModel::Bandwidth(mut pipe) => {
            if args.command_trace.is_some() {
                return Err(CliError::bad_input(anyhow::anyhow!(
                    "--command-trace needs dram.model = \"cycle\"; the bandwidth model issues no DRAM commands"
                )));
            }
            // The pipe never refuses: the requester's limit bounds what is
            // in flight (and what the replay holds in memory).
            let limit = args
                .max_outstanding
                .unwrap_or(hw.dma.max_outstanding as usize);
            let description = format!(
                "dram bandwidth model: {} GiB/s, {} ns latency, at most {limit} reads in flight (cycles are core cycles)",
                number(hw.dram.bandwidth_gib_per_s.unwrap_or(0.0)),
                number(hw.dram.latency_ns)
            );
            let options = ReplayOptions {
                max_outstanding: Some(limit),
                ..options
            };
            let report =
                replay(&mut pipe, trace, options, &mut NullCommandSink).map_err(trace_error)?;
            (report, description)
        }
    };
    Ok((report, description))
}

/// `dram.csv`: the report's one row.
pub fn report_csv(report: &DramReport) -> CliResult<Vec<u8>> {
    let row: Vec<String> = report.values().into_iter().map(number).collect();
    csv_bytes(&DramReport::COLUMNS, &[row]).map_err(CliError::failure)
}

fn write_report(dir: &Path, report: &DramReport) -> CliResult {
    write_atomic(&dir.join("dram.csv"), &report_csv(report)?).map_err(CliError::failure)
}
