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
pub use stdout::print_until_closed;
pub use summary::{SummaryRow, SUMMARY_COLUMNS};
pub use timeline::{SharedTimeline, TimelineCsv};
pub use trace::{CsvTraceSink, PerfettoSink};

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
