//! `stats.csv` (long form `unit,stat,value,unit_of_measure`).

use super::{csv_bytes, number};
use simkit::StatValue;

const STATS_COLUMNS: &[&str] = &["unit", "stat", "value", "unit_of_measure"];

/// Every statistic of every unit, in the order given.
pub fn stats_csv(units: &[(&str, Vec<StatValue>)]) -> anyhow::Result<Vec<u8>> {
    let rows: Vec<Vec<String>> = units
        .iter()
        .flat_map(|(unit, stats)| {
            stats.iter().map(move |stat| {
                vec![
                    unit.to_string(),
                    stat.decl.name.to_owned(),
                    number(stat.value),
                    stat.decl.unit.to_owned(),
                ]
            })
        })
        .collect();
    csv_bytes(STATS_COLUMNS, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simkit::StatDecl;

    static BYTES: StatDecl = StatDecl {
        name: "read_bytes",
        unit: "bytes",
        description: "Bytes read",
    };

    #[test]
    fn long_form_rows() {
        let csv = stats_csv(&[
            ("sram", vec![BYTES.value(64.0)]),
            ("dram", vec![BYTES.value(0.5)]),
        ])
        .unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "unit,stat,value,unit_of_measure\nsram,read_bytes,64,bytes\ndram,read_bytes,0.5,bytes\n");
    }
}
