//! `flatsim sweep-merge DIR`: shards of a sweep → DIR/summary.csv.

use crate::error::{CliError, CliResult};
use crate::sweep::merge;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SweepMergeArgs {
    /// Output directory of a sharded (or Slurm) sweep
    dir: PathBuf,
}

pub fn run(args: &SweepMergeArgs) -> CliResult {
    let report = merge::merge(&args.dir).map_err(CliError::bad_input)?;
    say!(
        "{} of {} points merged into {}",
        report.merged_points,
        report.total_points,
        args.dir.join(crate::sweep::table::SUMMARY_FILE).display()
    );
    for (point, shard) in &report.missing {
        say!("missing: point {point} (shard {shard})");
    }
    for (point, shard, error) in &report.failed {
        say!("failed: point {point} (shard {shard}): {error}");
    }
    if report.is_complete() {
        Ok(())
    } else {
        Err(CliError::failure(anyhow::anyhow!(
            "{} points missing, {} failed",
            report.missing.len(),
            report.failed.len()
        )))
    }
}
