//! `flatsim sweep FILE --slurm`: a Slurm job array whose task I runs shard
//! I/N of the stored sweep with a copy of this flatsim binary.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const SBATCH_FILE: &str = "sweep.sbatch";
pub const BINARY_COPY: &str = "bin/flatsim";
/// Array tasks of a study that has no shards yet, unless `--tasks` says.
pub const DEFAULT_TASKS: usize = 4;

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
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            bail!("--slurm-opt `{entry}`: expected a long sbatch option name before `=`, e.g. time=02:00:00");
        }
        if key == "array" {
            bail!("--slurm-opt `{entry}`: `{key}` cannot be set (the array comes from --tasks)");
        }
        let value = value.trim();
        // One #SBATCH line per option: a line break would end it and start
        // a line sbatch reads as something else.
        if value.is_empty() || value.chars().any(char::is_control) {
            bail!("--slurm-opt `{}`: the value must be non-empty and on one line, without control characters", entry.escape_debug());
        }
        options.retain(|(k, _)| *k != key);
        options.push((key, value.to_owned()));
    }
    Ok(options)
}

/// Shell-quotes `text` for a bash script.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The study's copy of the flatsim binary, `DIR/bin/flatsim`, against the
/// flatsim writing the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryCopy {
    /// Copied from this flatsim now.
    Copied,
    /// Already this flatsim.
    Same,
    /// Another build, kept: every task of a study runs the binary it started
    /// with, even when a rebuilt flatsim resubmits some of them.
    KeptOther,
}

/// A written job script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmJob {
    pub script: PathBuf,
    pub binary: BinaryCopy,
}

/// Copies `current` (this flatsim) to `DIR/bin/flatsim` unless a copy is there.
fn copy_binary(out_dir: &Path, current: &Path) -> Result<BinaryCopy> {
    let binary = out_dir.join(BINARY_COPY);
    if binary.exists() {
        let same = std::fs::read(&binary).ok() == std::fs::read(current).ok();
        return Ok(if same {
            BinaryCopy::Same
        } else {
            BinaryCopy::KeptOther
        });
    }
    std::fs::create_dir_all(out_dir.join("bin"))?;
    // Copy under a temporary name and rename, so no task ever starts a half-copied binary.
    let temporary = out_dir.join(format!("bin/.flatsim.{}.tmp", std::process::id()));
    std::fs::copy(current, &temporary).with_context(|| {
        format!(
            "cannot copy {} into {}",
            current.display(),
            out_dir.display()
        )
    })?;
    std::fs::rename(&temporary, &binary)?;
    Ok(BinaryCopy::Copied)
}

/// Writes `DIR/sweep.sbatch` for `tasks` shards, running the array indices
/// `array` (e.g. `0-3`, or `1,3` when resubmitting), and copies this binary
/// into `DIR/bin/` unless the study has its copy already.
pub fn write_script(
    out_dir: &Path,
    tasks: usize,
    array: &str,
    options: &[(String, String)],
) -> Result<SlurmJob> {
    let out_dir = out_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", out_dir.display()))?;
    let current = std::env::current_exe().context("cannot locate the flatsim binary")?;
    let binary_copy = copy_binary(&out_dir, &current)?;
    let binary = out_dir.join(BINARY_COPY);
    std::fs::create_dir_all(out_dir.join("logs"))?;
    let dir = out_dir.display().to_string();
    // Named after the study's directory, so resubmissions share the name.
    let study = out_dir
        .file_name()
        .map_or("sweep".into(), |name| name.to_string_lossy().into_owned());
    let mut script = String::from("#!/bin/bash\n");
    script.push_str(&format!(
        "#SBATCH --job-name={}\n",
        quote(&format!("flatsim-{study}"))
    ));
    script.push_str(&format!("#SBATCH --array={array}\n"));
    script.push_str(&format!(
        "#SBATCH --output={}\n",
        quote(&format!("{dir}/logs/%A_%a.out"))
    ));
    for (key, value) in options {
        script.push_str(&format!("#SBATCH --{key}={}\n", quote(value)));
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
    Ok(SlurmJob {
        script: path,
        binary: binary_copy,
    })
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
        assert!(super::options(&["time limit=1".into()]).is_err());
    }

    #[test]
    fn option_values_stay_on_one_line() {
        for bad in ["time=01:00\n#SBATCH --x", "mem=", "partition=a\rb"] {
            let err = options(&[bad.to_owned()]).unwrap_err().to_string();
            assert!(err.contains("on one line"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn array_specs() {
        assert_eq!(array_spec(&[0, 1, 2, 3], 4), "0-3");
        assert_eq!(array_spec(&[1, 3], 4), "1,3");
    }

    #[test]
    fn script_runs_the_stored_sweep_with_the_copied_binary() {
        let dir = tempfile::tempdir().unwrap();
        let study = dir.path().join("demo");
        std::fs::create_dir(&study).unwrap();
        let job = write_script(
            &study,
            4,
            "0-3",
            &options(&["comment=two words".into()]).unwrap(),
        )
        .unwrap();
        assert_eq!(job.binary, BinaryCopy::Copied);
        let script = std::fs::read_to_string(&job.script).unwrap();
        assert!(script.contains("#SBATCH --job-name='flatsim-demo'\n"));
        assert!(script.contains("#SBATCH --array=0-3\n"));
        assert!(script.contains("#SBATCH --mem='4G'\n"));
        assert!(script.contains("#SBATCH --comment='two words'\n"));
        assert!(script.contains("--shard \"$SLURM_ARRAY_TASK_ID/4\""));
        assert!(script.contains("/bin/flatsim' sweep"));
        assert!(study.join(BINARY_COPY).exists());
        let again = write_script(&study, 4, "1", &options(&[]).unwrap()).unwrap();
        assert_eq!(again.binary, BinaryCopy::Same);
    }

    #[test]
    fn a_study_keeps_its_binary_when_another_build_resubmits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let binary = dir.path().join(BINARY_COPY);
        std::fs::write(&binary, b"the build the study started with").unwrap();
        let job = write_script(dir.path(), 4, "2", &options(&[]).unwrap()).unwrap();
        assert_eq!(job.binary, BinaryCopy::KeptOther);
        assert_eq!(
            std::fs::read(&binary).unwrap(),
            b"the build the study started with"
        );
    }
}
