//! `cycle,cmd,channel,rank,bankgroup,bank,row,col` CSV of every DRAM command
//! (`flatsim dram --command-trace`, `flatsim run --trace dram`).

use super::AtomicFile;
use dram::spec::{CommandSink, IssuedCommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Streams commands to a CSV file, written atomically; the first write
/// error is kept and reported at the end (a sink cannot fail the run).
#[derive(Debug)]
pub struct CsvCommandSink {
    path: PathBuf,
    file: AtomicFile,
    error: Option<std::io::Error>,
}

impl CsvCommandSink {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let mut file = AtomicFile::create(path)?;
        let error = writeln!(file.writer(), "{}", IssuedCommand::CSV_HEADER).err();
        Ok(CsvCommandSink {
            path: path.to_owned(),
            file,
            error,
        })
    }

    pub fn commit(self) -> anyhow::Result<()> {
        if let Some(e) = self.error {
            anyhow::bail!("cannot write {}: {e}", self.path.display());
        }
        self.file.commit()
    }
}

impl CommandSink for CsvCommandSink {
    fn command(&mut self, command: &IssuedCommand) {
        if self.error.is_none() {
            self.error = writeln!(self.file.writer(), "{}", command.csv_row()).err();
        }
    }
}

/// A sink the simulator can own while the caller keeps the file to commit.
#[derive(Debug, Clone)]
pub struct SharedCommandSink(pub Arc<Mutex<CsvCommandSink>>);

impl CommandSink for SharedCommandSink {
    fn command(&mut self, command: &IssuedCommand) {
        if let Ok(mut sink) = self.0.lock() {
            sink.command(command);
        }
    }
}
