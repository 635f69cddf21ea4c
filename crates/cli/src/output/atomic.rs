use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under a temporary name in the same directory and renamed
/// into place by [`AtomicFile::commit`], so a reader (or an interrupted run)
/// never sees a half-written file. Dropped without commit, it removes the
/// temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<std::fs::File>>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        Self::create_numbered(path, 0)
    }

    /// Like [`AtomicFile::create`]; files of the same `path` with different
    /// numbers may be open at once (one per candidate plan), and the one
    /// committed last wins.
    pub fn create_numbered(path: &Path, number: usize) -> anyhow::Result<Self> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .context("output path has no file name")?
            .to_string_lossy();
        let temporary = dir.join(format!(".{name}.{}.{number}.tmp", std::process::id()));
        let file = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot create {}", temporary.display()))?;
        Ok(AtomicFile {
            path: path.to_owned(),
            temporary,
            writer: Some(BufWriter::new(file)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<std::fs::File> {
        self.writer
            .as_mut()
            .expect("writer is present until commit")
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let writer = self.writer.take().expect("commit runs once");
        let result = (|| {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&self.temporary, &self.path)
        })();
        result.with_context(|| format!("cannot write {}", self.path.display()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.writer()
        .write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_before_commit_and_nothing_stays_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let mut file = AtomicFile::create(&path).unwrap();
        file.writer().write_all(b"a,b\n").unwrap();
        assert!(!path.exists());
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        let mut abandoned = AtomicFile::create(&dir.path().join("y.csv")).unwrap();
        abandoned.writer().write_all(b"partial").unwrap();
        drop(abandoned);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.csv")]);
    }
}
