//! Hardware configuration: the TOML schema of design §3, read in two stages —
//! the document is checked against the key declarations (unknown keys,
//! types, ranges, enums; every error names file, line, key and reason), then
//! resolved into typed sections with defaults filled in and cross-key
//! relations checked.
//!
//! `hwconfig` knows nothing about simulation: it only describes hardware.

mod docs;
mod error;
mod mapping;
pub mod schema;
mod sections;
mod source;
mod value;

pub use docs::config_reference_markdown;
pub use error::{ConfigError, Origin};
pub use mapping::{AddrField, AddressMapping};
pub use schema::{KeyDoc, Section};
pub use sections::{
    Core, Dma, Dram, DramModel, DramPreset, Energy, HwConfig, OpCycles, PagePolicy, PeArray,
    PeDataflow, RefreshPolicy, Sram, Vector,
};
pub use source::{edit_distance, line_of, Source};
pub use value::{check, ConfigValue};

use std::path::Path;

/// Hardware presets shipped with flatsim, usable by name wherever a config
/// file is expected (`--hw edge`).
pub const BUILTIN_PRESETS: &[(&str, &str)] = &[
    ("edge", include_str!("../../../configs/hw/edge.toml")),
    ("cloud", include_str!("../../../configs/hw/cloud.toml")),
    (
        "edge-cycle",
        include_str!("../../../configs/hw/edge-cycle.toml"),
    ),
    (
        "cloud-cycle",
        include_str!("../../../configs/hw/cloud-cycle.toml"),
    ),
];

impl HwConfig {
    /// Reads `source`: rejects unknown keys, resolves every declared key and
    /// checks the relations between keys.
    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let keys: Vec<String> = Self::all_keys().into_iter().map(|k| k.path).collect();
        let tables: Vec<&str> = Self::tables().into_iter().map(|(path, _)| path).collect();
        source.reject_unknown_keys(&keys, &tables)?;
        let config = Self::resolve(source)?;
        config.check_relations(source)?;
        Ok(config)
    }

    /// Parses TOML `text` read from `origin_name`, applying `overrides`
    /// (`key=value`) on top.
    pub fn parse(origin_name: &str, text: &str, overrides: &[String]) -> Result<Self, ConfigError> {
        let mut source = Source::parse(origin_name, text)?;
        for assignment in overrides {
            source.add_override(assignment)?;
        }
        Self::from_source(&source)
    }

    /// Loads a config file, or a built-in preset by name (`edge`, `cloud`, …)
    /// when no such file exists.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&display, &text, overrides),
            Err(err) => match builtin_preset(&display) {
                Some(text) => Self::parse(&format!("<built-in {display}>"), text, overrides),
                None => Err(ConfigError::new(
                    Origin::File {
                        path: display,
                        line: None,
                    },
                    "",
                    format!(
                        "cannot read the file: {err} (built-in presets: {})",
                        BUILTIN_PRESETS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
        }
    }

    /// The built-in edge platform (FLAT's 32×32 PEs, 512 KiB, 50 GiB/s).
    pub fn edge() -> Self {
        let text = builtin_preset("edge").expect("edge preset is built in");
        Self::parse("<built-in edge>", text, &[]).expect("the built-in edge preset is valid")
    }

    /// Every parameter as used, defaults filled in, as TOML text.
    pub fn to_toml_string(&self) -> String {
        let mut doc = toml_edit::DocumentMut::new();
        self.write(&mut doc);
        // Keys the DRAM model ignores are not "used"; the file would be refused with them.
        if let Some(dram) = doc.get_mut("dram").and_then(|d| d.as_table_like_mut()) {
            for key in self.ignored_dram_keys().0 {
                dram.remove(key.trim_start_matches("dram."));
            }
        }
        doc.to_string()
    }

    /// Core clock frequency in Hz.
    pub fn clock_hz(&self) -> f64 {
        self.core.clock_mhz * 1e6
    }

    fn check_relations(&self, source: &Source) -> Result<(), ConfigError> {
        let fail =
            |key: &str, reason: String| Err(ConfigError::new(source.origin_of(key), key, reason));
        let stripe = self.sram.banks * self.sram.bank_width_bytes;
        if !self.sram.capacity_bytes.is_multiple_of(stripe) {
            return fail(
                "sram.capacity_bytes",
                format!(
                    "{} is not a multiple of banks × bank_width_bytes = {} × {} = {stripe}",
                    self.sram.capacity_bytes, self.sram.banks, self.sram.bank_width_bytes
                ),
            );
        }
        if self.sram.bank_width_bytes < self.core.element_bytes {
            return fail(
                "sram.bank_width_bytes",
                format!(
                    "{} is narrower than one element (core.element_bytes = {})",
                    self.sram.bank_width_bytes, self.core.element_bytes
                ),
            );
        }
        self.check_model_keys(source)?;
        if self.dram.model == DramModel::Bandwidth && self.dram.bandwidth_gib_per_s.is_none() {
            return fail(
                "dram.bandwidth_gib_per_s",
                "required when dram.model = \"bandwidth\"".into(),
            );
        }
        Ok(())
    }
}

/// `dram` keys that only one DRAM model reads.
const BANDWIDTH_ONLY_KEYS: &[&str] = &["dram.bandwidth_gib_per_s", "dram.latency_ns"];
const CYCLE_ONLY_KEYS: &[&str] = &[
    "dram.preset",
    "dram.channels",
    "dram.ranks",
    "dram.address_mapping",
    "dram.page_policy",
    "dram.refresh",
    "dram.read_queue",
    "dram.write_queue",
];

impl HwConfig {
    /// The `dram` keys the chosen model ignores, and the model that reads them.
    fn ignored_dram_keys(&self) -> (&'static [&'static str], DramModel) {
        match self.dram.model {
            DramModel::Bandwidth => (CYCLE_ONLY_KEYS, DramModel::Cycle),
            DramModel::Cycle => (BANDWIDTH_ONLY_KEYS, DramModel::Bandwidth),
        }
    }

    /// A key the chosen DRAM model would ignore is refused, so a setting
    /// never silently has no effect.
    fn check_model_keys(&self, source: &Source) -> Result<(), ConfigError> {
        let (ignored, user) = self.ignored_dram_keys();
        for key in ignored {
            if let Some((_, origin)) = source.lookup(key)? {
                return Err(ConfigError::new(
                    origin,
                    *key,
                    format!(
                        "dram.model = \"{}\" ignores this key; only dram.model = \"{user}\" uses it (remove it, or change dram.model)",
                        self.dram.model
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The text of a built-in preset.
pub fn builtin_preset(name: &str) -> Option<&'static str> {
    BUILTIN_PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
