//! `flatsim dram-check`: runs the protocol checker over a command trace
//! (the `--command-trace` CSV of `flatsim dram` or `flatsim run`, or one
//! converted from another simulator) against the configured preset.

use super::common::HwArgs;
use crate::error::{CliError, CliResult};
use crate::output::print_until_closed;
use dram::checker::ProtocolChecker;
use dram::spec::{presets, IssuedCommand};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Violations printed in full; the rest are counted.
const PRINTED_VIOLATIONS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct DramCheckArgs {
    #[command(flatten)]
    hw: HwArgs,
    /// Command trace: CSV with header cycle,cmd,channel,rank,bankgroup,bank,row,col (DRAM clock cycles)
    #[arg(long, value_name = "FILE.csv")]
    commands: PathBuf,
    /// Cycle the run ended, for the refresh-interval check (default: the last command's cycle)
    #[arg(long, value_name = "CYCLE")]
    end_cycle: Option<u64>,
}

/// Checks every command against `dram.preset` with `dram.ranks` ranks;
/// exits 1 when a rule is broken.
pub fn run(args: &DramCheckArgs, overrides: &[String]) -> CliResult {
    let hw = args.hw.load(overrides)?;
    if hw.dram.model != hwconfig::DramModel::Cycle {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "{}: dram-check needs dram.model = \"cycle\" (its preset is the protocol checked), e.g. --hw edge-cycle",
            args.hw.hw.display()
        )));
    }
    let spec = presets::preset(hw.dram.preset);
    let path = &args.commands;
    let bad = |line: usize, reason: &dyn std::fmt::Display| {
        CliError::bad_input(anyhow::anyhow!("{}: line {line}: {reason}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(|e| {
        CliError::bad_input(anyhow::anyhow!(
            "cannot read command trace {}: {e}",
            path.display()
        ))
    })?;
    let mut checker = ProtocolChecker::new(spec, hw.dram.ranks);
    let mut last_cycle = 0;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let number = i + 1;
        let line = line.map_err(|e| bad(number, &e))?;
        if number == 1 {
            if line.trim_end() != IssuedCommand::CSV_HEADER {
                return Err(bad(
                    number,
                    &format!("expected the header `{}`", IssuedCommand::CSV_HEADER),
                ));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let command = IssuedCommand::parse_csv_row(&line).map_err(|e| bad(number, &e))?;
        if u64::from(command.channel) >= hw.dram.channels {
            return Err(bad(
                number,
                &format!(
                    "channel {} does not exist: the config has dram.channels = {}",
                    command.channel, hw.dram.channels
                ),
            ));
        }
        last_cycle = last_cycle.max(command.cycle);
        checker.check(&command);
    }
    checker.finish(args.end_cycle.unwrap_or(last_cycle));
    let count = checker.violation_count();
    let mut text = format!(
        "{}: {} commands checked against {} with {} rank(s) per channel: {count} violation(s)\n",
        path.display(),
        checker.commands_checked(),
        spec.name,
        hw.dram.ranks
    );
    for v in checker.violations().iter().take(PRINTED_VIOLATIONS) {
        text += &format!("  {v}\n");
    }
    if count > PRINTED_VIOLATIONS as u64 {
        text += &format!("  … and {} more\n", count - PRINTED_VIOLATIONS as u64);
    }
    print_until_closed(&text).map_err(CliError::failure)?;
    if count > 0 {
        return Err(CliError::failure(anyhow::anyhow!(
            "{}: {count} protocol violation(s)",
            path.display()
        )));
    }
    Ok(())
}
