//! The sweep file as stored in its output directory: `DIR/sweep.toml`, with
//! every input file it names (hw configs, workload files) copied into
//! `DIR/inputs/`, so the study is self-contained and a later edit of the
//! original files cannot change it. Every run, local or sharded, runs the
//! stored copy.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

pub const STORED_SWEEP_FILE: &str = "sweep.toml";
pub const INPUTS_DIR: &str = "inputs";

/// Parameters whose values may name files next to the sweep file.
const FILE_PARAMETERS: &[&str] = &["hw", "workload"];

/// Stores `sweep_path` in `out_dir` with the command line's `--set`
/// `overrides` added to `[base.set]` (or checks that the stored copy is the
/// same sweep) and returns the stored path.
pub fn store(sweep_path: &Path, out_dir: &Path, overrides: &[String]) -> Result<PathBuf> {
    let stored_path = out_dir.join(STORED_SWEEP_FILE);
    if same_file(sweep_path, &stored_path) && overrides.is_empty() {
        return Ok(stored_path);
    }
    let text = std::fs::read_to_string(sweep_path)
        .with_context(|| format!("{}: cannot read the sweep file", sweep_path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{}: not valid TOML", sweep_path.display()))?;
    let base_dir = sweep_path.parent().unwrap_or(Path::new(""));
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut localize = |value: &mut Value| -> Result<()> {
        let Some(name) = value.as_str() else {
            return Ok(());
        };
        // An absolute path is copied like a relative one (join keeps it
        // as is): the study must not change when the original is edited.
        let source = base_dir.join(name);
        if !source.is_file() {
            return Ok(());
        }
        let stored_name = format!("{INPUTS_DIR}/{}", name.replace(['/', '\\'], "_"));
        let bytes =
            std::fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
        *value = Value::from(stored_name.as_str());
        inputs.push((stored_name, bytes));
        Ok(())
    };
    // [base], [axes], and the [[skip]] rules, which name axis values and
    // so are renamed with the axes.
    let mut tables: Vec<&mut toml_edit::Table> = Vec::new();
    for (name, item) in doc.iter_mut() {
        match (name.get(), item) {
            ("base" | "axes", Item::Table(table)) => tables.push(table),
            ("skip", Item::ArrayOfTables(rules)) => tables.extend(rules.iter_mut()),
            _ => {}
        }
    }
    for table in tables {
        for param in FILE_PARAMETERS {
            match table.get_mut(param) {
                Some(Item::Value(Value::Array(values))) => {
                    for value in values.iter_mut() {
                        localize(value)?;
                    }
                }
                Some(Item::Value(value)) => localize(value)?,
                _ => {}
            }
        }
    }
    for assignment in overrides {
        let Some((key, raw)) = assignment.split_once('=') else {
            bail!("--set `{assignment}`: expected KEY=VALUE");
        };
        let value = raw
            .trim()
            .parse::<Value>()
            .unwrap_or_else(|_| Value::from(raw.trim()));
        let base = doc
            .entry("base")
            .or_insert_with(|| Item::Table(toml_edit::Table::new()));
        let set = base
            .as_table_mut()
            .context("[base] must be a table")?
            .entry("set")
            .or_insert_with(|| Item::Table(toml_edit::Table::new()));
        set.as_table_like_mut()
            .context("[base.set] must be a table")?
            .insert(key.trim(), Item::Value(value));
    }
    let stored_text = doc.to_string();
    std::fs::create_dir_all(out_dir.join(INPUTS_DIR))
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut files = vec![(STORED_SWEEP_FILE.to_owned(), stored_text.into_bytes())];
    files.extend(inputs);
    for (name, bytes) in &files {
        let path = out_dir.join(name);
        match std::fs::read(&path) {
            Ok(existing) if existing == *bytes => {}
            Ok(_) => bail!(
                "{} holds a different sweep ({} differs); use another --out directory",
                out_dir.display(),
                name
            ),
            Err(_) => crate::output::write_atomic(&path, bytes)?,
        }
    }
    Ok(stored_path)
}

/// In each shard's directory: the fingerprint of the study's inputs the
/// shard ran with, so `sweep-merge` refuses shards that ran different inputs.
pub const SHARD_INPUTS_FILE: &str = "inputs.fingerprint";

/// A fingerprint of the stored study, `DIR/sweep.toml` and every file of
/// `DIR/inputs/`: 64-bit FNV-1a over their names and bytes in name order
/// (a change detector between runs of one study, not a security hash).
pub fn fingerprint(out_dir: &Path) -> Result<String> {
    let mut names = vec![STORED_SWEEP_FILE.to_owned()];
    if let Ok(entries) = std::fs::read_dir(out_dir.join(INPUTS_DIR)) {
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", out_dir.display()))?;
            names.push(format!(
                "{INPUTS_DIR}/{}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    names.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in &names {
        let bytes = std::fs::read(out_dir.join(name))
            .with_context(|| format!("cannot read {}", out_dir.join(name).display()))?;
        for byte in name.bytes().chain([0]).chain(bytes) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_inputs_and_refuses_a_different_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = dir.path().join("s.toml");
        std::fs::write(dir.path().join("my-hw.toml"), "version = 1\n").unwrap();
        std::fs::write(
            &sweep,
            "version = 1\n[base]\nhw = \"my-hw.toml\"\n[axes]\nworkload = [\"bert\", \"xlm\"]\n",
        )
        .unwrap();
        let out = dir.path().join("out");
        let stored = store(&sweep, &out, &[]).unwrap();
        let text = std::fs::read_to_string(&stored).unwrap();
        assert!(text.contains("hw = \"inputs/my-hw.toml\""), "{text}");
        assert!(text.contains("\"bert\""), "presets stay names: {text}");
        assert_eq!(
            std::fs::read_to_string(out.join("inputs/my-hw.toml")).unwrap(),
            "version = 1\n"
        );
        // Storing again, or running the stored copy, is a no-op.
        assert_eq!(store(&sweep, &out, &[]).unwrap(), stored);
        assert_eq!(store(&stored, &out, &[]).unwrap(), stored);
        // An edited input makes it a different sweep.
        std::fs::write(dir.path().join("my-hw.toml"), "version = 1\nname = \"x\"\n").unwrap();
        assert!(store(&sweep, &out, &[])
            .unwrap_err()
            .to_string()
            .contains("different sweep"));
    }

    #[test]
    fn skip_rules_follow_the_renamed_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = dir.path().join("s.toml");
        std::fs::write(dir.path().join("my-hw.toml"), "version = 1\n").unwrap();
        std::fs::write(
            &sweep,
            "version = 1\n[axes]\nhw = [\"my-hw.toml\", \"edge\"]\nseq_len = [512, 1024]\n[[skip]]\nhw = \"my-hw.toml\"\nseq_len = 1024\n",
        )
        .unwrap();
        let stored = store(&sweep, &dir.path().join("out"), &[]).unwrap();
        let spec = crate::sweep::spec::SweepSpec::load(&stored).unwrap();
        let points: Vec<Vec<String>> = spec.points().map(|p| p.axis_values).collect();
        assert_eq!(points.len(), 3);
        assert!(!points.contains(&vec!["inputs/my-hw.toml".to_owned(), "1024".to_owned()]));
    }
}
