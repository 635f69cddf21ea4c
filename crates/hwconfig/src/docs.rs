//! docs/config.md, generated from the key declarations.

use crate::{HwConfig, Section};

/// The configuration reference as Markdown: one table per TOML table, one row per key.
pub fn config_reference_markdown() -> String {
    let mut out = String::from(
        "# Hardware configuration reference\n\n\
         Generated from the key declarations in `crates/hwconfig/src/sections.rs` \
         (`cargo test -p hwconfig` fails when this file is stale; \
         `FLATSIM_BLESS=1 cargo test -p hwconfig` rewrites it).\n\n\
         Every key can be overridden on any command with `--set dotted.key=value`.\n",
    );
    let keys = HwConfig::all_keys();
    for (section, description) in HwConfig::tables() {
        let heading = if section.is_empty() {
            "top level".to_owned()
        } else {
            format!("[{section}]")
        };
        out.push_str(&format!("\n## {heading}\n\n{description}\n\n"));
        out.push_str("| key | type | unit | default | description |\n|---|---|---|---|---|\n");
        let section_depth = if section.is_empty() {
            0
        } else {
            section.split('.').count()
        };
        for key in keys.iter().filter(|k| {
            let parent_depth = k.path.split('.').count() - 1;
            parent_depth == section_depth
                && (section.is_empty() || k.path.starts_with(&format!("{section}.")))
        }) {
            let leaf = key.path.rsplit('.').next().unwrap_or(&key.path);
            let default = key
                .default
                .clone()
                .map_or("required".to_owned(), |d| format!("`{d}`"));
            out.push_str(&format!(
                "| `{leaf}` | {} | {} | {default} | {} |\n",
                key.kind.replace('|', "\\|"),
                key.unit,
                key.description.replace('|', "\\|")
            ));
        }
    }
    out
}
