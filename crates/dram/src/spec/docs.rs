//! Markdown tables of the presets and the constraint table, for docs/dram.md
//! (a test keeps the document equal to what the data says).

use super::presets::PRESETS;
use super::{ConstraintTable, RULES, WINDOW_RULES};

/// The organisation and timing of every preset, one column per preset.
pub fn presets_markdown() -> String {
    let mut text = String::from("| parameter |");
    let mut rule = String::from("|---|");
    for spec in PRESETS {
        text += &format!(" {} |", spec.name);
        rule += "---|";
    }
    text += &format!("\n{rule}\n");
    type Row = (&'static str, fn(&super::DeviceSpec) -> String);
    let rows: &[Row] = &[
        ("clock (MHz)", |s| {
            (s.timing.clock_hz / 1_000_000).to_string()
        }),
        ("tCK (ns)", |s| format!("{:.3}", s.timing.tck_ns())),
        ("device density (Mbit)", |s| {
            s.org.device_density_mbit.to_string()
        }),
        ("device width × devices", |s| {
            format!(
                "x{} × {}",
                s.org.device_width_bits,
                s.org.devices_per_rank()
            )
        }),
        ("bank groups × banks", |s| {
            format!("{} × {}", s.org.bankgroups, s.org.banks_per_group)
        }),
        ("rows × columns", |s| {
            format!("{} × {}", s.org.rows, s.org.columns)
        }),
        ("row bytes (rank)", |s| s.org.row_bytes().to_string()),
        ("burst: BL, bytes", |s| {
            format!("BL{}, {} B", s.org.burst_length, s.org.burst_bytes())
        }),
        ("rank bytes", |s| {
            format!("2^{}", s.org.rank_bytes().trailing_zeros())
        }),
        ("ranks allowed", |s| format!("1–{}", s.org.max_ranks)),
        ("peak per channel (GB/s)", |s| {
            format!("{:.1}", s.channel_peak_bytes_per_second() / 1e9)
        }),
        ("nBL", |s| s.timing.bl.to_string()),
        ("nCL / nCWL", |s| {
            format!("{} / {}", s.timing.cl, s.timing.cwl)
        }),
        ("nRCD / nRP / nRPab", |s| {
            format!("{} / {} / {}", s.timing.rcd, s.timing.rp, s.timing.rp_all)
        }),
        ("nRAS / nRC", |s| {
            format!("{} / {}", s.timing.ras, s.timing.rc)
        }),
        ("nCCD_S / nCCD_L", |s| {
            format!("{} / {}", s.timing.ccd_s, s.timing.ccd_l)
        }),
        ("nRRD_S / nRRD_L / nFAW", |s| {
            format!("{} / {} / {}", s.timing.rrd_s, s.timing.rrd_l, s.timing.faw)
        }),
        ("nWTR_S / nWTR_L / nWR / nRTP", |s| {
            format!(
                "{} / {} / {} / {}",
                s.timing.wtr_s, s.timing.wtr_l, s.timing.wr, s.timing.rtp
            )
        }),
        ("nRTRS", |s| s.timing.rtrs.to_string()),
        ("nRFC / nREFI", |s| {
            format!("{} / {}", s.timing.rfc, s.timing.refi)
        }),
        ("per-bank: nRFCpb / nRREFD", |s| {
            match s.timing.per_bank_refresh {
                Some(pb) => format!("{} / {}", pb.rfc_pb, pb.rrefd),
                None => "–".into(),
            }
        }),
    ];
    for (name, value) in rows {
        text += &format!("| {name} |");
        for spec in PRESETS {
            text += &format!(" {} |", value(spec));
        }
        text += "\n";
    }
    text
}

/// Every rule with its formula and its gap in each preset (with two ranks
/// where the standard allows them; `–` where the rule does not apply).
pub fn rules_markdown() -> String {
    let tables: Vec<ConstraintTable> = PRESETS
        .iter()
        .map(|s| ConstraintTable::generate(s, s.org.max_ranks.min(2)))
        .collect();
    let mut text = String::from("| rule | scope | preceding → following | minimum gap |");
    let mut rule_line = String::from("|---|---|---|---|");
    for spec in PRESETS {
        text += &format!(" {} |", spec.name);
        rule_line += "---|";
    }
    text += &format!("\n{rule_line}\n");
    for rule in RULES {
        let scope = if rule.sibling {
            format!("other {}", rule.scope)
        } else {
            format!("same {}", rule.scope)
        };
        let names = |commands: &[super::Command]| {
            commands
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        text += &format!(
            "| {} | {scope} | {} → {} | {} |",
            rule.name,
            names(rule.preceding),
            names(rule.following),
            rule.gap
        );
        for table in &tables {
            let gap = table
                .constraints
                .iter()
                .find(|c| {
                    c.name == rule.name
                        && c.scope == rule.scope
                        && c.sibling == rule.sibling
                        && c.preceding == rule.preceding[0]
                        && c.following == rule.following[0]
                })
                .map_or("–".to_string(), |c| c.gap.to_string());
            text += &format!(" {gap} |");
        }
        text += "\n";
    }
    for window in WINDOW_RULES {
        text += &format!(
            "| {} | same {} | ≤ {} {} per window | {} |",
            window.name,
            window.scope,
            window.count,
            window.command,
            window.span.name()
        );
        for table in &tables {
            text += &format!(" {} |", table.windows[0].span);
        }
        text += "\n";
    }
    text
}
