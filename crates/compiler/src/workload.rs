//! Workload files: the attention problem's shape. TOML files
//! (`configs/workloads/*.toml`) are read with `hwconfig`'s declared-key
//! machinery, so every error names the file, the line, the key and the
//! reason; Hugging Face `config.json` files are read by [`crate::hf`].

use hwconfig::schema::Section;
use hwconfig::{config_enum, section, ConfigError, Origin, Source};
use std::path::Path;

/// Workloads shipped with flatsim, usable by name (`--workload bert`).
pub const BUILTIN_WORKLOADS: &[(&str, &str)] = &[
    ("bert", include_str!("../../../configs/workloads/bert.toml")),
    ("trxl", include_str!("../../../configs/workloads/trxl.toml")),
    ("t5", include_str!("../../../configs/workloads/t5.toml")),
    ("xlm", include_str!("../../../configs/workloads/xlm.toml")),
    (
        "llama3-8b",
        include_str!("../../../configs/workloads/llama3-8b.json"),
    ),
    (
        "llama3-70b",
        include_str!("../../../configs/workloads/llama3-70b.json"),
    ),
    (
        "mistral-7b",
        include_str!("../../../configs/workloads/mistral-7b.json"),
    ),
    (
        "qwen2-7b",
        include_str!("../../../configs/workloads/qwen2-7b.json"),
    ),
];

fn positive_if_set(value: &Option<u64>) -> Result<(), String> {
    match value {
        Some(0) => Err("must be positive, found 0".into()),
        _ => Ok(()),
    }
}

config_enum! {
    /// Which keys a query sees.
    pub enum Mask {
        /// Every key (encoders).
        None = "none",
        /// Keys at or before the query's position (decoders).
        Causal = "causal",
    }
}

config_enum! {
    /// Which pass of a decoder the workload is.
    pub enum Phase {
        /// N queries attend to N keys.
        Prefill = "prefill",
        /// `query_len` new tokens per sequence attend to `kv_len` cached ones and themselves.
        Decode = "decode",
    }
}

section! {
    /// A workload file.
    pub struct WorkloadFile at "", "An attention workload: the model's head shape, optionally batch and sequence length." {
        /// Name of the model, copied into every output row.
        name: String = required, unit = "-", check = hwconfig::check::not_empty;
        /// Attention heads H (query heads).
        heads: u64 = required, unit = "heads", check = hwconfig::check::count;
        /// Key/value heads H_kv; must divide `heads`; query heads h·g … h·g+g−1 (g = heads / kv_heads) share KV head h. Absent: `heads` (MHA); 1 is MQA.
        kv_heads: Option<u64> = (None), unit = "heads", check = positive_if_set;
        /// Elements per head d.
        head_dim: u64 = required, unit = "elements", check = hwconfig::check::count;
        /// Model width D; must equal heads × head_dim.
        hidden: u64 = required, unit = "elements", check = hwconfig::check::positive;
        /// Batch B; `--batch` overrides it; 1 when neither is given.
        batch: Option<u64> = (None), unit = "sequences", check = positive_if_set;
        /// Sequence length N (prefill); `--seq-len` overrides it; one of them is required in prefill.
        seq_len: Option<u64> = (None), unit = "tokens", check = positive_if_set;
        /// `none` or `causal` (query i sees keys j ≤ i; in decode j ≤ kv_len + i).
        mask: Mask = (Mask::None), unit = "-", check = hwconfig::check::any;
        /// Sliding window W (only with `mask = "causal"`): query i sees keys i−W+1 … i. Absent: unlimited.
        window: Option<u64> = (None), unit = "tokens", check = positive_if_set;
        /// `prefill` (N queries, N keys) or `decode` (`query_len` new tokens attend to `kv_len` cached ones plus themselves).
        phase: Phase = (Phase::Prefill), unit = "-", check = hwconfig::check::any;
        /// New tokens per sequence in decode; 1 when not given.
        query_len: Option<u64> = (None), unit = "tokens", check = positive_if_set;
        /// Cached tokens per sequence in decode (required there).
        kv_len: Option<u64> = (None), unit = "tokens", check = positive_if_set;
        /// Whether plans may stream K and V from DRAM (the search considers it unless this is false; `--spill` overrides it).
        spill: Option<bool> = (None), unit = "-", check = hwconfig::check::any;
    }
}

/// The largest problem: B·H·N²·d ≤ 2⁵⁶, so every size, byte count and
/// operation count derived from it (scores of 8-byte elements, both GEMMs,
/// the census) fits 64 bits with room to spare.
pub const MAX_ATTENTION_MACS: u128 = 1 << 56;
/// The most heads, and the largest head dimension.
const MAX_HEAD_COUNT: u64 = hwconfig::check::MAX_COUNT;

/// Command-line values that override a workload file (`None`: not given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadFlags {
    pub batch: Option<u64>,
    pub seq_len: Option<u64>,
    pub kv_heads: Option<u64>,
    pub mask: Option<Mask>,
    /// `Some(None)`: `--window none` (unlimited).
    pub window: Option<Option<u64>>,
    pub phase: Option<Phase>,
    pub query_len: Option<u64>,
    pub kv_len: Option<u64>,
}

/// A resolved attention problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub name: String,
    pub batch: u64,
    pub heads: u64,
    /// KV heads; divides `heads`.
    pub kv_heads: u64,
    /// Prefill: N. Decode: the keys each query block attends to, `kv_len + query_len`.
    pub seq_len: u64,
    pub head_dim: u64,
    pub hidden: u64,
    pub mask: Mask,
    /// Sliding window in tokens (`None`: unlimited); only with a causal mask.
    pub window: Option<u64>,
    pub phase: Phase,
    /// Decode: new tokens per sequence (1 by default). Prefill: N.
    pub query_len: u64,
    /// Decode: cached tokens per sequence. Prefill: 0.
    pub kv_len: u64,
    /// `spill` in the file, if given.
    pub spill: Option<bool>,
}

/// The file-level values a workload is resolved from, with where each came from.
#[derive(Clone, Debug)]
pub(crate) struct Declared {
    pub name: String,
    pub heads: u64,
    pub kv_heads: Option<(u64, Origin)>,
    pub head_dim: u64,
    pub hidden: u64,
    pub batch: Option<u64>,
    pub seq_len: Option<(u64, Origin)>,
    pub mask: (Mask, Origin),
    pub window: Option<(u64, Origin)>,
    pub phase: (Phase, Origin),
    pub query_len: Option<(u64, Origin)>,
    pub kv_len: Option<(u64, Origin)>,
    pub spill: Option<bool>,
}

/// Where a command-line flag's value comes from, in messages.
fn flag_origin() -> Origin {
    Origin::File {
        path: "command line".to_owned(),
        line: None,
    }
}

impl Workload {
    /// A prefill workload without mask from explicit numbers (tests, sweeps).
    pub fn new(name: &str, batch: u64, heads: u64, seq_len: u64, head_dim: u64) -> Self {
        Workload {
            name: name.to_owned(),
            batch,
            heads,
            kv_heads: heads,
            seq_len,
            head_dim,
            hidden: heads * head_dim,
            mask: Mask::None,
            window: None,
            phase: Phase::Prefill,
            query_len: seq_len,
            kv_len: 0,
            spill: None,
        }
    }

    /// Query heads per KV head g.
    pub fn group(&self) -> u64 {
        self.heads / self.kv_heads
    }

    /// Query rows per head: N in prefill, `query_len` in decode.
    pub fn queries(&self) -> u64 {
        self.query_len
    }

    /// Keys per head: N in prefill, `kv_len + query_len` in decode.
    pub fn keys(&self) -> u64 {
        self.seq_len
    }

    /// The shape in words: `B=1 H=32 N=4096 d=128`, then what differs from
    /// full-attention prefill (`H_kv=8 causal window=4096`, `decode query_len=1 kv_len=8192`).
    pub fn shape(&self) -> String {
        let mut s = match self.phase {
            Phase::Prefill => format!(
                "B={} H={} N={} d={}",
                self.batch, self.heads, self.seq_len, self.head_dim
            ),
            Phase::Decode => format!(
                "B={} H={} d={} decode query_len={} kv_len={}",
                self.batch, self.heads, self.head_dim, self.query_len, self.kv_len
            ),
        };
        if self.kv_heads != self.heads {
            s.push_str(&format!(" H_kv={}", self.kv_heads));
        }
        if self.mask != Mask::None {
            s.push_str(&format!(" {}", self.mask));
        }
        if let Some(w) = self.window {
            s.push_str(&format!(" window={w}"));
        }
        s
    }

    /// Parses workload TOML `text` read from `origin`; `batch` and
    /// `seq_len` (command-line flags) override the file.
    pub fn parse(
        origin: &str,
        text: &str,
        batch: Option<u64>,
        seq_len: Option<u64>,
    ) -> Result<Self, ConfigError> {
        let flags = WorkloadFlags {
            batch,
            seq_len,
            ..WorkloadFlags::default()
        };
        Self::parse_with(origin, text, &flags)
    }

    /// Parses workload TOML `text` read from `origin` with command-line overrides.
    pub fn parse_with(
        origin: &str,
        text: &str,
        flags: &WorkloadFlags,
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
        let at = |key: &str| source.origin_of(key);
        let declared = Declared {
            name: file.name,
            heads: file.heads,
            kv_heads: file.kv_heads.map(|v| (v, at("kv_heads"))),
            head_dim: file.head_dim,
            hidden: file.hidden,
            batch: file.batch,
            seq_len: file.seq_len.map(|v| (v, at("seq_len"))),
            mask: (file.mask, at("mask")),
            window: file.window.map(|v| (v, at("window"))),
            phase: (file.phase, at("phase")),
            query_len: file.query_len.map(|v| (v, at("query_len"))),
            kv_len: file.kv_len.map(|v| (v, at("kv_len"))),
            spill: file.spill,
        };
        Self::resolve(declared, flags, source.origin_of("seq_len"))
    }

    /// Applies `flags` to `d` and checks the combination. `missing` is where
    /// an absent `seq_len` is reported.
    pub(crate) fn resolve(
        d: Declared,
        flags: &WorkloadFlags,
        missing: Origin,
    ) -> Result<Self, ConfigError> {
        let positive = |name: &str, value: Option<u64>| -> Result<(), ConfigError> {
            match value {
                Some(0) => Err(ConfigError::new(
                    flag_origin(),
                    name,
                    "must be positive, found 0",
                )),
                _ => Ok(()),
            }
        };
        positive("--batch", flags.batch)?;
        positive("--seq-len", flags.seq_len)?;
        positive("--kv-heads", flags.kv_heads)?;
        positive("--window", flags.window.flatten())?;
        positive("--query-len", flags.query_len)?;
        positive("--kv-len", flags.kv_len)?;
        // Each value with the key that set it, for the error messages.
        let pick =
            |flag: Option<u64>, name: &'static str, file: Option<(u64, Origin)>, key| match flag {
                Some(v) => Some((v, flag_origin(), name)),
                None => file.map(|(v, o)| (v, o, key)),
            };
        let kv_heads = pick(flags.kv_heads, "--kv-heads", d.kv_heads, "kv_heads");
        let seq_len = pick(flags.seq_len, "--seq-len", d.seq_len, "seq_len");
        let query_len = pick(flags.query_len, "--query-len", d.query_len, "query_len");
        let kv_len = pick(flags.kv_len, "--kv-len", d.kv_len, "kv_len");
        let window = match flags.window {
            Some(w) => w.map(|v| (v, flag_origin(), "--window")),
            None => d.window.map(|(v, o)| (v, o, "window")),
        };
        let (mask, mask_origin, mask_key) = match flags.mask {
            Some(m) => (m, flag_origin(), "--mask"),
            None => (d.mask.0, d.mask.1, "mask"),
        };
        let (phase, phase_origin, phase_key) = match flags.phase {
            Some(p) => (p, flag_origin(), "--phase"),
            None => (d.phase.0, d.phase.1, "phase"),
        };
        let kv_heads = match kv_heads {
            None => d.heads,
            Some((v, origin, key)) => {
                if !d.heads.is_multiple_of(v) {
                    return Err(ConfigError::new(
                        origin,
                        key,
                        format!(
                            "{v} does not divide heads = {} (query heads share KV heads in equal groups)",
                            d.heads
                        ),
                    ));
                }
                v
            }
        };
        if let Some((w, origin, key)) = &window {
            if mask != Mask::Causal {
                return Err(ConfigError::new(
                    origin.clone(),
                    *key,
                    format!(
                        "a sliding window of {w} needs a causal mask, and {mask_key} is `{mask}` ({mask_origin})"
                    ),
                ));
            }
        }
        let size_key: (Origin, &str);
        let (seq_len, query_len, kv_len) = match phase {
            Phase::Prefill => {
                for (value, what) in [(&kv_len, "kv_len"), (&query_len, "query_len")] {
                    if let Some((_, origin, key)) = value {
                        return Err(ConfigError::new(
                            origin.clone(),
                            *key,
                            format!(
                                "{what} is for the decode phase; {phase_key} is `prefill` ({phase_origin}), whose queries and keys are the seq_len tokens"
                            ),
                        ));
                    }
                }
                let (n, origin, key) = seq_len.ok_or_else(|| {
                    ConfigError::new(
                        missing,
                        "seq_len",
                        "required: give --seq-len or set seq_len in the workload file",
                    )
                })?;
                size_key = (origin, key);
                (n, n, 0)
            }
            Phase::Decode => {
                if let Some((_, origin, key)) = seq_len {
                    return Err(ConfigError::new(
                        origin,
                        key,
                        format!(
                            "seq_len is for the prefill phase; {phase_key} is `decode` ({phase_origin}): give the cached tokens as --kv-len and the new ones as --query-len"
                        ),
                    ));
                }
                let (cached, origin, key) = kv_len.ok_or_else(|| {
                    ConfigError::new(
                        phase_origin.clone(),
                        phase_key,
                        "decode needs the cached tokens per sequence: give --kv-len or set kv_len in the workload file",
                    )
                })?;
                let new = query_len.map_or(1, |(v, _, _)| v);
                size_key = (origin, key);
                // Saturating: a sum past u64 is refused by the size check below.
                (cached.saturating_add(new), new, cached)
            }
        };
        let workload = Workload {
            name: d.name,
            batch: flags.batch.or(d.batch).unwrap_or(1),
            heads: d.heads,
            kv_heads,
            seq_len,
            head_dim: d.head_dim,
            hidden: d.hidden,
            mask,
            window: window.map(|(w, _, _)| w),
            phase,
            query_len,
            kv_len,
            spill: d.spill,
        };
        let macs = workload.attention_macs();
        if macs > MAX_ATTENTION_MACS || d.heads > MAX_HEAD_COUNT || d.head_dim > MAX_HEAD_COUNT {
            let (origin, key) = size_key;
            return Err(ConfigError::new(
                origin,
                key,
                format!(
                    "batch × heads × queries × keys × head_dim = {} × {} × {} × {} × {} = {macs} multiply-accumulates per attention GEMM; flatsim counts problems up to 2^{} exactly, with heads and head_dim up to {MAX_HEAD_COUNT}",
                    workload.batch,
                    workload.heads,
                    workload.query_len,
                    workload.seq_len,
                    workload.head_dim,
                    MAX_ATTENTION_MACS.ilog2()
                ),
            ));
        }
        Ok(workload)
    }

    /// B·H·queries·keys·d: the multiply-accumulates of one of attention's
    /// two GEMMs without a mask (saturating at `u128::MAX`, far above
    /// [`MAX_ATTENTION_MACS`]).
    pub fn attention_macs(&self) -> u128 {
        [self.heads, self.query_len, self.seq_len, self.head_dim]
            .into_iter()
            .fold(u128::from(self.batch), |product, x| {
                product.saturating_mul(u128::from(x))
            })
    }

    /// Loads a workload file, or a built-in workload by name (`bert`, `trxl`, `t5`, `xlm`).
    pub fn load(spec: &str, batch: Option<u64>, seq_len: Option<u64>) -> Result<Self, ConfigError> {
        let flags = WorkloadFlags {
            batch,
            seq_len,
            ..WorkloadFlags::default()
        };
        Self::load_with(spec, &flags)
    }

    /// Loads a workload (TOML file, Hugging Face `config.json`, or built-in
    /// name) with command-line overrides.
    pub fn load_with(spec: &str, flags: &WorkloadFlags) -> Result<Self, ConfigError> {
        if let Some((name, text)) = BUILTIN_WORKLOADS.iter().find(|(n, _)| *n == spec) {
            let origin = format!("<built-in {spec}>");
            let mut w = Self::parse_any(&origin, text, flags)?;
            w.name = (*name).to_owned();
            return Ok(w);
        }
        match std::fs::read_to_string(Path::new(spec)) {
            Ok(text) => Self::parse_any(spec, &text, flags),
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

    /// A JSON object is a Hugging Face `config.json`; anything else is TOML.
    fn parse_any(origin: &str, text: &str, flags: &WorkloadFlags) -> Result<Self, ConfigError> {
        if text.trim_start().starts_with('{') {
            crate::hf::parse(origin, text, flags)
        } else {
            Self::parse_with(origin, text, flags)
        }
    }
}

#[cfg(test)]
mod tests;
