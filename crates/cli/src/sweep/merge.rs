//! `flatsim sweep-merge DIR`: gathers the shards' rows into `DIR/summary.csv`
//! in point order, and reports the points still missing or failed.

use crate::sweep::shard::{recorded_count, SHARDS_DIR};
use crate::sweep::spec::SweepSpec;
use crate::sweep::stored::STORED_SWEEP_FILE;
use crate::sweep::table::{
    failures_header, read_rows, summary_header, write_sorted, FAILURES_FILE, SUMMARY_FILE,
};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeReport {
    pub total_points: usize,
    pub merged_points: usize,
    /// (point, shard) of points no shard has finished.
    pub missing: Vec<(usize, usize)>,
    /// (point, shard, error) of points whose last run failed.
    pub failed: Vec<(usize, usize, String)>,
}

impl MergeReport {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty()
    }

    /// Shards that still have missing or failed points, ascending.
    pub fn incomplete_shards(&self) -> Vec<usize> {
        let mut shards: Vec<usize> = self
            .missing
            .iter()
            .map(|(_, s)| *s)
            .chain(self.failed.iter().map(|(_, s, _)| *s))
            .collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    }
}

/// Rows keyed by point index.
type Rows = BTreeMap<usize, Vec<String>>;

/// Everything the shards hold: the sweep, the shard count, finished rows and failures.
struct Collected {
    spec: SweepSpec,
    shard_count: usize,
    rows: Rows,
    failures: Rows,
}

/// Collects every shard's rows (and failures) without writing anything.
fn collect(out_dir: &Path) -> Result<Collected> {
    let spec = SweepSpec::load(&out_dir.join(STORED_SWEEP_FILE))
        .with_context(|| format!("{} is not a sweep output directory", out_dir.display()))?;
    let Some(count) = recorded_count(out_dir)? else {
        bail!(
            "{} has no shards (run `flatsim sweep … --shard I/N` or `--slurm` first)",
            out_dir.display()
        );
    };
    let (header, failure_header) = (summary_header(&spec), failures_header(&spec));
    let mut rows = BTreeMap::new();
    let mut failures = BTreeMap::new();
    let fingerprint = crate::sweep::stored::fingerprint(out_dir)?;
    for shard in 0..count {
        let dir = out_dir.join(SHARDS_DIR).join(shard.to_string());
        let recorded = dir.join(crate::sweep::stored::SHARD_INPUTS_FILE);
        if let Ok(text) = std::fs::read_to_string(&recorded) {
            if text.trim() != fingerprint {
                bail!(
                    "shard {shard} ran with other inputs than {} holds now ({} is {}, the study's are {fingerprint}); rerun that shard or use a new --out directory",
                    out_dir.display(),
                    recorded.display(),
                    text.trim()
                );
            }
        }
        rows.extend(read_rows(&dir.join(SUMMARY_FILE), &header)?);
        failures.extend(read_rows(&dir.join(FAILURES_FILE), &failure_header)?);
    }
    failures.retain(|point, _| !rows.contains_key(point));
    Ok(Collected {
        spec,
        shard_count: count,
        rows,
        failures,
    })
}

/// Status of the shards, without writing.
pub fn status(out_dir: &Path) -> Result<MergeReport> {
    let c = collect(out_dir)?;
    Ok(report(&c.spec, c.shard_count, &c.rows, &c.failures))
}

fn report(
    spec: &SweepSpec,
    count: usize,
    rows: &BTreeMap<usize, Vec<String>>,
    failures: &BTreeMap<usize, Vec<String>>,
) -> MergeReport {
    let total_points = spec.point_count();
    let missing = spec
        .points()
        .map(|p| p.index)
        .filter(|p| !rows.contains_key(p) && !failures.contains_key(p))
        .map(|p| (p, p % count))
        .collect();
    let failed = failures
        .iter()
        .map(|(p, record)| (*p, p % count, record.last().cloned().unwrap_or_default()))
        .collect();
    MergeReport {
        total_points,
        merged_points: rows.len(),
        missing,
        failed,
    }
}

/// Writes `DIR/summary.csv` (and `DIR/failures.csv` when points failed) from the shards.
pub fn merge(out_dir: &Path) -> Result<MergeReport> {
    let c = collect(out_dir)?;
    write_sorted(
        &out_dir.join(SUMMARY_FILE),
        &summary_header(&c.spec),
        &c.rows,
        false,
    )?;
    write_sorted(
        &out_dir.join(FAILURES_FILE),
        &failures_header(&c.spec),
        &c.failures,
        true,
    )?;
    Ok(report(&c.spec, c.shard_count, &c.rows, &c.failures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::SummaryRow;
    use crate::sweep::runner::run_points;
    use crate::sweep::shard::Shard;

    fn fake(args: &[String]) -> anyhow::Result<SummaryRow> {
        let i = args.iter().position(|a| a == "--seq-len").unwrap();
        let seq_len: u64 = args[i + 1].parse()?;
        if seq_len == 7 {
            anyhow::bail!("boom");
        }
        Ok(SummaryRow {
            hw: "edge".into(),
            seq_len: Some(seq_len),
            cycles: seq_len,
            ..SummaryRow::default()
        })
    }

    #[test]
    fn merge_is_idempotent_detects_gaps_and_matches_a_local_run() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = dir.path().join("s.toml");
        std::fs::write(&sweep, "version = 1\n[base]\nhw = \"edge\"\n[axes]\nseq_len = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n").unwrap();
        let out = dir.path().join("out");
        let stored = crate::sweep::stored::store(&sweep, &out, &[]).unwrap();
        let spec = SweepSpec::load(&stored).unwrap();
        // Run shards 0, 1 and 3 of 4; shard 2 never ran.
        for index in [0, 1, 3] {
            let shard = Shard { index, count: 4 };
            shard.record_count(&out).unwrap();
            run_points(
                &spec,
                &shard.points(&spec),
                &shard.dir(&out),
                1,
                false,
                &fake,
            )
            .unwrap();
        }
        let report = merge(&out).unwrap();
        assert_eq!(report.total_points, 12);
        assert_eq!(report.missing, vec![(2, 2), (6, 2), (10, 2)]);
        assert!(
            report.failed.is_empty(),
            "point 6 belongs to the shard that never ran"
        );
        assert!(!report.is_complete());
        assert_eq!(report.incomplete_shards(), vec![2]);

        let shard = Shard { index: 2, count: 4 };
        run_points(
            &spec,
            &shard.points(&spec),
            &shard.dir(&out),
            1,
            false,
            &fake,
        )
        .unwrap();
        let report = merge(&out).unwrap();
        assert_eq!(report.missing, vec![]);
        assert_eq!(report.failed, vec![(6, 2, "boom".to_owned())]);
        let first = std::fs::read(out.join(SUMMARY_FILE)).unwrap();
        merge(&out).unwrap();
        assert_eq!(
            std::fs::read(out.join(SUMMARY_FILE)).unwrap(),
            first,
            "merging twice gives the same file"
        );

        let local = dir.path().join("local");
        run_points(
            &spec,
            &spec.points().collect::<Vec<_>>(),
            &local,
            2,
            false,
            &fake,
        )
        .unwrap();
        assert_eq!(
            std::fs::read(local.join(SUMMARY_FILE)).unwrap(),
            first,
            "merged shards equal a local run"
        );
        assert_eq!(
            std::fs::read(local.join(FAILURES_FILE)).unwrap(),
            std::fs::read(out.join(FAILURES_FILE)).unwrap()
        );
    }
}
