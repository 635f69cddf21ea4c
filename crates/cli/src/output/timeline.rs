//! `timeline.csv` (one row per epoch), streamed: each epoch is written as
//! the run produces it, so memory does not grow with simulated time.

use super::{number, AtomicFile};
use sim::{Epoch, EpochSink};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const TIMELINE_COLUMNS: &[&str] = &[
    "cycle_start",
    "cycle_end",
    "pe_util",
    "vector_util",
    "dram_bw_util",
    "sram_bytes_live",
];

/// A timeline being written; the first write error is kept and reported
/// by [`TimelineCsv::commit`] (a sink cannot fail the run). Dropped
/// without commit, it leaves nothing behind.
#[derive(Debug)]
pub struct TimelineCsv {
    path: PathBuf,
    writer: csv::Writer<AtomicFile>,
    error: Option<csv::Error>,
}

impl TimelineCsv {
    /// Starts `path` (see [`AtomicFile::create_numbered`] for `number`).
    pub fn create(path: &Path, number: usize) -> anyhow::Result<Self> {
        let mut writer = csv::Writer::from_writer(AtomicFile::create_numbered(path, number)?);
        let error = writer.write_record(TIMELINE_COLUMNS).err();
        Ok(TimelineCsv {
            path: path.to_owned(),
            writer,
            error,
        })
    }

    pub fn commit(self) -> anyhow::Result<()> {
        if let Some(e) = self.error {
            anyhow::bail!("cannot write {}: {e}", self.path.display());
        }
        let file = self
            .writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.path.display(), e.error()))?;
        file.commit()
    }
}

impl EpochSink for TimelineCsv {
    fn record(&mut self, e: &Epoch) {
        if self.error.is_some() {
            return;
        }
        let row = [
            e.cycle_start.to_string(),
            e.cycle_end.to_string(),
            number(e.pe_util),
            number(e.vector_util),
            number(e.dram_bw_util),
            e.sram_bytes_live.to_string(),
        ];
        self.error = self.writer.write_record(&row).err();
    }
}

/// A timeline the simulator can own while the caller keeps the file to commit.
#[derive(Debug, Clone)]
pub struct SharedTimeline(Arc<Mutex<TimelineCsv>>);

impl SharedTimeline {
    pub fn new(timeline: TimelineCsv) -> Self {
        SharedTimeline(Arc::new(Mutex::new(timeline)))
    }

    /// The file, once the simulator has dropped its handle.
    pub fn into_inner(self) -> anyhow::Result<TimelineCsv> {
        Arc::try_unwrap(self.0)
            .map_err(|_| anyhow::anyhow!("the timeline is still in use"))?
            .into_inner()
            .map_err(|_| anyhow::anyhow!("the timeline writer failed"))
    }
}

impl EpochSink for SharedTimeline {
    fn record(&mut self, epoch: &Epoch) {
        if let Ok(mut timeline) = self.0.lock() {
            timeline.record(epoch);
        }
    }
}
