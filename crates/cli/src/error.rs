use std::fmt;

/// A failed command, classified for the exit code (design §7): bad input
/// (config, flags, files) exits 2, a simulation failure exits 1.
#[derive(Debug)]
pub enum CliError {
    BadInput(anyhow::Error),
    Failure(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Failure(_) => 1,
        }
    }

    pub fn bad_input(err: impl Into<anyhow::Error>) -> Self {
        CliError::BadInput(err.into())
    }

    pub fn failure(err: impl Into<anyhow::Error>) -> Self {
        CliError::Failure(err.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (CliError::BadInput(err) | CliError::Failure(err)) = self;
        if f.alternate() {
            write!(f, "{err:#}")
        } else {
            write!(f, "{err}")
        }
    }
}

impl From<hwconfig::ConfigError> for CliError {
    fn from(err: hwconfig::ConfigError) -> Self {
        CliError::BadInput(err.into())
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
