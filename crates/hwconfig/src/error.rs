use std::fmt;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A TOML file, with the 1-based line of the key when known.
    File { path: String, line: Option<usize> },
    /// A `--set key=value` override on the command line.
    Override,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{path}:{line}"),
            Origin::File { path, line: None } => write!(f, "{path}"),
            Origin::Override => f.write_str("--set"),
        }
    }
}

/// A rejected configuration: one message that names where, which key and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub origin: Origin,
    /// Dotted key path (`sram.banks`), or the empty string for file-level errors.
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.reason)
        } else {
            write!(f, "{}: key `{}`: {}", self.origin, self.key, self.reason)
        }
    }
}

impl ConfigError {
    pub fn new(origin: Origin, key: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            origin,
            key: key.into(),
            reason: reason.into(),
        }
    }
}
