//! The sweep's result tables: summary.csv with the point's parameters as
//! leading columns, and failures.csv. Rows are appended as points finish and
//! rewritten in point order at the end, so the final files do not depend on
//! which point finished first.

use crate::output::{csv_bytes, write_atomic, SummaryRow, SUMMARY_COLUMNS};
use crate::sweep::spec::{Point, SweepSpec};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const SUMMARY_FILE: &str = "summary.csv";
pub const FAILURES_FILE: &str = "failures.csv";

/// Leading columns: `point` and every axis not already a summary column
/// (e.g. `mapping`, `sram.capacity_bytes`), so no column name repeats.
pub fn leading_columns(spec: &SweepSpec) -> Vec<&str> {
    std::iter::once("point")
        .chain(
            spec.axis_names()
                .into_iter()
                .filter(|name| !SUMMARY_COLUMNS.contains(name)),
        )
        .collect()
}

fn leading_cells(spec: &SweepSpec, point: &Point) -> Vec<String> {
    std::iter::once(point.index.to_string())
        .chain(
            spec.axes
                .iter()
                .zip(&point.axis_values)
                .filter(|((name, _), _)| !SUMMARY_COLUMNS.contains(&name.as_str()))
                .map(|(_, value)| value.clone()),
        )
        .collect()
}

pub fn summary_header(spec: &SweepSpec) -> Vec<&str> {
    let mut header = leading_columns(spec);
    header.extend_from_slice(SUMMARY_COLUMNS);
    header
}

pub fn failures_header(spec: &SweepSpec) -> Vec<&str> {
    let mut header = leading_columns(spec);
    header.push("error");
    header
}

pub fn summary_record(spec: &SweepSpec, point: &Point, row: &SummaryRow) -> Vec<String> {
    let mut cells = leading_cells(spec, point);
    cells.extend(row.cells());
    cells
}

pub fn failure_record(spec: &SweepSpec, point: &Point, error: &str) -> Vec<String> {
    let mut cells = leading_cells(spec, point);
    cells.push(error.to_owned());
    cells
}

/// Complete rows of a table written by this sweep, keyed by point index.
/// A partial last line (a run killed mid-write) is ignored.
pub fn read_rows(path: &Path, header: &[&str]) -> Result<BTreeMap<usize, Vec<String>>> {
    let mut rows = BTreeMap::new();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(rows),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(complete.as_bytes());
    let mut records = reader.records();
    match records.next() {
        None => return Ok(rows),
        Some(found) => {
            let found = found?;
            if found.iter().ne(header.iter().copied()) {
                bail!("{} was written by a different sweep (its columns differ); use another --out directory", path.display());
            }
        }
    }
    for record in records {
        let record = record.with_context(|| format!("malformed row in {}", path.display()))?;
        let Some(index) = record.get(0).and_then(|p| p.parse::<usize>().ok()) else {
            bail!("{}: a row has no point number", path.display());
        };
        if record.len() == header.len() {
            rows.entry(index)
                .or_insert_with(|| record.iter().map(str::to_owned).collect());
        }
    }
    Ok(rows)
}

/// Appends one CSV record to `path` in a single write, creating the file
/// with its header first.
pub fn append_record(path: &Path, header: &[&str], record: &[String]) -> Result<()> {
    let exists = path.exists();
    let bytes = if exists {
        csv_bytes(&[], std::slice::from_ref(&record.to_vec()))?
    } else {
        csv_bytes(header, std::slice::from_ref(&record.to_vec()))?
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(&bytes)
        .with_context(|| format!("cannot append to {}", path.display()))?;
    Ok(())
}

/// Rewrites a table in point order (atomically); removes it when empty and `remove_if_empty`.
pub fn write_sorted(
    path: &Path,
    header: &[&str],
    rows: &BTreeMap<usize, Vec<String>>,
    remove_if_empty: bool,
) -> Result<()> {
    if rows.is_empty() && remove_if_empty {
        match std::fs::remove_file(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    let records: Vec<Vec<String>> = rows.values().cloned().collect();
    write_atomic(path, &csv_bytes(header, &records)?)
}
