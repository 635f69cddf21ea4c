//! Runs the points of a sweep in parallel, resuming where a previous run of
//! the same sweep stopped.

use crate::output::SummaryRow;
use crate::sweep::spec::{Point, SweepSpec};
use crate::sweep::table::{
    append_record, failure_record, failures_header, read_rows, summary_header, summary_record,
    write_sorted, FAILURES_FILE, SUMMARY_FILE,
};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::Path;
use std::sync::Mutex;

/// Runs one point from its `flatsim run` arguments.
pub type PointRunner<'a> = dyn Fn(&[String]) -> anyhow::Result<SummaryRow> + Sync + 'a;

/// What a sweep (or shard) run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Points already in summary.csv, skipped.
    pub skipped: usize,
    pub succeeded: usize,
    pub failed: usize,
}

/// Runs `points` (those not yet in `out_dir/summary.csv`) on `jobs` threads.
/// Each finished point is appended to summary.csv (or failures.csv) at once,
/// so a killed run loses nothing finished; at the end both files are
/// rewritten in point order.
pub fn run_points(
    spec: &SweepSpec,
    points: &[Point],
    out_dir: &Path,
    jobs: usize,
    show_progress: bool,
    runner: &PointRunner<'_>,
) -> Result<SweepOutcome> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let summary_path = out_dir.join(SUMMARY_FILE);
    let failures_path = out_dir.join(FAILURES_FILE);
    let header = summary_header(spec);
    let done = read_rows(&summary_path, &header)?;
    // Rewrite first, so appends follow a clean last line.
    write_sorted(&summary_path, &header, &done, false)?;
    let pending: Vec<&Point> = points
        .iter()
        .filter(|p| !done.contains_key(&p.index))
        .collect();

    let progress = crate::progress::bar(pending.len() as u64, "points", show_progress);
    let writer = Mutex::new(());
    let failures = Mutex::new(std::collections::BTreeMap::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()?;
    let append_errors: Vec<anyhow::Error> = pool.install(|| {
        pending
            .par_iter()
            .filter_map(|point| {
                let result = runner(&spec.run_arguments(point));
                progress.inc(1);
                let _guard = writer.lock().unwrap_or_else(|e| e.into_inner());
                match result {
                    Ok(row) => {
                        append_record(&summary_path, &header, &summary_record(spec, point, &row))
                            .err()
                    }
                    Err(error) => {
                        let record = failure_record(spec, point, &format!("{error:#}"));
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(point.index, record.clone());
                        append_record(&failures_path, &failures_header(spec), &record).err()
                    }
                }
            })
            .collect()
    });
    progress.finish_and_clear();
    if let Some(error) = append_errors.into_iter().next() {
        return Err(error);
    }
    let rows = read_rows(&summary_path, &header)?;
    write_sorted(&summary_path, &header, &rows, false)?;
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    write_sorted(&failures_path, &failures_header(spec), &failures, true)?;
    Ok(SweepOutcome {
        skipped: points.len() - pending.len(),
        succeeded: pending.len() - failures.len(),
        failed: failures.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn spec() -> SweepSpec {
        let text = "version = 1\n[base]\nhw = \"edge\"\n[axes]\nseq_len = [1, 2, 3, 4, 5]\nmapping = [\"auto\", \"fixed\"]\n";
        SweepSpec::parse("s.toml", text, PathBuf::new()).unwrap()
    }

    /// A fake run: cycles = seq_len · 10, fails for seq_len 4 with mapping fixed.
    fn fake(args: &[String]) -> anyhow::Result<SummaryRow> {
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .map(|i| args[i + 1].clone())
                .unwrap()
        };
        let seq_len: u64 = value("--seq-len").parse()?;
        if seq_len == 4 && value("--mapping") == "fixed" {
            anyhow::bail!("no plan fits");
        }
        Ok(SummaryRow {
            hw: "edge".into(),
            seq_len: Some(seq_len),
            cycles: seq_len * 10,
            ..SummaryRow::default()
        })
    }

    #[test]
    fn runs_every_point_once_in_order_and_records_failures() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec();
        let points: Vec<Point> = spec.points().collect();
        let outcome = run_points(&spec, &points, dir.path(), 2, false, &fake).unwrap();
        assert_eq!(
            outcome,
            SweepOutcome {
                skipped: 0,
                succeeded: 9,
                failed: 1
            }
        );
        let summary = std::fs::read_to_string(dir.path().join(SUMMARY_FILE)).unwrap();
        let lines: Vec<&str> = summary.lines().collect();
        assert_eq!(lines.len(), 10);
        assert!(lines[0].starts_with("point,mapping,hw,"));
        let indices: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(indices, ["0", "1", "2", "3", "4", "5", "6", "8", "9"]);
        let failures = std::fs::read_to_string(dir.path().join(FAILURES_FILE)).unwrap();
        assert_eq!(failures, "point,mapping,error\n7,fixed,no plan fits\n");
    }

    #[test]
    fn a_killed_sweep_resumes_with_one_row_per_point() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec();
        let points: Vec<Point> = spec.points().collect();
        // First run "killed" after 3 points: only they reach the file, the
        // last one half-written.
        let header = summary_header(&spec);
        for point in &points[..3] {
            append_record(
                &dir.path().join(SUMMARY_FILE),
                &header,
                &summary_record(&spec, point, &fake(&spec.run_arguments(point)).unwrap()),
            )
            .unwrap();
        }
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(SUMMARY_FILE))
            .unwrap();
        std::io::Write::write_all(&mut file, b"3,fixed,edge,,,2").unwrap();
        drop(file);

        let calls = AtomicUsize::new(0);
        let counting = |args: &[String]| {
            calls.fetch_add(1, Ordering::SeqCst);
            fake(args)
        };
        let outcome = run_points(&spec, &points, dir.path(), 2, false, &counting).unwrap();
        assert_eq!(outcome.skipped, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 7);
        let resumed = std::fs::read_to_string(dir.path().join(SUMMARY_FILE)).unwrap();

        let fresh = tempfile::tempdir().unwrap();
        run_points(&spec, &points, fresh.path(), 1, false, &fake).unwrap();
        assert_eq!(
            resumed,
            std::fs::read_to_string(fresh.path().join(SUMMARY_FILE)).unwrap()
        );

        // Running again does nothing but the failed point.
        let again = run_points(&spec, &points, dir.path(), 2, false, &fake).unwrap();
        assert_eq!(
            again,
            SweepOutcome {
                skipped: 9,
                succeeded: 0,
                failed: 1
            }
        );
    }
}
