/// A statistic, declared once with its unit and meaning. Units publish their
/// declarations as constants and report values against them, so every output
/// (stats.csv, docs) takes name, unit and description from one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatDecl {
    /// snake_case name, unique within a unit.
    pub name: &'static str,
    /// Unit of measure as printed in stats.csv (`cycles`, `bytes`, `macs`, `pJ`, `ratio`).
    pub unit: &'static str,
    pub description: &'static str,
}

/// One reported value of a declared statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatValue {
    pub decl: &'static StatDecl,
    pub value: f64,
}

impl StatDecl {
    pub fn value(&'static self, value: f64) -> StatValue {
        StatValue { decl: self, value }
    }
}
