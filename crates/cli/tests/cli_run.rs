//! `flatsim run` end to end: files, determinism, fast-forward equivalence,
//! functional checking, traces and bad input.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn run_into(dir: &Path, extra: &[&str]) -> Output {
    let out = dir.to_string_lossy().into_owned();
    let mut args: Vec<&str> = TINY_RUN.to_vec();
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", &out, "--force"]);
    flatsim(&args)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn writes_every_output_and_repeats_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let flags = [
        "--dataflow",
        "flash",
        "--rows",
        "16",
        "--cols",
        "32",
        "--epoch-cycles",
        "500",
    ];
    ok(&run_into(&a, &flags));
    ok(&run_into(&b, &flags));
    let mut stepped = flags.to_vec();
    stepped.push("--no-fast-forward");
    ok(&run_into(&c, &stepped));
    for name in [
        "summary.csv",
        "stats.csv",
        "timeline.csv",
        "config.resolved.toml",
    ] {
        assert_eq!(
            read(&a, name),
            read(&b, name),
            "{name} differs between identical runs"
        );
        assert_eq!(
            read(&a, name),
            read(&c, name),
            "{name} differs without fast-forward"
        );
    }
    let summary = read(&a, "summary.csv");
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let get = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (
            get("workload"),
            get("heads"),
            get("seq_len"),
            get("dataflow")
        ),
        ("bert", "12", "64", "flash")
    );
    let cycles: u64 = get("cycles").parse().unwrap();
    assert!(cycles > 0);
    assert_eq!(get("max_abs_error"), "");
    // stats.csv: every unit's busy + stalls + idle = total.
    let stats = read(&a, "stats.csv");
    for unit in ["pe_array", "vector", "dma", "sram", "dram"] {
        let value = |stat: &str| -> f64 {
            stats
                .lines()
                .find(|l| l.starts_with(&format!("{unit},{stat},")))
                .unwrap_or_else(|| panic!("{unit} {stat}"))
                .split(',')
                .nth(2)
                .unwrap()
                .parse()
                .unwrap()
        };
        let stalls: f64 = simkit::StallReason::ALL
            .iter()
            .map(|r| value(&format!("stall_{}_cycles", r.name())))
            .sum();
        assert_eq!(
            value("busy_cycles") + value("idle_cycles") + stalls,
            value("total_cycles"),
            "{unit}"
        );
        assert_eq!(value("total_cycles"), cycles as f64, "{unit}");
    }
    // timeline.csv covers the run in epochs of 500 cycles.
    let timeline = read(&a, "timeline.csv");
    let rows: Vec<&str> = timeline.lines().skip(1).collect();
    assert_eq!(rows.len() as u64, cycles.div_ceil(500));
    assert!(rows
        .last()
        .unwrap()
        .starts_with(&format!("{},{cycles},", (cycles - 1) / 500 * 500)));
    // config.resolved.toml reads back as the same config.
    assert!(read(&a, "config.resolved.toml").contains("rows = 8"));
    ok(&flatsim(&[
        "validate",
        &a.join("config.resolved.toml").to_string_lossy(),
    ]));
}

/// With `--mapping auto` every candidate streams its timeline to a file of
/// its own; the chosen plan's becomes timeline.csv, covering its cycles, and
/// no temporary file stays behind.
#[test]
fn auto_mapping_keeps_the_chosen_plans_streamed_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let auto = dir.path().join("auto");
    let flags = [
        "--dataflow",
        "flat",
        "--epoch-cycles",
        "300",
        "--mapping",
        "auto",
        "--candidates",
        "3",
    ];
    let output = run_into(&auto, &flags);
    ok(&output);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("auto mapping:"),
        "several candidates were simulated"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("auto mapping:"),
        "progress goes to stderr, results to stdout"
    );
    let summary = read(&auto, "summary.csv");
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let cycles: u64 = row[header.iter().position(|h| *h == "cycles").unwrap()]
        .parse()
        .unwrap();
    let timeline = read(&auto, "timeline.csv");
    assert_eq!(
        timeline.lines().skip(1).count() as u64,
        cycles.div_ceil(300)
    );
    assert!(timeline
        .lines()
        .last()
        .unwrap()
        .starts_with(&format!("{},{cycles},", (cycles - 1) / 300 * 300)));
    let names: Vec<String> = std::fs::read_dir(&auto)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn functional_runs_report_their_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(&run_into(
        dir.path(),
        &["--dataflow", "flat", "--gran", "h", "--functional"],
    ));
    assert!(text.contains("max |O - reference|"), "{text}");
    let summary = read(dir.path(), "summary.csv");
    let error: f64 = summary
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(error < 1e-9, "{error}");
}

#[test]
fn perfetto_and_csv_traces() {
    let dir = tempfile::tempdir().unwrap();
    ok(&run_into(
        dir.path(),
        &[
            "--dataflow",
            "flat",
            "--gran",
            "h",
            "--perfetto",
            "--trace",
            "pe,dma",
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "trace.json")).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let slices = events.iter().filter(|e| e["ph"] == "X").count();
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"pe") && names.contains(&"dma") && names.contains(&"vector"),
        "{names:?}"
    );
    let pe_rows = read(dir.path(), "trace_pe.csv").lines().count() - 1;
    let dma_rows = read(dir.path(), "trace_dma.csv").lines().count() - 1;
    assert!(pe_rows > 0 && dma_rows > 0);
    assert!(
        slices > pe_rows + dma_rows,
        "vector slices are in the JSON too"
    );
    assert!(!dir.path().join("trace_vector.csv").exists());
}

#[test]
fn dram_command_trace_with_the_cycle_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().into_owned();
    let mut args: Vec<&str> = TINY_RUN
        .iter()
        .map(|&a| if a == "edge" { "edge-cycle" } else { a })
        .collect();
    args.extend_from_slice(&[
        "--dataflow",
        "flash",
        "--rows",
        "16",
        "--cols",
        "32",
        "--trace",
        "dram",
        "--out",
        &out,
        "--force",
    ]);
    ok(&flatsim(&args));
    let trace = read(dir.path(), "trace_dram.csv");
    assert!(trace.starts_with("cycle,cmd,channel,rank,bankgroup,bank,row,col\n"));
    let commands: Vec<&str> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(
        commands.contains(&"ACT") && commands.contains(&"RD") && commands.contains(&"WR"),
        "{:?}",
        &commands[..10]
    );
    let output = run_into(dir.path(), &["--dataflow", "flash", "--trace", "dram"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "the bandwidth model has no commands"
    );
}

#[test]
fn bad_input_exits_2_with_the_reason() {
    let base = [
        "run",
        "--hw",
        "edge",
        "--batch",
        "1",
        "--set",
        "pe_array.rows=8",
        "--set",
        "pe_array.cols=8",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--workload",
                "gpt9",
                "--seq-len",
                "64",
                "--dataflow",
                "flash",
            ],
            "gpt9",
        ),
        (
            &[
                "--workload",
                "bert",
                "--seq-len",
                "64",
                "--dataflow",
                "fused",
            ],
            "unfused, flat, flash",
        ),
        (
            &[
                "--workload",
                "bert",
                "--seq-len",
                "4096",
                "--dataflow",
                "flat",
                "--gran",
                "h",
            ],
            "does not fit",
        ),
        (
            &[
                "--workload",
                "bert",
                "--seq-len",
                "64",
                "--dataflow",
                "flash",
                "--trace",
                "dramm",
                "--out",
                "/tmp/flatsim-never",
            ],
            "--trace",
        ),
        (
            &[
                "--workload",
                "bert",
                "--seq-len",
                "64",
                "--dataflow",
                "flash",
                "--perfetto",
            ],
            "--out",
        ),
        (
            &[
                "--workload",
                "bert",
                "--seq-len",
                "64",
                "--dataflow",
                "flash",
                "--epoch-cycles",
                "0",
            ],
            "--epoch-cycles",
        ),
    ];
    for (extra, needle) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let output = flatsim(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    let output = run_into(
        dir.path(),
        &["--dataflow", "flash", "--perfetto", "--trace-limit", "10"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--trace-limit"));
}

#[test]
fn sweeps_run_attention_points() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("s.toml");
    std::fs::write(
        &sweep,
        "version = 1\n[base]\nhw = \"edge\"\nworkload = \"bert\"\nbatch = 1\nseq_len = 64\n[base.set]\n\"pe_array.rows\" = 8\n\"pe_array.cols\" = 8\n[axes]\ndataflow = [\"unfused\", \"flash\"]\nmapping = [\"fixed\", \"auto\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let text = ok(&flatsim(&[
        "sweep",
        &sweep.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--jobs",
        "2",
    ]));
    assert!(text.contains("4 points: 4 run"), "{text}");
    let summary = read(&out, "summary.csv");
    assert!(
        summary.starts_with("point,mapping,hw,workload,"),
        "{summary}"
    );
    assert_eq!(summary.lines().count(), 5);
}

/// A summary column lookup, and a property of the summary that makes a case
/// the case it stands for.
type Column<'a> = &'a dyn Fn(&str) -> f64;
type Property = &'static dyn Fn(Column) -> bool;

/// The hard cases for an exact speed-up: SRAM bank conflicts (8 banks), a
/// vector-bound softmax (cloud FLAT with 256-row tiles) and spilled K/V
/// (edge FLAT streaming K and V through a 128 KiB scratchpad). Fast-forward
/// and the streamed timeline must leave summary, stats and timeline
/// byte-identical to stepping every cycle (scripts/identical-outputs.sh
/// compares two binaries over larger cases).
#[test]
fn speed_ups_change_no_byte_on_conflicts_vector_bound_softmax_and_spills() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], Property); 3] = [
        (
            "bank-conflicts",
            &[
                "--hw",
                "edge",
                "--workload",
                "trxl",
                "--seq-len",
                "256",
                "--dataflow",
                "flat",
                "--gran",
                "r",
                "--rows",
                "16",
                "--set",
                "sram.banks=8",
            ],
            &|get| get("stall_sram_bank_conflict") > 0.0,
        ),
        (
            "vector-bound",
            &[
                "--hw",
                "cloud",
                "--workload",
                "bert",
                "--seq-len",
                "512",
                "--dataflow",
                "flat",
                "--gran",
                "r",
                "--rows",
                "256",
            ],
            &|get| get("vector_util") > 0.9 && get("pe_util") < 0.2,
        ),
        (
            "spilled-kv",
            &[
                "--hw",
                "edge",
                "--workload",
                "bert",
                "--seq-len",
                "512",
                "--dataflow",
                "flat",
                "--gran",
                "r",
                "--rows",
                "16",
                "--spill",
                "--set",
                "sram.capacity_bytes=131072",
            ],
            // K and V are read once per row tile: far more than Q, K, V once.
            &|get| get("dram_read_bytes") > 4.0 * 3.0 * 12.0 * 512.0 * 64.0 * 2.0,
        ),
    ];
    for (name, flags, property) in cases {
        let runs: Vec<std::path::PathBuf> = [false, true]
            .iter()
            .map(|&stepped| {
                let out = dir.path().join(format!("{name}-{stepped}"));
                let mut args = vec!["run", "--batch", "1", "--epoch-cycles", "997"];
                args.extend_from_slice(flags);
                if stepped {
                    args.push("--no-fast-forward");
                }
                args.extend_from_slice(&["--out", out.to_str().unwrap()]);
                ok(&flatsim(&args));
                out
            })
            .collect();
        let summary = read(&runs[0], "summary.csv");
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
        let get = |column: &str| -> f64 {
            row[header.iter().position(|h| *h == column).unwrap()]
                .parse()
                .unwrap()
        };
        assert!(
            property(&get),
            "{name} is not the case it stands for: {summary}"
        );
        for file in ["summary.csv", "stats.csv", "timeline.csv"] {
            assert_eq!(
                read(&runs[0], file),
                read(&runs[1], file),
                "{name}: {file} differs without fast-forward"
            );
        }
    }
}
