use crate::error::CliResult;
use hwconfig::HwConfig;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Hardware config file to check
    pub file: PathBuf,
}

pub fn run(args: &ValidateArgs, overrides: &[String]) -> CliResult {
    let config = HwConfig::load(&args.file, overrides)?;
    println!("{}: ok ({})", args.file.display(), config.name);
    Ok(())
}
