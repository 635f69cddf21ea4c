use hwconfig::{
    builtin_preset, ConfigError, DramModel, HwConfig, Origin, PeDataflow, BUILTIN_PRESETS,
};

fn edge_text() -> &'static str {
    builtin_preset("edge").unwrap()
}

fn parse_edge_with(replace: &str, with: &str) -> Result<HwConfig, ConfigError> {
    let text = edge_text();
    assert!(text.contains(replace), "fixture lacks {replace:?}");
    HwConfig::parse("edge.toml", &text.replacen(replace, with, 1), &[])
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn every_builtin_preset_is_valid_and_round_trips() {
    for (name, text) in BUILTIN_PRESETS {
        let config = HwConfig::parse(name, text, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&config.name, name);
        let resolved = config.to_toml_string();
        let again = HwConfig::parse("resolved", &resolved, &[]).unwrap();
        assert_eq!(
            config, again,
            "{name} does not round-trip through its resolved form"
        );
    }
}

#[test]
fn platforms_carry_flats_numbers() {
    let edge = HwConfig::edge();
    assert_eq!((edge.pe_array.rows, edge.pe_array.cols), (32, 32));
    assert_eq!(edge.sram.capacity_bytes, 512 * 1024);
    assert_eq!(edge.dram.bandwidth_gib_per_s, Some(50.0));
    assert_eq!(edge.core.clock_mhz, 940.0);
    assert_eq!(edge.core.element_bytes, 2);
    let cloud = HwConfig::parse("cloud", builtin_preset("cloud").unwrap(), &[]).unwrap();
    assert_eq!((cloud.pe_array.rows, cloud.pe_array.cols), (256, 256));
    assert_eq!(cloud.sram.capacity_bytes, 32 << 20);
    assert_eq!(cloud.dram.bandwidth_gib_per_s, Some(400.0));
}

#[test]
fn unknown_key_names_line_and_suggests() {
    let err = parse_edge_with("banks = 32", "bankz = 32").unwrap_err();
    assert_eq!(err.key, "sram.bankz");
    assert!(err.reason.contains("did you mean `sram.banks`"), "{err}");
    let line = line_of(edge_text(), "banks = 32");
    assert_eq!(
        err.origin,
        Origin::File {
            path: "edge.toml".into(),
            line: Some(line)
        }
    );
    assert!(
        err.to_string()
            .starts_with(&format!("edge.toml:{line}: key `sram.bankz`")),
        "{err}"
    );
}

#[test]
fn unknown_section_is_rejected() {
    let err = parse_edge_with("[dma]", "[dmaa]").unwrap_err();
    assert_eq!(err.key, "dmaa");
    assert!(err.reason.contains("did you mean `dma`"), "{err}");
}

#[test]
fn missing_required_key() {
    let err = parse_edge_with("mac_pj = 0.5\n", "").unwrap_err();
    assert_eq!(err.key, "energy.mac_pj");
    assert!(err.reason.contains("required"), "{err}");
}

#[test]
fn wrong_type() {
    let err = parse_edge_with("rows = 32", "rows = \"many\"").unwrap_err();
    assert_eq!(err.key, "pe_array.rows");
    assert!(
        err.reason.contains("expected an integer, found a string"),
        "{err}"
    );
    assert!(matches!(err.origin, Origin::File { line: Some(_), .. }));
}

#[test]
fn zero_and_negative_sizes() {
    let err = parse_edge_with("cols = 32", "cols = 0").unwrap_err();
    assert_eq!(err.key, "pe_array.cols");
    assert!(err.reason.contains("positive"), "{err}");
    let err = parse_edge_with("capacity_bytes = 524288", "capacity_bytes = -5").unwrap_err();
    assert_eq!(err.key, "sram.capacity_bytes");
    assert!(err.reason.contains("negative"), "{err}");
    let err = parse_edge_with("clock_mhz = 940", "clock_mhz = -1.5").unwrap_err();
    assert_eq!(err.key, "core.clock_mhz");
}

#[test]
fn non_power_of_two() {
    let err = parse_edge_with("banks = 32", "banks = 24").unwrap_err();
    assert_eq!(err.key, "sram.banks");
    assert!(err.reason.contains("power of two"), "{err}");
}

#[test]
fn unknown_enum_value_lists_valid_ones() {
    let err = parse_edge_with("dataflow = \"os\"", "dataflow = \"rs\"").unwrap_err();
    assert_eq!(err.key, "pe_array.dataflow");
    assert!(err.reason.contains("os, ws, is"), "{err}");
}

#[test]
fn contradictions_are_rejected() {
    let err = parse_edge_with("capacity_bytes = 524288", "capacity_bytes = 1000").unwrap_err();
    assert_eq!(err.key, "sram.capacity_bytes");
    assert!(err.reason.contains("multiple"), "{err}");
    let err = parse_edge_with("bandwidth_gib_per_s = 50\n", "").unwrap_err();
    assert_eq!(err.key, "dram.bandwidth_gib_per_s");
}

#[test]
fn bad_version_and_bad_toml() {
    let err = parse_edge_with("version = 1", "version = 2").unwrap_err();
    assert_eq!(err.key, "version");
    let err = parse_edge_with("[sram]", "[sram").unwrap_err();
    assert!(err.reason.contains("not valid TOML"), "{err}");
    assert!(matches!(err.origin, Origin::File { line: Some(_), .. }));
}

#[test]
fn overrides_apply_and_are_validated() {
    let overrides = vec![
        "pe_array.rows=64".to_owned(),
        "pe_array.dataflow=ws".to_owned(),
    ];
    let config = HwConfig::parse("edge.toml", edge_text(), &overrides).unwrap();
    assert_eq!(config.pe_array.rows, 64);
    assert_eq!(config.pe_array.dataflow, PeDataflow::Ws);

    let err =
        HwConfig::parse("edge.toml", edge_text(), &["pe_array.rowz=64".to_owned()]).unwrap_err();
    assert_eq!(err.origin, Origin::Override);
    assert!(err.reason.contains("did you mean `pe_array.rows`"), "{err}");
    let err = HwConfig::parse("edge.toml", edge_text(), &["sram.banks=3".to_owned()]).unwrap_err();
    assert_eq!(
        (err.origin, err.key.as_str()),
        (Origin::Override, "sram.banks")
    );
}

#[test]
fn unreadable_file_names_the_file() {
    let err = HwConfig::load(std::path::Path::new("/nonexistent/hw.toml"), &[]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/hw.toml"), "{err}");
    assert!(err.reason.contains("cannot read"), "{err}");
}

#[test]
fn builtin_presets_load_by_name() {
    let config = HwConfig::load(std::path::Path::new("cloud"), &[]).unwrap();
    assert_eq!(config.name, "cloud");
}

#[test]
fn config_reference_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
    let generated = hwconfig::config_reference_markdown();
    if std::env::var_os("FLATSIM_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/config.md is stale: run `FLATSIM_BLESS=1 cargo test -p hwconfig`"
    );
}

#[test]
fn every_declared_key_is_documented() {
    let doc = hwconfig::config_reference_markdown();
    for key in <HwConfig as hwconfig::Section>::all_keys() {
        let leaf = key.path.rsplit('.').next().unwrap().to_owned();
        assert!(
            doc.contains(&format!("| `{leaf}` |")),
            "{} missing",
            key.path
        );
        assert!(
            !key.description.is_empty(),
            "{} has no description",
            key.path
        );
    }
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Arbitrary edits of a valid file never panic: they parse or give an error.
        #[test]
        fn arbitrary_edits_never_panic(pos in 0usize..2000, junk in "[ -~\n]{0,12}") {
            let text = edge_text();
            let pos = pos.min(text.len());
            let pos = (0..=pos).rev().find(|p| text.is_char_boundary(*p)).unwrap();
            let edited = format!("{}{}{}", &text[..pos], junk, &text[pos..]);
            let _ = HwConfig::parse("fuzz.toml", &edited, &[]);
        }

        #[test]
        fn arbitrary_overrides_never_panic(key in "[a-z_.]{0,20}", value in "[ -~]{0,10}") {
            let _ = HwConfig::parse("edge.toml", edge_text(), &[format!("{key}={value}")]);
        }
    }
}

#[test]
fn keys_the_dram_model_ignores_are_refused() {
    let err =
        HwConfig::parse("edge.toml", edge_text(), &["dram.model=cycle".to_owned()]).unwrap_err();
    assert_eq!(err.key, "dram.bandwidth_gib_per_s");
    assert_eq!(
        err.origin.to_string(),
        format!("edge.toml:{}", line_of(edge_text(), "bandwidth_gib_per_s"))
    );
    assert!(
        err.reason
            .contains("only dram.model = \"bandwidth\" uses it"),
        "{err}"
    );
    let err =
        HwConfig::parse("edge.toml", edge_text(), &["dram.preset=hbm2".to_owned()]).unwrap_err();
    assert_eq!(
        (err.key.as_str(), err.origin.clone()),
        ("dram.preset", Origin::Override)
    );
    assert!(
        err.reason.contains("only dram.model = \"cycle\" uses it"),
        "{err}"
    );
    let edge = HwConfig::edge();
    assert_eq!(edge.dram.model, DramModel::Bandwidth);
    assert!(!edge.to_toml_string().contains("preset"));
}

#[test]
fn sizes_and_physical_numbers_have_documented_bounds() {
    for (set, key, reason) in [
        (
            "dram.write_queue=4294967296",
            "dram.write_queue",
            "above the maximum queue size of 4096",
        ),
        (
            "sram.read_ports_per_bank=100000",
            "sram.read_ports_per_bank",
            "maximum port count of 64",
        ),
        (
            "dma.max_outstanding=1000000",
            "dma.max_outstanding",
            "maximum count",
        ),
        ("vector.lanes=131072", "vector.lanes", "maximum count"),
        (
            "core.clock_mhz=1e-300",
            "core.clock_mhz",
            "outside the supported range 1 ..= 100000 MHz",
        ),
        ("core.clock_mhz=1e300", "core.clock_mhz", "100000 MHz"),
        (
            "dram.bandwidth_gib_per_s=1e-300",
            "dram.bandwidth_gib_per_s",
            "GiB/s",
        ),
        (
            "dram.latency_ns=1e20",
            "dram.latency_ns",
            "0 ..= 1000000 ns",
        ),
        (
            "core.element_bytes=16",
            "core.element_bytes",
            "maximum element size of 8",
        ),
        (
            "sram.capacity_bytes=4398046511104",
            "sram.capacity_bytes",
            "maximum capacity",
        ),
    ] {
        let err = HwConfig::parse("edge.toml", edge_text(), &[set.to_owned()]).unwrap_err();
        assert_eq!(err.key, key, "{set}: {err}");
        assert!(err.reason.contains(reason), "{set}: {err}");
    }
}
