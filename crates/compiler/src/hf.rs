//! Hugging Face `config.json` files as workloads, as the `transformers`
//! library writes them (Llama, Mistral, Qwen2 and GPT-2 field names).

use crate::workload::{Declared, Mask, Phase, Workload, WorkloadFlags};
use hwconfig::{ConfigError, Origin};
use serde_json::{Map, Value};

/// Model types whose attention is causal (decoders) and bidirectional (encoders).
const DECODER_TYPES: &[&str] = &[
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3_text",
    "gpt2",
    "gpt_neox",
    "gptj",
    "gpt_bigcode",
    "falcon",
    "phi",
    "phi3",
    "opt",
    "bloom",
];
const ENCODER_TYPES: &[&str] = &[
    "bert",
    "roberta",
    "xlm-roberta",
    "distilbert",
    "albert",
    "electra",
    "deberta",
    "deberta-v2",
];

fn file(origin: &str) -> Origin {
    Origin::File {
        path: origin.to_owned(),
        line: None,
    }
}

/// A positive integer field, or `None` when it is absent or null.
fn count(origin: &str, obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(0) => Err(ConfigError::new(
                file(origin),
                key,
                "must be positive, found 0",
            )),
            Some(n) => Ok(Some(n)),
            None => Err(ConfigError::new(
                file(origin),
                key,
                format!("expected a positive integer, found {v}"),
            )),
        },
    }
}

/// The first of `keys` that is present.
fn required(origin: &str, obj: &Map<String, Value>, keys: &[&str]) -> Result<u64, ConfigError> {
    for key in keys {
        if let Some(v) = count(origin, obj, key)? {
            return Ok(v);
        }
    }
    Err(ConfigError::new(
        file(origin),
        keys[0],
        format!("required: the config has none of {}", keys.join(", ")),
    ))
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Causal for decoder models, none for encoders, `None` when unknown.
fn mask_of(obj: &Map<String, Value>) -> Option<Mask> {
    let architectures = obj.get("architectures").and_then(Value::as_array);
    if architectures.is_some_and(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .any(|name| name.ends_with("ForCausalLM") || name.ends_with("LMHeadModel"))
    }) {
        return Some(Mask::Causal);
    }
    let model_type = text(obj, "model_type")?;
    if DECODER_TYPES.contains(&model_type) {
        Some(Mask::Causal)
    } else if ENCODER_TYPES.contains(&model_type) {
        Some(Mask::None)
    } else {
        None
    }
}

/// Parses a `config.json` read from `origin` with command-line overrides.
pub fn parse(origin: &str, json: &str, flags: &WorkloadFlags) -> Result<Workload, ConfigError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        ConfigError::new(
            Origin::File {
                path: origin.to_owned(),
                line: Some(e.line()),
            },
            "",
            format!("not a valid config.json: {e}"),
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(ConfigError::new(
            file(origin),
            "",
            "a config.json is a JSON object",
        ));
    };
    let heads = required(origin, &obj, &["num_attention_heads", "n_head"])?;
    let hidden = required(origin, &obj, &["hidden_size", "n_embd"])?;
    let kv_heads = match count(origin, &obj, "num_key_value_heads")? {
        Some(n) => Some(n),
        None if obj.get("multi_query").and_then(Value::as_bool) == Some(true) => Some(1),
        None => None,
    };
    if let Some(kv) = kv_heads {
        if !heads.is_multiple_of(kv) {
            return Err(ConfigError::new(
                file(origin),
                "num_key_value_heads",
                format!("{kv} does not divide num_attention_heads = {heads}"),
            ));
        }
    }
    let head_dim = match count(origin, &obj, "head_dim")? {
        Some(d) => d,
        None if hidden.is_multiple_of(heads) => hidden / heads,
        None => {
            return Err(ConfigError::new(
                file(origin),
                "head_dim",
                format!("absent, and hidden size {hidden} is not a multiple of the {heads} heads"),
            ))
        }
    };
    let name = text(&obj, "_name_or_path")
        .or_else(|| text(&obj, "model_type"))
        .map(str::to_owned)
        .unwrap_or_else(|| origin.to_owned());
    let mask = match flags.mask {
        Some(m) => m,
        None => mask_of(&obj).ok_or_else(|| {
            ConfigError::new(
                file(origin),
                "model_type",
                format!(
                    "unknown model type `{}`: give --mask causal (decoder) or --mask none (encoder)",
                    text(&obj, "model_type").unwrap_or("")
                ),
            )
        })?,
    };
    let use_window = obj.get("use_sliding_window").and_then(Value::as_bool) != Some(false);
    // A window only restricts a causal mask; an encoder's is ignored.
    let window = match count(origin, &obj, "sliding_window")? {
        Some(w) if use_window && mask == Mask::Causal => Some((w, file(origin))),
        _ => None,
    };
    let declared = Declared {
        name,
        heads,
        kv_heads: kv_heads.map(|n| (n, file(origin))),
        head_dim,
        hidden,
        batch: None,
        seq_len: None,
        mask: (mask, file(origin)),
        window,
        phase: (Phase::Prefill, file(origin)),
        query_len: None,
        kv_len: None,
        spill: None,
    };
    Workload::resolve(declared, flags, file(origin))
}
