//! `flatsim`: the command line. It parses arguments, reads and writes files
//! and formats results; the models live in the library crates.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::commands::Cli::parse();
    match cli::commands::run(cli) {
        Ok(()) => match cli::stdout_error() {
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
