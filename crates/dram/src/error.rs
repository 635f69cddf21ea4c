use std::fmt;

/// A DRAM configuration that cannot be built, naming the config key to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DramConfigError {
    /// Dotted key (`dram.ranks`).
    pub key: &'static str,
    pub reason: String,
}

impl DramConfigError {
    pub fn new(key: &'static str, reason: impl Into<String>) -> Self {
        DramConfigError {
            key,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DramConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.reason)
    }
}

impl std::error::Error for DramConfigError {}
