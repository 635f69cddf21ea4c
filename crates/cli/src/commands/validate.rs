use crate::error::CliResult;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Hardware config file to check
    pub file: PathBuf,
}

pub fn run(args: &ValidateArgs, overrides: &[String]) -> CliResult {
    let config = super::common::load_checked(&args.file, overrides)?;
    say!("{}: ok ({})", args.file.display(), config.name);
    Ok(())
}
