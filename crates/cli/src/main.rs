//! `flatsim`: the command line. It parses arguments, reads and writes files
//! and formats results; the models live in the library crates.

#[macro_use]
mod output;
mod commands;
mod error;
mod progress;
mod sweep;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(()) => match output::stdout_error() {
            None => ExitCode::SUCCESS,
            Some(err) => {
                eprintln!("error: cannot write to stdout: {err}");
                ExitCode::from(1)
            }
        },
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}
