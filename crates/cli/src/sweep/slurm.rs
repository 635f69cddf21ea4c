//! `flatsim sweep FILE --slurm`: a Slurm job array whose task I runs shard
//! I/N of the stored sweep with a copy of this flatsim binary.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const SBATCH_FILE: &str = "sweep.sbatch";
pub const BINARY_COPY: &str = "bin/flatsim";

/// `#SBATCH` options used unless `--slurm-opt KEY=VALUE` replaces them.
const DEFAULT_OPTIONS: &[(&str, &str)] =
    &[("time", "01:00:00"), ("mem", "4G"), ("cpus-per-task", "2")];

/// Options given as `KEY=VALUE`, replacing the defaults key by key.
pub fn options(overrides: &[String]) -> Result<Vec<(String, String)>> {
    let mut options: Vec<(String, String)> = DEFAULT_OPTIONS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for entry in overrides {
        let Some((key, value)) = entry.split_once('=') else {
            bail!("--slurm-opt `{entry}`: expected KEY=VALUE, e.g. partition=debug");
        };
        let key = key.trim().trim_start_matches("--").to_owned();
        if key.is_empty() || key == "array" {
            bail!("--slurm-opt `{entry}`: `{key}` cannot be set (the array comes from --tasks)");
        }
        options.retain(|(k, _)| *k != key);
        options.push((key, value.trim().to_owned()));
    }
    Ok(options)
}

/// Shell-quotes `text` for a bash script.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Writes `DIR/sweep.sbatch` for `tasks` shards, running the array indices
/// `array` (e.g. `0-3`, or `1,3` when resubmitting), and copies this binary
/// into `DIR/bin/`. Returns the script's path.
pub fn write_script(
    out_dir: &Path,
    sweep_name: &str,
    tasks: usize,
    array: &str,
    options: &[(String, String)],
) -> Result<PathBuf> {
    let out_dir = out_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", out_dir.display()))?;
    let binary = out_dir.join(BINARY_COPY);
    let current = std::env::current_exe().context("cannot locate the flatsim binary")?;
    if !binary.exists() || std::fs::read(&binary).ok() != std::fs::read(&current).ok() {
        std::fs::create_dir_all(out_dir.join("bin"))?;
        let temporary = out_dir.join("bin/.flatsim.tmp");
        std::fs::copy(&current, &temporary).with_context(|| {
            format!(
                "cannot copy {} into {}",
                current.display(),
                out_dir.display()
            )
        })?;
        std::fs::rename(&temporary, &binary)?;
    }
    std::fs::create_dir_all(out_dir.join("logs"))?;
    let dir = out_dir.display().to_string();
    let mut script = String::from("#!/bin/bash\n");
    script.push_str(&format!(
        "#SBATCH --job-name={}\n",
        quote(&format!("flatsim-{sweep_name}"))
    ));
    script.push_str(&format!("#SBATCH --array={array}\n"));
    script.push_str(&format!(
        "#SBATCH --output={}\n",
        quote(&format!("{dir}/logs/%A_%a.out"))
    ));
    for (key, value) in options {
        script.push_str(&format!("#SBATCH --{key}={value}\n"));
    }
    script.push_str("set -euo pipefail\n");
    script.push_str(&format!(
        "exec {} sweep {} --out {} --shard \"$SLURM_ARRAY_TASK_ID/{tasks}\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        quote(&binary.display().to_string()),
        quote(&format!("{dir}/{}", super::stored::STORED_SWEEP_FILE)),
        quote(&dir),
    ));
    let path = out_dir.join(SBATCH_FILE);
    crate::output::write_atomic(&path, script.as_bytes())?;
    Ok(path)
}

/// `0-3` for all tasks, or `1,3` for some.
pub fn array_spec(tasks: &[usize], all: usize) -> String {
    if tasks.len() == all && all > 0 {
        format!("0-{}", all - 1)
    } else {
        tasks
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_replace_defaults() {
        let options = options(&["time=02:00:00".into(), "partition=debug".into()]).unwrap();
        assert!(options.contains(&("time".into(), "02:00:00".into())));
        assert!(options.contains(&("partition".into(), "debug".into())));
        assert_eq!(options.iter().filter(|(k, _)| k == "time").count(), 1);
        assert!(super::options(&["array=1".into()]).is_err());
        assert!(super::options(&["novalue".into()]).is_err());
    }

    #[test]
    fn array_specs() {
        assert_eq!(array_spec(&[0, 1, 2, 3], 4), "0-3");
        assert_eq!(array_spec(&[1, 3], 4), "1,3");
    }

    #[test]
    fn script_runs_the_stored_sweep_with_the_copied_binary() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_script(dir.path(), "demo", 4, "0-3", &options(&[]).unwrap()).unwrap();
        let script = std::fs::read_to_string(path).unwrap();
        assert!(script.contains("#SBATCH --array=0-3"));
        assert!(script.contains("#SBATCH --mem=4G"));
        assert!(script.contains("--shard \"$SLURM_ARRAY_TASK_ID/4\""));
        assert!(script.contains("/bin/flatsim' sweep"));
        assert!(dir.path().join(BINARY_COPY).exists());
    }
}
