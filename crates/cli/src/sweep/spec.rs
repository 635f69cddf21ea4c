//! Sweep files: a base run and axes whose cartesian product gives the points.
//!
//! ```toml
//! version = 1
//! command = "run"           # or "gemm"; the subcommand every point runs
//! [base]                    # parameters of that command, one value each
//! hw = "edge"               # preset name or path relative to this file
//! workload = "bert"
//! seq_len = 4096
//! dataflow = "flat"
//! [base.set]                # hardware-config overrides for every point
//! "vector.ideal" = true
//! [axes]                    # first axis varies slowest
//! seq_len = [512, 1024]
//! "sram.capacity_bytes" = [204800, 20971520]   # dotted keys are --set overrides
//! [[skip]]                  # leave out the points matching every key
//! seq_len = 1024            # a value or a list of values of that axis
//! dataflow = ["flash"]
//! ```
//!
//! Points are numbered from 0 in that order (skipped points keep their
//! numbers), so every process that reads the same file agrees on the numbering.

use anyhow::{anyhow, bail, Result};
use std::path::{Path, PathBuf};
use toml_edit::{Document, Item, Value};

/// The commands a sweep can run, with the parameters each takes
/// (flag = `--` + name with `-`); dotted keys are `--set` overrides.
pub const COMMANDS: &[(&str, &[&str])] = &[
    (
        "run",
        &[
            "hw",
            "workload",
            "batch",
            "seq_len",
            "kv_heads",
            "mask",
            "window",
            "phase",
            "query_len",
            "kv_len",
            "dataflow",
            "gran",
            "rows",
            "cols",
            "mapping",
            "spill",
            "candidates",
        ],
    ),
    ("gemm", &["hw", "m", "k", "n", "pe_dataflow"]),
];

/// A parsed sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The flatsim subcommand every point runs (`run` unless the file says `command = "gemm"`).
    pub command: String,
    /// Directory of the sweep file; relative `hw` paths resolve against it.
    pub base_dir: PathBuf,
    /// (parameter, value) pairs every point starts from.
    pub base: Vec<(String, String)>,
    /// (parameter, values) in file order.
    pub axes: Vec<(String, Vec<String>)>,
    /// `[[skip]]` rules: a point is left out when, for every (axis, values)
    /// pair of one rule, its value on that axis is among the values.
    pub skips: Vec<Vec<(String, Vec<String>)>>,
    /// The sweep file's name as given, for errors.
    pub origin: String,
    /// `file:line` of each `base` entry and each axis (same order), for errors.
    pub base_at: Vec<String>,
    pub axes_at: Vec<String>,
}

/// One point of a sweep: its index and the value of every axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub index: usize,
    pub axis_values: Vec<String>,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.value().clone()),
        Value::Integer(i) => Some(i.value().to_string()),
        Value::Float(f) => Some(f.value().to_string()),
        Value::Boolean(b) => Some(b.value().to_string()),
        _ => None,
    }
}

impl SweepSpec {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("{}: cannot read the sweep file: {e}", path.display()))?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&path.display().to_string(), &text, base_dir)
    }

    pub fn parse(origin: &str, text: &str, base_dir: PathBuf) -> Result<Self> {
        let doc = Document::parse(text.to_owned()).map_err(|e| {
            let line = e.span().map_or(0, |s| hwconfig::line_of(text, s.start));
            anyhow!("{origin}:{line}: not valid TOML: {}", e.message())
        })?;
        let at = |key: &toml_edit::Key| match key.span() {
            Some(span) => format!("{origin}:{}", hwconfig::line_of(text, span.start)),
            None => origin.to_owned(),
        };
        let command = match doc.as_table().get_key_value("command") {
            None => "run".to_owned(),
            Some((key, item)) => {
                let name = item.as_str().unwrap_or_default();
                if !COMMANDS.iter().any(|(c, _)| *c == name) {
                    let valid: Vec<&str> = COMMANDS.iter().map(|(c, _)| *c).collect();
                    bail!(
                        "{}: key `command`: expected one of {}",
                        at(key),
                        valid.join(", ")
                    );
                }
                name.to_owned()
            }
        };
        let parameters = COMMANDS
            .iter()
            .find(|(c, _)| *c == command)
            .map_or(&[][..], |(_, p)| *p);
        let check_name = |key: &toml_edit::Key, path: &str| -> Result<()> {
            let name = key.get();
            if name.contains('.') || parameters.contains(&name) {
                return Ok(());
            }
            let closest = parameters
                .iter()
                .min_by_key(|p| hwconfig::edit_distance(name, p))
                .copied()
                .unwrap_or("hw");
            bail!(
                "{}: key `{path}{name}`: unknown parameter; did you mean `{closest}`? ({command} parameters: {}; dotted keys are hardware-config overrides)",
                at(key),
                parameters.join(", ")
            )
        };
        let mut spec = SweepSpec {
            command: command.clone(),
            base_dir,
            base: Vec::new(),
            axes: Vec::new(),
            skips: Vec::new(),
            origin: origin.to_owned(),
            base_at: Vec::new(),
            axes_at: Vec::new(),
        };
        let mut has_version = false;
        // Checked after the loop: a rule may come before [axes] in the file.
        let mut skip_rules = Vec::new();
        for (name, item) in doc.as_table().iter() {
            let key = doc.as_table().key(name).expect("iterated key exists");
            match (name, item) {
                ("command", _) => {}
                ("version", item) => {
                    if item.as_integer() != Some(1) {
                        bail!("{}: key `version`: unsupported sweep format version; this flatsim reads version 1", at(key));
                    }
                    has_version = true;
                }
                ("base", Item::Table(table)) => {
                    for (param, value) in table.iter() {
                        let param_key = table.key(param).expect("iterated key exists");
                        if param == "set" {
                            let overrides = value.as_table_like().ok_or_else(|| anyhow!("{}: key `base.set`: expected a table of hardware-config overrides", at(param_key)))?;
                            for (hw_key, hw_value) in overrides.iter() {
                                let hw_at = overrides
                                    .get_key_value(hw_key)
                                    .map_or_else(|| at(param_key), |(k, _)| at(k));
                                let text =
                                    hw_value.as_value().and_then(scalar_text).ok_or_else(|| {
                                        anyhow!(
                                            "{}: key `base.set.{hw_key}`: expected a single value",
                                            at(param_key)
                                        )
                                    })?;
                                spec.base.push((hw_key.to_owned(), text));
                                spec.base_at.push(hw_at);
                            }
                            continue;
                        }
                        check_name(param_key, "base.")?;
                        let text = value.as_value().and_then(scalar_text).ok_or_else(|| {
                            anyhow!("{}: key `base.{param}`: expected a single value (put lists under [axes])", at(param_key))
                        })?;
                        spec.base.push((param.to_owned(), text));
                        spec.base_at.push(at(param_key));
                    }
                }
                ("axes", Item::Table(table)) => {
                    for (param, value) in table.iter() {
                        let param_key = table.key(param).expect("iterated key exists");
                        check_name(param_key, "axes.")?;
                        let values = value
                            .as_array()
                            .map(|a| a.iter().map(scalar_text).collect::<Option<Vec<_>>>())
                            .ok_or_else(|| anyhow!("{}: key `axes.{param}`: expected an array of values", at(param_key)))?
                            .ok_or_else(|| anyhow!("{}: key `axes.{param}`: values must be strings, numbers or booleans", at(param_key)))?;
                        if values.is_empty() {
                            bail!(
                                "{}: key `axes.{param}`: an axis needs at least one value",
                                at(param_key)
                            );
                        }
                        spec.axes.push((param.to_owned(), values));
                        spec.axes_at.push(at(param_key));
                    }
                }
                ("skip", Item::ArrayOfTables(rules)) => skip_rules.extend(rules.iter()),
                _ => bail!(
                    "{}: key `{name}`: expected `version`, [base], [axes] or [[skip]]",
                    at(key)
                ),
            }
        }
        if !has_version {
            bail!("{origin}: key `version`: required key is missing (version = 1)");
        }
        for rule in skip_rules {
            let mut conditions = Vec::new();
            for (param, value) in rule.iter() {
                let param_key = rule.key(param).expect("iterated key exists");
                let Some((_, axis_values)) = spec.axes.iter().find(|(name, _)| name == param)
                else {
                    bail!(
                        "{}: key `skip.{param}`: not an axis of this sweep (axes: {})",
                        at(param_key),
                        spec.axis_names().join(", ")
                    );
                };
                let values = match value.as_value() {
                    Some(Value::Array(array)) => array.iter().map(scalar_text).collect(),
                    Some(scalar) => scalar_text(scalar).map(|text| vec![text]),
                    None => None,
                }
                .ok_or_else(|| {
                    anyhow!(
                        "{}: key `skip.{param}`: expected a value or an array of values",
                        at(param_key)
                    )
                })?;
                if let Some(stray) = values.iter().find(|v| !axis_values.contains(v)) {
                    bail!(
                        "{}: key `skip.{param}`: `{stray}` is not a value of axis `{param}` ({})",
                        at(param_key),
                        axis_values.join(", ")
                    );
                }
                conditions.push((param.to_owned(), values));
            }
            if conditions.is_empty() {
                bail!("{origin}: [[skip]]: a rule needs at least one axis (it would skip every point)");
            }
            spec.skips.push(conditions);
        }
        Ok(spec)
    }

    /// Number of points run: the cartesian product less the skipped points.
    pub fn point_count(&self) -> usize {
        self.points().count()
    }

    fn grid_size(&self) -> usize {
        self.axes.iter().map(|(_, values)| values.len()).product()
    }

    fn is_skipped(&self, point: &Point) -> bool {
        self.skips.iter().any(|rule| {
            rule.iter().all(|(param, values)| {
                let axis = self.axes.iter().position(|(name, _)| name == param);
                axis.is_some_and(|a| values.contains(&point.axis_values[a]))
            })
        })
    }

    /// Point `index`: mixed-radix digits of the index, first axis most significant.
    pub fn point(&self, index: usize) -> Point {
        let mut rest = index;
        let mut axis_values = vec![String::new(); self.axes.len()];
        for (slot, (_, values)) in axis_values.iter_mut().zip(&self.axes).rev() {
            *slot = values[rest % values.len()].clone();
            rest /= values.len();
        }
        Point { index, axis_values }
    }

    /// The points run, in index order (skipped indices are absent).
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        (0..self.grid_size())
            .map(|i| self.point(i))
            .filter(|p| !self.is_skipped(p))
    }

    pub fn axis_names(&self) -> Vec<&str> {
        self.axes.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The arguments of a point for its command: base values, overridden by axis values.
    pub fn run_arguments(&self, point: &Point) -> Vec<String> {
        let mut params: Vec<(&str, &str)> = self
            .base
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for ((name, _), value) in self.axes.iter().zip(&point.axis_values) {
            params.retain(|(k, _)| k != name);
            params.push((name, value));
        }
        let mut args = Vec::new();
        for (name, value) in params {
            if name.contains('.') {
                args.push("--set".to_owned());
                args.push(format!("{name}={value}"));
            } else if name == "hw" {
                args.push("--hw".to_owned());
                args.push(self.resolve_hw(value).display().to_string());
            } else {
                args.push(format!("--{}", name.replace('_', "-")));
                args.push(value.to_owned());
            }
        }
        args
    }

    /// A relative hw path names a file next to the sweep file; a preset name stays as is.
    pub fn resolve_hw(&self, value: &str) -> PathBuf {
        let candidate = self.base_dir.join(value);
        if Path::new(value).is_relative() && candidate.exists() {
            candidate
        } else {
            PathBuf::from(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWEEP: &str = r#"
version = 1
[base]
hw = "edge"
workload = "bert"
seq_len = 4096
[base.set]
"vector.ideal" = true
[axes]
seq_len = [512, 1024, 2048]
dataflow = ["flat", "flash"]
"sram.capacity_bytes" = [204800, 20971520]
"#;

    fn spec() -> SweepSpec {
        SweepSpec::parse("s.toml", SWEEP, PathBuf::new()).unwrap()
    }

    #[test]
    fn points_are_the_cartesian_product_in_file_order() {
        let spec = spec();
        assert_eq!(spec.point_count(), 12);
        assert_eq!(spec.point(0).axis_values, ["512", "flat", "204800"]);
        assert_eq!(spec.point(1).axis_values, ["512", "flat", "20971520"]);
        assert_eq!(spec.point(2).axis_values, ["512", "flash", "204800"]);
        assert_eq!(spec.point(11).axis_values, ["2048", "flash", "20971520"]);
        let distinct: std::collections::BTreeSet<_> =
            spec.points().map(|p| p.axis_values).collect();
        assert_eq!(distinct.len(), 12);
    }

    #[test]
    fn skip_rules_leave_out_matching_points_and_keep_the_numbering() {
        let text = format!(
            "{SWEEP}[[skip]]\nseq_len = [1024, 2048]\ndataflow = \"flash\"\n[[skip]]\n\"sram.capacity_bytes\" = [204800]\nseq_len = 512\n"
        );
        let spec = SweepSpec::parse("s.toml", &text, PathBuf::new()).unwrap();
        let points: Vec<Point> = spec.points().collect();
        // 12 − 4 (flash at 1024 and 2048) − 2 (204800 at 512) = 6.
        assert_eq!(spec.point_count(), 6);
        assert_eq!(points[0].index, 1);
        assert_eq!(points[0].axis_values, ["512", "flat", "20971520"]);
        assert!(points
            .iter()
            .all(|p| !(p.axis_values[0] != "512" && p.axis_values[1] == "flash")));
        assert!(points
            .iter()
            .all(|p| p.axis_values == spec.point(p.index).axis_values));
    }

    #[test]
    fn skip_rules_name_only_axes_and_their_values() {
        let err = SweepSpec::parse(
            "s.toml",
            &format!("{SWEEP}[[skip]]\nbatch = 4\n"),
            PathBuf::new(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("key `skip.batch`: not an axis"),
            "{err}"
        );
        let err = SweepSpec::parse(
            "s.toml",
            &format!("{SWEEP}[[skip]]\nseq_len = [4096]\n"),
            PathBuf::new(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`4096` is not a value of axis `seq_len`"),
            "{err}"
        );
        let err =
            SweepSpec::parse("s.toml", &format!("{SWEEP}[[skip]]\n"), PathBuf::new()).unwrap_err();
        assert!(err.to_string().contains("at least one axis"), "{err}");
    }

    #[test]
    fn run_arguments_let_axes_override_the_base() {
        let spec = spec();
        let args = spec.run_arguments(&spec.point(3));
        let joined = args.join(" ");
        assert!(joined.contains("--hw edge"), "{joined}");
        assert!(joined.contains("--set vector.ideal=true"), "{joined}");
        assert!(joined.contains("--seq-len 512"), "{joined}");
        assert!(!joined.contains("--seq-len 4096"), "{joined}");
        assert!(
            joined.contains("--dataflow flash --set sram.capacity_bytes=20971520"),
            "{joined}"
        );
    }

    #[test]
    fn errors_name_line_and_key() {
        let err = SweepSpec::parse(
            "s.toml",
            "version = 1\n[axes]\nseq_lne = [1]\n",
            PathBuf::new(),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("s.toml:3: key `axes.seq_lne`"),
            "{message}"
        );
        assert!(message.contains("did you mean `seq_len`"), "{message}");
        let err = SweepSpec::parse(
            "s.toml",
            "version = 1\n[axes]\nseq_len = 5\n",
            PathBuf::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected an array"), "{err}");
        let err = SweepSpec::parse(
            "s.toml",
            "version = 1\ncommand = \"gemm\"\n[axes]\nseq_len = [1]\n",
            PathBuf::new(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("gemm parameters: hw, m, k, n, pe_dataflow"),
            "{err}"
        );
        let err = SweepSpec::parse("s.toml", "version = 1\ncommand = \"fly\"\n", PathBuf::new())
            .unwrap_err();
        assert!(
            err.to_string().contains("expected one of run, gemm"),
            "{err}"
        );
        let err = SweepSpec::parse("s.toml", "version = 2\n", PathBuf::new()).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
        let err = SweepSpec::parse(
            "s.toml",
            "version = 1\n[axes]\nbatch = []\n",
            PathBuf::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("at least one value"), "{err}");
    }
}
