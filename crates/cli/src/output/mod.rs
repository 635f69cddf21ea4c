//! Output files: atomic writes and the CSV formats of design §8.

mod atomic;
mod commands;
mod stats;
#[macro_use]
mod stdout;
mod summary;
mod timeline;
mod trace;

pub use atomic::{write_atomic, AtomicFile};
pub use commands::{CsvCommandSink, SharedCommandSink};
pub use stats::stats_csv;
pub use stdout::{print_until_closed, stdout_error};
pub use summary::{SummaryRow, SUMMARY_COLUMNS};
pub use timeline::{SharedTimeline, TimelineCsv};
pub use trace::{CsvTraceSink, PerfettoSink};

/// Whether `name` is a file some flatsim command writes into `--out DIR`,
/// or the temporary file of one (see [`temporary_of`]): what `--force` clears
/// so no earlier run's file is left beside the new ones.
pub fn is_output_file(name: &str) -> bool {
    let name = temporary_of(name).unwrap_or(name);
    matches!(
        name,
        "summary.csv"
            | "stats.csv"
            | "timeline.csv"
            | "config.resolved.toml"
            | "trace.json"
            | "dram.csv"
    ) || (name.starts_with("trace_") && name.ends_with(".csv"))
}

/// The file `name` is the temporary of (`.NAME.PID.tmp` or
/// `.NAME.PID.NUMBER.tmp`, as
/// [`AtomicFile`] names them), if it is one.
pub fn temporary_of(name: &str) -> Option<&str> {
    let is_number = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    let temporary = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    match temporary.rsplit_once('.') {
        // A candidate plan's timeline adds its number after the pid.
        Some((rest, n)) if is_number(n) => match rest.rsplit_once('.') {
            Some((name, pid)) if is_number(pid) => Some(name),
            _ => Some(rest),
        },
        _ => None,
    }
}

/// A CSV document (header, unless empty, then rows) as bytes, numbers already formatted.
pub fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if !header.is_empty() {
        writer.write_record(header)?;
    }
    for row in rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// A number in plain decimal (never an exponent), shortest round-trip form.
pub fn number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
