//! Arguments and steps shared by several subcommands.

use crate::error::{CliError, CliResult};
use hwconfig::HwConfig;
use std::path::{Path, PathBuf};

/// `--hw FILE`: a hardware config file or a built-in preset name.
#[derive(Debug, clap::Args)]
pub struct HwArgs {
    /// Hardware config (TOML file, or a built-in preset: edge, cloud, edge-cycle, cloud-cycle)
    #[arg(long, value_name = "FILE")]
    pub hw: PathBuf,
}

impl HwArgs {
    pub fn load(&self, overrides: &[String]) -> CliResult<HwConfig> {
        load_checked(&self.hw, overrides)
    }
}

/// Loads a hardware config and checks what only the models can: the DRAM
/// preset's organisation against channels, ranks and the address mapping,
/// and the vector unit's stream buffers against its lanes and the SRAM lines.
pub fn load_checked(path: &Path, overrides: &[String]) -> CliResult<HwConfig> {
    let hw = HwConfig::load(path, overrides)?;
    check_models(&hw, &path.display().to_string())?;
    Ok(hw)
}

/// The model checks of [`load_checked`] on a config read from `origin`.
pub fn check_models(hw: &HwConfig, origin: &str) -> CliResult {
    let refuse = |key: &str, reason: &str| {
        CliError::bad_input(anyhow::anyhow!("{origin}: key `{key}`: {reason}"))
    };
    if let Err(e) = dram::MemoryModel::from_config(hw) {
        return Err(refuse(e.key, &e.reason));
    }
    let link = sram::SramLinkTiming::of(&hw.sram);
    if let Err(reason) = vector::check_buffer(&hw.vector, hw.core.element_bytes, link) {
        return Err(refuse("vector.lanes", &reason));
    }
    Ok(())
}

/// `--out DIR [--force]`.
#[derive(Debug, clap::Args)]
pub struct OutArgs {
    /// Directory for the output files; nothing is written without it
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into an existing output directory, replacing its files
    #[arg(long)]
    pub force: bool,
}

impl OutArgs {
    /// Creates the output directory; refuses an existing one without --force.
    pub fn prepare(&self) -> CliResult<Option<&Path>> {
        let Some(dir) = &self.out else {
            return Ok(None);
        };
        if dir.exists() && !self.force {
            return Err(CliError::bad_input(anyhow::anyhow!(
                "output directory {} exists; pass --force to write into it",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::bad_input(anyhow::anyhow!(
                "cannot create output directory {}: {e}",
                dir.display()
            ))
        })?;
        remove_files(dir, crate::output::is_output_file)?;
        Ok(Some(dir))
    }
}

/// Removes the files of `dir` whose name passes `remove`: with --force the
/// files an earlier run wrote (and the temporary files of an interrupted
/// one), so none is left stale beside the new results; other files are kept.
pub fn remove_files(dir: &Path, remove: impl Fn(&str) -> bool) -> CliResult {
    let fail = |e: std::io::Error| {
        CliError::failure(anyhow::anyhow!(
            "cannot clear old outputs in {}: {e}",
            dir.display()
        ))
    };
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let is_file = entry.file_type().map_err(fail)?.is_file();
        if is_file && remove(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(fail)?;
        }
    }
    Ok(())
}
