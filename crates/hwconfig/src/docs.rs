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
    out.push_str(&limits_markdown());
    out
}

/// The bounds the checks enforce, so a refused value is never a surprise.
fn limits_markdown() -> String {
    use crate::check::*;
    format!(
        "\n## Limits\n\n\
         Values outside these bounds are refused with the bound in the message \
         (the models allocate state per resource, and time and bandwidth must stay physical):\n\n\
         - counts (`pe_array.rows`, `pe_array.cols`, `sram.banks`, `sram.bank_width_bytes`, `vector.lanes`, `dma.max_outstanding`): at most {MAX_COUNT};\n\
         - `sram.read_ports_per_bank`, `sram.write_ports_per_bank`: at most {MAX_PORTS};\n\
         - `sram.capacity_bytes`: at most {MAX_CAPACITY_BYTES};\n\
         - `sram.read_latency_cycles` and every `vector.op_cycles` entry: at most {MAX_CYCLES};\n\
         - `core.element_bytes`: 1, 2, 4 or 8;\n\
         - `dram.channels`: at most {MAX_CHANNELS}; `dram.ranks`: at most {MAX_RANKS}; `dram.read_queue`, `dram.write_queue`: at most {MAX_QUEUE_ENTRIES};\n\
         - `core.clock_mhz`: 1 to 100000 MHz; `dram.bandwidth_gib_per_s`: 1 to 1048576 GiB/s; `dram.latency_ns`: 0 to 1000000 ns; energies: 0 to 1000000 pJ.\n\n\
         A `[dram]` key the chosen `dram.model` ignores is refused: `bandwidth_gib_per_s` and `latency_ns` belong to the \
         bandwidth model, the others (but `model`) to the cycle model. The vector unit must be able to stream a step: \
         4 × `vector.lanes` × `core.element_bytes` + one request must fit its buffer of four requests, a request being at \
         most one SRAM line (min(`sram.banks`, 128) × `sram.bank_width_bytes`).\n"
    )
}
