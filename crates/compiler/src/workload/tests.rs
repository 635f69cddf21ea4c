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
        .take(4)
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

#[test]
fn shipped_decoder_configs_load_by_name() {
    // (name, heads, kv_heads, head_dim, window) from the public config.json files.
    let want = [
        ("llama3-8b", 32, 8, 128, None),
        ("llama3-70b", 64, 8, 128, None),
        ("mistral-7b", 32, 8, 128, Some(4096)),
        // Qwen2 declares a window but `use_sliding_window: false`.
        ("qwen2-7b", 28, 4, 128, None),
    ];
    for (name, heads, kv_heads, head_dim, window) in want {
        let w = Workload::load(name, None, Some(1024)).unwrap();
        assert_eq!(
            (
                w.name.as_str(),
                w.heads,
                w.kv_heads,
                w.head_dim,
                w.window,
                w.mask
            ),
            (name, heads, kv_heads, head_dim, window, Mask::Causal),
        );
        assert_eq!(w.group(), heads / kv_heads);
    }
}

const GPT2: &str = r#"{"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
  "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12,
  "n_positions": 1024, "vocab_size": 50257}"#;

#[test]
fn gpt2_field_names_work() {
    let w = crate::hf::parse(
        "gpt2/config.json",
        GPT2,
        &WorkloadFlags {
            seq_len: Some(256),
            ..WorkloadFlags::default()
        },
    )
    .unwrap();
    assert_eq!(
        (
            w.name.as_str(),
            w.heads,
            w.kv_heads,
            w.head_dim,
            w.hidden,
            w.mask
        ),
        ("gpt2", 12, 12, 64, 768, Mask::Causal)
    );
    // `multi_query: true` (e.g. gpt_bigcode) means one KV head.
    let mq = GPT2.replace("\"n_layer\"", "\"multi_query\": true, \"n_layer\"");
    let w = crate::hf::parse(
        "c.json",
        &mq,
        &WorkloadFlags {
            seq_len: Some(8),
            ..WorkloadFlags::default()
        },
    )
    .unwrap();
    assert_eq!(w.kv_heads, 1);
}

#[test]
fn config_json_errors_name_file_and_field() {
    let flags = WorkloadFlags {
        seq_len: Some(8),
        ..WorkloadFlags::default()
    };
    let err = crate::hf::parse(
        "m.json",
        r#"{"model_type": "llama", "hidden_size": 64}"#,
        &flags,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "m.json: key `num_attention_heads`: required: the config has none of num_attention_heads, n_head");
    let err = crate::hf::parse(
        "m.json",
        r#"{"model_type": "mamba", "hidden_size": 64, "num_attention_heads": 4}"#,
        &flags,
    )
    .unwrap_err();
    assert!(
        err.reason.contains("unknown model type `mamba`") && err.reason.contains("--mask"),
        "{err}"
    );
    let w = crate::hf::parse(
        "m.json",
        r#"{"model_type": "mamba", "hidden_size": 64, "num_attention_heads": 4}"#,
        &WorkloadFlags {
            mask: Some(Mask::None),
            ..flags.clone()
        },
    )
    .unwrap();
    assert_eq!(w.mask, Mask::None);
    // head_dim need not be hidden / heads (Gemma).
    let w = crate::hf::parse(
        "g.json",
        r#"{"model_type": "gemma2", "hidden_size": 2304, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "sliding_window": 4096}"#,
        &flags,
    )
    .unwrap();
    assert_eq!((w.head_dim, w.kv_heads, w.window), (256, 4, Some(4096)));
    let err = crate::hf::parse(
        "g.json",
        r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3}"#,
        &flags,
    )
    .unwrap_err();
    assert_eq!(err.key, "num_key_value_heads");
    let err = crate::hf::parse("bad.json", "{\n  \"a\": ,\n}", &flags).unwrap_err();
    assert!(err.to_string().starts_with("bad.json:2: "), "{err}");
    let w = crate::hf::parse(
        "b.json",
        r#"{"model_type": "bert", "hidden_size": 768, "num_attention_heads": 12}"#,
        &flags,
    )
    .unwrap();
    assert_eq!(w.mask, Mask::None);
}

const TINY: &str = "name = \"x\"\nheads = 4\nhead_dim = 4\nhidden = 16\n";

fn parse(extra: &str, flags: WorkloadFlags) -> Result<Workload, ConfigError> {
    Workload::parse_with("w.toml", &format!("{TINY}{extra}"), &flags)
}

#[test]
fn decoder_keys_and_flags() {
    let w = parse(
        "kv_heads = 2\nmask = \"causal\"\nwindow = 8\nseq_len = 32\n",
        WorkloadFlags::default(),
    )
    .unwrap();
    assert_eq!(
        (
            w.kv_heads,
            w.group(),
            w.mask,
            w.window,
            w.queries(),
            w.keys()
        ),
        (2, 2, Mask::Causal, Some(8), 32, 32)
    );
    // Decode: query_len new tokens attend to kv_len cached ones and themselves.
    let w = parse(
        "phase = \"decode\"\nkv_len = 100\n",
        WorkloadFlags {
            query_len: Some(3),
            ..WorkloadFlags::default()
        },
    )
    .unwrap();
    assert_eq!(
        (w.phase, w.queries(), w.keys(), w.kv_len),
        (Phase::Decode, 3, 103, 100)
    );
    let w = parse(
        "phase = \"decode\"\nkv_len = 100\n",
        WorkloadFlags::default(),
    )
    .unwrap();
    assert_eq!(w.queries(), 1);
    // Flags override the file, including `--window none`.
    let w = parse(
        "mask = \"causal\"\nwindow = 8\nseq_len = 32\n",
        WorkloadFlags {
            window: Some(None),
            kv_heads: Some(1),
            ..WorkloadFlags::default()
        },
    )
    .unwrap();
    assert_eq!((w.window, w.kv_heads), (None, 1));
}

#[test]
fn bad_decoder_combinations_say_why() {
    let d = WorkloadFlags::default;
    let err = parse("kv_heads = 3\nseq_len = 8\n", d()).unwrap_err();
    assert_eq!(err.to_string(), "w.toml:5: key `kv_heads`: 3 does not divide heads = 4 (query heads share KV heads in equal groups)");
    let err = parse("window = 8\nseq_len = 8\n", d()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("w.toml:5: key `window`: a sliding window of 8 needs a causal mask"),
        "{err}"
    );
    let err = parse(
        "seq_len = 8\n",
        WorkloadFlags {
            window: Some(Some(4)),
            ..d()
        },
    )
    .unwrap_err();
    assert_eq!(err.key, "--window");
    let err = parse("seq_len = 8\nkv_len = 4\n", d()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("w.toml:6: key `kv_len`: kv_len is for the decode phase"),
        "{err}"
    );
    let err = parse(
        "seq_len = 8\n",
        WorkloadFlags {
            query_len: Some(2),
            ..d()
        },
    )
    .unwrap_err();
    assert_eq!(err.key, "--query-len");
    let err = parse("phase = \"decode\"\n", d()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("w.toml:5: key `phase`: decode needs the cached tokens"),
        "{err}"
    );
    let err = parse(
        "phase = \"decode\"\nkv_len = 4\n",
        WorkloadFlags {
            seq_len: Some(8),
            ..d()
        },
    )
    .unwrap_err();
    assert_eq!(err.key, "--seq-len");
    let err = parse("mask = \"diagonal\"\nseq_len = 8\n", d()).unwrap_err();
    assert!(err.reason.contains("valid values: none, causal"), "{err}");
    for (flag, flags) in [
        (
            "--kv-heads",
            WorkloadFlags {
                kv_heads: Some(0),
                ..d()
            },
        ),
        (
            "--window",
            WorkloadFlags {
                window: Some(Some(0)),
                ..d()
            },
        ),
        (
            "--kv-len",
            WorkloadFlags {
                kv_len: Some(0),
                ..d()
            },
        ),
    ] {
        assert_eq!(parse("seq_len = 8\n", flags).unwrap_err().key, flag);
    }
}
