//! The text a configuration is read from: a parsed TOML document plus the
//! `--set` overrides, with the location of every key for error messages.

use crate::{ConfigError, Origin};
use toml_edit::{Document, Item, Value};

/// A TOML document and its overrides. Overrides win over the document; a
/// later override wins over an earlier one.
#[derive(Debug)]
pub struct Source {
    path: String,
    doc: Document<String>,
    overrides: Vec<(String, Value)>,
}

impl Source {
    /// Parses `text`, read from `path` (used only in messages).
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let doc = Document::parse(text.to_owned()).map_err(|err| {
            let line = err.span().map(|span| line_of(text, span.start));
            ConfigError::new(
                Origin::File {
                    path: path.to_owned(),
                    line,
                },
                "",
                format!("not valid TOML: {}", err.message()),
            )
        })?;
        Ok(Source {
            path: path.to_owned(),
            doc,
            overrides: Vec::new(),
        })
    }

    /// Adds a `key=value` override. The value is read as a TOML value when it
    /// parses as one (`4`, `true`, `"x"`, `1.5`) and as a bare string
    /// otherwise, so `--set dram.preset=hbm2` needs no quotes.
    pub fn add_override(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let Some((key, raw)) = assignment.split_once('=') else {
            return Err(ConfigError::new(
                Origin::Override,
                assignment,
                "expected KEY=VALUE",
            ));
        };
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(ConfigError::new(
                Origin::Override,
                key,
                "expected a dotted key such as `sram.banks`",
            ));
        }
        let raw = raw.trim();
        let value = raw.parse::<Value>().unwrap_or_else(|_| Value::from(raw));
        self.overrides.push((key.to_owned(), value));
        Ok(())
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn origin_at(&self, span: Option<std::ops::Range<usize>>) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: span.map(|s| line_of(self.doc.raw(), s.start)),
        }
    }

    /// Where `key` was set: the override, the line in the file, or the file.
    pub fn origin_of(&self, key: &str) -> Origin {
        if self.overrides.iter().any(|(k, _)| k == key) {
            return Origin::Override;
        }
        let span = self.find(key).and_then(|(key_span, _)| key_span);
        self.origin_at(span)
    }

    /// The value of a leaf key with its origin, `None` when it is not set.
    pub fn lookup(&self, key: &str) -> Result<Option<(Value, Origin)>, ConfigError> {
        if let Some((_, value)) = self.overrides.iter().rev().find(|(k, _)| k == key) {
            return Ok(Some((value.clone(), Origin::Override)));
        }
        match self.find(key) {
            None => Ok(None),
            Some((span, Item::Value(value))) => Ok(Some((value.clone(), self.origin_at(span)))),
            Some((span, _)) => Err(ConfigError::new(
                self.origin_at(span),
                key,
                "expected a value, found a table",
            )),
        }
    }

    fn find(&self, key: &str) -> Option<(Option<std::ops::Range<usize>>, &Item)> {
        let mut item = self.doc.as_item();
        let mut span = None;
        for segment in key.split('.') {
            let (found_key, found_item) = item.as_table_like()?.get_key_value(segment)?;
            span = found_key.span();
            item = found_item;
        }
        Some((span, item))
    }

    /// Rejects every key of the document or the overrides that is neither a
    /// declared key nor a declared section, suggesting the closest valid key.
    pub fn reject_unknown_keys(
        &self,
        keys: &[String],
        sections: &[&str],
    ) -> Result<(), ConfigError> {
        let suggest = |path: &str| {
            let mut best: Option<(usize, &str)> = None;
            for candidate in keys
                .iter()
                .map(String::as_str)
                .chain(sections.iter().copied())
            {
                let distance = edit_distance(path, candidate);
                if best.is_none_or(|(d, _)| distance < d) {
                    best = Some((distance, candidate));
                }
            }
            match best {
                Some((d, candidate)) if d <= path.len().max(3) / 2 + 1 => {
                    format!("; did you mean `{candidate}`?")
                }
                _ => String::new(),
            }
        };
        for (key, _) in &self.overrides {
            if !keys.iter().any(|k| k == key) {
                return Err(ConfigError::new(
                    Origin::Override,
                    key,
                    format!("unknown key{}", suggest(key)),
                ));
            }
        }
        let mut stack = vec![(String::new(), self.doc.as_item())];
        while let Some((prefix, item)) = stack.pop() {
            let Some(table) = item.as_table_like() else {
                continue;
            };
            for (name, child) in table.iter() {
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                let is_section = sections.contains(&path.as_str());
                let is_key = keys.contains(&path);
                if is_section && child.is_table_like() {
                    stack.push((path, child));
                } else if is_section {
                    let span = table.key(name).and_then(|k| k.span());
                    return Err(ConfigError::new(
                        self.origin_at(span),
                        path,
                        "expected a table ([section]), found a value",
                    ));
                } else if !is_key {
                    let span = table.key(name).and_then(|k| k.span());
                    let reason = format!("unknown key{}", suggest(&path));
                    return Err(ConfigError::new(self.origin_at(span), path, reason));
                }
            }
        }
        Ok(())
    }
}

/// 1-based line of byte offset `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("banks", "banks"), 0);
        assert_eq!(edit_distance("bankz", "banks"), 1);
        assert_eq!(edit_distance("sram.bnks", "sram.banks"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }

    #[test]
    fn override_values_parse_as_toml_or_bare_strings() {
        let mut source = Source::parse("x.toml", "").unwrap();
        source.add_override("a.b=4").unwrap();
        source.add_override("a.c=hbm2").unwrap();
        source.add_override("a.d=\"quoted\"").unwrap();
        assert_eq!(
            source.lookup("a.b").unwrap().unwrap().0.as_integer(),
            Some(4)
        );
        assert_eq!(
            source.lookup("a.c").unwrap().unwrap().0.as_str(),
            Some("hbm2")
        );
        assert_eq!(
            source.lookup("a.d").unwrap().unwrap().0.as_str(),
            Some("quoted")
        );
        assert!(source.add_override("novalue").is_err());
        assert!(source.add_override("a..b=1").is_err());
    }
}
