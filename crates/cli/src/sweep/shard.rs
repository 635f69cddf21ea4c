//! Sharding: shard I of N runs the points whose index ≡ I (mod N) — round
//! robin, so shards get similar mixes of small and large points — and
//! writes to `DIR/shards/I/`.

use crate::sweep::spec::{Point, SweepSpec};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};

pub const SHARDS_DIR: &str = "shards";
/// Written by every shard run: the shard count, which all shards must agree on.
pub const SHARD_COUNT_FILE: &str = "count";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("expected I/N, found `{text}`"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("shard index `{i}` is not a number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count `{n}` is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 ≤ I < N"));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    pub fn owns(&self, point_index: usize) -> bool {
        point_index % self.count == self.index
    }

    pub fn points(&self, spec: &SweepSpec) -> Vec<Point> {
        spec.points().filter(|p| self.owns(p.index)).collect()
    }

    pub fn dir(&self, out_dir: &Path) -> PathBuf {
        out_dir.join(SHARDS_DIR).join(self.index.to_string())
    }

    /// Records the shard count in `DIR/shards/count`, refusing a different one.
    pub fn record_count(&self, out_dir: &Path) -> Result<()> {
        let shards = out_dir.join(SHARDS_DIR);
        std::fs::create_dir_all(&shards)
            .with_context(|| format!("cannot create {}", shards.display()))?;
        let path = shards.join(SHARD_COUNT_FILE);
        match recorded_count(out_dir)? {
            Some(count) if count != self.count => bail!(
                "{} holds shards of a {count}-way split; this run is {}-way (keep {count} shards, or use another --out directory)",
                out_dir.display(),
                self.count
            ),
            Some(_) => Ok(()),
            None => crate::output::write_atomic(&path, format!("{}\n", self.count).as_bytes()),
        }
    }
}

/// The shard count recorded in `DIR/shards/count`, if any.
pub fn recorded_count(out_dir: &Path) -> Result<Option<usize>> {
    let path = out_dir.join(SHARDS_DIR).join(SHARD_COUNT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("{}: not a shard count", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn shards_cover_every_point_exactly_once(points in 1usize..200, count in 1usize..17) {
            let mut seen = vec![0; points];
            for index in 0..count {
                let shard = Shard { index, count };
                for p in (0..points).filter(|p| shard.owns(*p)) {
                    seen[p] += 1;
                }
            }
            prop_assert!(seen.iter().all(|&n| n == 1));
        }
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
