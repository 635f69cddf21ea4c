//! Workload files (`configs/workloads/*.toml`): the attention problem's
//! shape. Read with `hwconfig`'s declared-key machinery, so every error
//! names the file, the line, the key and the reason.

use hwconfig::schema::Section;
use hwconfig::{section, ConfigError, Origin, Source};
use std::path::Path;

/// Workloads shipped with flatsim, usable by name (`--workload bert`).
pub const BUILTIN_WORKLOADS: &[(&str, &str)] = &[
    ("bert", include_str!("../../../configs/workloads/bert.toml")),
    ("trxl", include_str!("../../../configs/workloads/trxl.toml")),
    ("t5", include_str!("../../../configs/workloads/t5.toml")),
    ("xlm", include_str!("../../../configs/workloads/xlm.toml")),
];

fn positive_if_set(value: &Option<u64>) -> Result<(), String> {
    match value {
        Some(0) => Err("must be positive, found 0".into()),
        _ => Ok(()),
    }
}

section! {
    /// A workload file.
    pub struct WorkloadFile at "", "An attention workload: the model's head shape, optionally batch and sequence length." {
        /// Name of the model, copied into every output row.
        name: String = required, unit = "-", check = hwconfig::check::not_empty;
        /// Attention heads H.
        heads: u64 = required, unit = "heads", check = hwconfig::check::count;
        /// Elements per head d.
        head_dim: u64 = required, unit = "elements", check = hwconfig::check::count;
        /// Model width D; must equal heads × head_dim.
        hidden: u64 = required, unit = "elements", check = hwconfig::check::positive;
        /// Batch B; `--batch` overrides it; 1 when neither is given.
        batch: Option<u64> = (None), unit = "sequences", check = positive_if_set;
        /// Sequence length N; `--seq-len` overrides it; one of them is required.
        seq_len: Option<u64> = (None), unit = "tokens", check = positive_if_set;
        /// Let plans that do not fit the SRAM stream K and V from DRAM instead of being refused.
        spill: bool = (false), unit = "-", check = hwconfig::check::any;
    }
}

/// The largest problem: B·H·N²·d ≤ 2⁵⁶, so every size, byte count and
/// operation count derived from it (scores of 8-byte elements, both GEMMs,
/// the census) fits 64 bits with room to spare.
pub const MAX_ATTENTION_MACS: u128 = 1 << 56;

/// A resolved attention problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub name: String,
    pub batch: u64,
    pub heads: u64,
    pub seq_len: u64,
    pub head_dim: u64,
    pub hidden: u64,
    /// `spill = true` in the file.
    pub spill: bool,
}

impl Workload {
    /// A workload from explicit numbers (tests, sweeps).
    pub fn new(name: &str, batch: u64, heads: u64, seq_len: u64, head_dim: u64) -> Self {
        Workload {
            name: name.to_owned(),
            batch,
            heads,
            seq_len,
            head_dim,
            hidden: heads * head_dim,
            spill: false,
        }
    }

    /// Parses workload TOML `text` read from `origin`; `batch` and
    /// `seq_len` (command-line flags) override the file.
    pub fn parse(
        origin: &str,
        text: &str,
        batch: Option<u64>,
        seq_len: Option<u64>,
    ) -> Result<Self, ConfigError> {
        let source = Source::parse(origin, text)?;
        let keys: Vec<String> = WorkloadFile::all_keys()
            .into_iter()
            .map(|k| k.path)
            .collect();
        source.reject_unknown_keys(&keys, &[])?;
        let file = WorkloadFile::resolve(&source)?;
        if file.hidden != file.heads * file.head_dim {
            return Err(ConfigError::new(
                source.origin_of("hidden"),
                "hidden",
                format!(
                    "{} is not heads × head_dim = {} × {} = {}",
                    file.hidden,
                    file.heads,
                    file.head_dim,
                    file.heads * file.head_dim
                ),
            ));
        }
        let flag = |name: &str, key: &str, value: Option<u64>| -> Result<(), ConfigError> {
            match value {
                Some(0) => Err(ConfigError::new(
                    Origin::Flag(name.to_owned()),
                    key,
                    "must be positive, found 0",
                )),
                _ => Ok(()),
            }
        };
        flag("--batch", "batch", batch)?;
        flag("--seq-len", "seq_len", seq_len)?;
        let seq_len_flag = seq_len;
        let seq_len = seq_len.or(file.seq_len).ok_or_else(|| {
            ConfigError::new(
                source.origin_of("seq_len"),
                "seq_len",
                "required: give --seq-len or set seq_len in the workload file",
            )
        })?;
        let workload = Workload {
            name: file.name,
            batch: batch.or(file.batch).unwrap_or(1),
            heads: file.heads,
            seq_len,
            head_dim: file.head_dim,
            hidden: file.hidden,
            spill: file.spill,
        };
        let macs = workload.attention_macs();
        if macs > MAX_ATTENTION_MACS {
            let origin = if seq_len_flag.is_some() {
                Origin::Flag("--seq-len".into())
            } else {
                source.origin_of("seq_len")
            };
            return Err(ConfigError::new(
                origin,
                "seq_len",
                format!(
                    "batch × heads × seq_len² × head_dim = {} × {} × {}² × {} = {macs} multiply-accumulates per attention GEMM, above the largest problem flatsim counts exactly (2^{})",
                    workload.batch,
                    workload.heads,
                    workload.seq_len,
                    workload.head_dim,
                    MAX_ATTENTION_MACS.ilog2()
                ),
            ));
        }
        Ok(workload)
    }

    /// B·H·N²·d: the multiply-accumulates of one of attention's two GEMMs
    /// (saturating at `u128::MAX`, far above [`MAX_ATTENTION_MACS`]).
    pub fn attention_macs(&self) -> u128 {
        [self.heads, self.seq_len, self.seq_len, self.head_dim]
            .into_iter()
            .fold(u128::from(self.batch), |product, x| {
                product.saturating_mul(u128::from(x))
            })
    }

    /// Loads a workload file, or a built-in workload by name (`bert`, `trxl`, `t5`, `xlm`).
    pub fn load(spec: &str, batch: Option<u64>, seq_len: Option<u64>) -> Result<Self, ConfigError> {
        if let Some((_, text)) = BUILTIN_WORKLOADS.iter().find(|(n, _)| *n == spec) {
            return Self::parse(&format!("<built-in {spec}>"), text, batch, seq_len);
        }
        match std::fs::read_to_string(Path::new(spec)) {
            Ok(text) => Self::parse(spec, &text, batch, seq_len),
            Err(err) => Err(ConfigError::new(
                Origin::File {
                    path: spec.to_owned(),
                    line: None,
                },
                "",
                format!(
                    "cannot read the workload file: {err} (built-in workloads: {})",
                    BUILTIN_WORKLOADS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_carry_flats_models() {
        let dims: Vec<(u64, u64, u64)> = BUILTIN_WORKLOADS
            .iter()
            .map(|(n, _)| {
                let w = Workload::load(n, None, Some(512)).unwrap();
                assert_eq!(w.name, *n);
                assert_eq!(w.batch, 1);
                (w.hidden, w.heads, w.head_dim)
            })
            .collect();
        assert_eq!(
            dims,
            vec![(768, 12, 64), (1024, 16, 64), (512, 8, 64), (2048, 16, 128)]
        );
    }

    #[test]
    fn flags_override_the_file() {
        let text = "name = \"x\"\nheads = 2\nhead_dim = 4\nhidden = 8\nbatch = 3\nseq_len = 16\n";
        let w = Workload::parse("x.toml", text, None, None).unwrap();
        assert_eq!((w.batch, w.seq_len), (3, 16));
        let w = Workload::parse("x.toml", text, Some(5), Some(32)).unwrap();
        assert_eq!((w.batch, w.seq_len), (5, 32));
    }

    #[test]
    fn errors_name_file_line_key_reason() {
        let text = "name = \"x\"\nheads = 2\nhead_dim = 4\nhidden = 9\n";
        let err = Workload::parse("w.toml", text, None, Some(8)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "w.toml:4: key `hidden`: 9 is not heads × head_dim = 2 × 4 = 8"
        );
        let err = Workload::parse(
            "w.toml",
            "name = \"x\"\nheads = 2\nhead_dim = 4\nhidden = 8\nhedas = 1\n",
            None,
            Some(8),
        )
        .unwrap_err();
        assert_eq!(err.key, "hedas");
        assert!(err.reason.contains("did you mean `heads`"), "{err}");
        let err = Workload::parse(
            "w.toml",
            "name = \"x\"\nheads = 2\nhead_dim = 4\nhidden = 8\n",
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(err.key, "seq_len");
        let err = Workload::parse(
            "w.toml",
            "name = \"x\"\nheads = -2\nhead_dim = 4\nhidden = 8\n",
            None,
            Some(8),
        )
        .unwrap_err();
        assert_eq!(
            (err.key.as_str(), err.origin.to_string().as_str()),
            ("heads", "w.toml:2")
        );
        assert!(Workload::load("nonexistent.toml", None, Some(8))
            .unwrap_err()
            .reason
            .contains("built-in workloads: bert"));
    }
}
