//! DRAM address-mapping field strings such as `RoBaRaCoCh`.

use crate::ConfigValue;
use std::fmt;

/// One field of a DRAM address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrField {
    Row,
    Rank,
    BankGroup,
    Bank,
    Column,
    Channel,
}

impl AddrField {
    const ALL: [(AddrField, &'static str); 6] = [
        (AddrField::Row, "Ro"),
        (AddrField::Rank, "Ra"),
        (AddrField::BankGroup, "Bg"),
        (AddrField::Bank, "Ba"),
        (AddrField::Column, "Co"),
        (AddrField::Channel, "Ch"),
    ];

    pub fn abbreviation(self) -> &'static str {
        AddrField::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, a)| a)
    }
}

/// Address fields from the most to the least significant. `Bg` may be
/// omitted: its bits then sit at the low end of `Ba` (Ramulator's meaning).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddressMapping {
    fields_msb_first: Vec<AddrField>,
}

impl Default for AddressMapping {
    fn default() -> Self {
        AddressMapping::parse("RoBaRaCoCh").expect("the default mapping is valid")
    }
}

impl AddressMapping {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = "fields Ro Ra Bg Ba Co Ch, most significant first, e.g. RoBaRaCoCh";
        if !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(format!("`{text}` is not a sequence of two-letter {valid}"));
        }
        let mut fields_msb_first = Vec::new();
        for i in (0..text.len()).step_by(2) {
            let token = &text[i..i + 2];
            let field = AddrField::ALL
                .iter()
                .find(|(_, a)| a.eq_ignore_ascii_case(token))
                .map(|(f, _)| *f)
                .ok_or_else(|| format!("unknown field `{token}` in `{text}`; valid: {valid}"))?;
            if fields_msb_first.contains(&field) {
                return Err(format!("field `{token}` appears twice in `{text}`"));
            }
            fields_msb_first.push(field);
        }
        for required in [AddrField::Row, AddrField::Bank, AddrField::Column] {
            if !fields_msb_first.contains(&required) {
                return Err(format!(
                    "`{text}` lacks field `{}`; Ro, Ba and Co are required",
                    required.abbreviation()
                ));
            }
        }
        Ok(AddressMapping { fields_msb_first })
    }

    pub fn fields_msb_first(&self) -> &[AddrField] {
        &self.fields_msb_first
    }
}

impl fmt::Display for AddressMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in &self.fields_msb_first {
            f.write_str(field.abbreviation())?;
        }
        Ok(())
    }
}

impl ConfigValue for AddressMapping {
    fn kind() -> String {
        "an address-field string (Ro Ra Bg Ba Co Ch, MSB first)".into()
    }
    fn from_toml(value: &toml_edit::Value) -> Result<Self, String> {
        match value.as_str() {
            Some(text) => AddressMapping::parse(text),
            None => Err(format!("expected {}", Self::kind())),
        }
    }
    fn to_toml(&self) -> Option<toml_edit::Value> {
        Some(toml_edit::Value::from(self.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ramulator_and_dramsim_orders() {
        let m = AddressMapping::parse("RoRaBaCoChBg").unwrap();
        assert_eq!(m.fields_msb_first().last(), Some(&AddrField::BankGroup));
        assert_eq!(m.to_string(), "RoRaBaCoChBg");
        assert_eq!(AddressMapping::parse("rorabacochbg").unwrap(), m);
    }

    #[test]
    fn rejects_bad_strings() {
        assert!(AddressMapping::parse("RoBa").unwrap_err().contains("Co"));
        assert!(AddressMapping::parse("RoRoBaCo")
            .unwrap_err()
            .contains("twice"));
        assert!(AddressMapping::parse("RoXxBaCo")
            .unwrap_err()
            .contains("Xx"));
        assert!(AddressMapping::parse("RoB").is_err());
    }
}
