mod common;

use common::*;
use dram::checker::ProtocolChecker;
use dram::spec::{presets, IssuedCommand};
use dram::workload::{Workload, WorkloadKind};
use std::path::Path;

fn write_trace(path: &Path, kind: WorkloadKind, requests: u64) {
    let w = Workload {
        kind,
        requests,
        request_bytes: 64,
        capacity_bytes: 1 << 34,
        bank_stride_bytes: 1 << 18,
    };
    let mut text = String::from("addr,is_write\n");
    for (addr, is_write) in w.requests() {
        text += &format!("{addr:#x},{}\n", u8::from(is_write));
    }
    std::fs::write(path, text).unwrap();
}

/// The reference setup: DDR4-3200, 1 channel, 2 ranks, RoBaRaCoCh.
const REFERENCE: [&str; 6] = [
    "--set",
    "dram.channels=1",
    "--set",
    "dram.ranks=2",
    "--set",
    "dram.address_mapping=\"RoBaRaCoCh\"",
];

#[test]
fn dram_replays_a_trace_and_writes_the_report_and_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("mixed.csv");
    write_trace(&trace, WorkloadKind::MixedRand2r1w, 3000);
    let commands = dir.path().join("commands.csv");
    let out = dir.path().join("run");
    let args: Vec<&str> = [
        "dram",
        "--hw",
        "edge-cycle",
        "--trace",
        trace.to_str().unwrap(),
        "--max-outstanding",
        "8",
        "--command-trace",
        commands.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .into_iter()
    .chain(REFERENCE)
    .collect();
    let output = flatsim(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ddr4-3200: 1 channel(s) × 2 rank(s), RoBaRaCoCh"),
        "{stdout}"
    );

    let csv = std::fs::read_to_string(out.join("dram.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header, dram::replay::DramReport::COLUMNS);
    let row: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let get = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (get("requests"), get("reads"), get("writes")),
        (3000.0, 2000.0, 1000.0)
    );
    let bandwidth = 3000.0 * 64.0 / (get("cycles") * 0.625);
    assert!((get("bandwidth_gbps") - bandwidth).abs() < 1e-9);
    assert!((get("pct_of_peak") - 100.0 * bandwidth / 25.6).abs() < 1e-9);

    let text = std::fs::read_to_string(&commands).unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some(IssuedCommand::CSV_HEADER));
    let issued: Vec<IssuedCommand> = rows
        .map(|l| IssuedCommand::parse_csv_row(l).unwrap())
        .collect();
    let activates = issued
        .iter()
        .filter(|c| c.command == dram::spec::Command::Act)
        .count();
    assert_eq!(activates as f64, get("activates"));
    assert!(
        ProtocolChecker::check_all(&presets::DDR4_3200, 2, &issued, get("cycles") as u64)
            .is_empty()
    );

    // `dram-check` finds the trace clean, and not once a RD shares its
    // cycle with the command before it.
    let check = |path: &Path| {
        let args: Vec<&str> = [
            "dram-check",
            "--hw",
            "edge-cycle",
            "--commands",
            path.to_str().unwrap(),
        ]
        .into_iter()
        .chain(REFERENCE)
        .collect();
        flatsim(&args)
    };
    let clean = check(&commands);
    assert!(clean.status.success());
    let report = String::from_utf8_lossy(&clean.stdout);
    assert!(
        report.contains(&format!("{} commands checked", issued.len()))
            && report.contains("0 violation(s)"),
        "{report}"
    );
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let rd = lines
        .iter()
        .rposition(|l| l.split(',').nth(1) == Some("RD"))
        .unwrap();
    let previous = lines[rd - 1].split(',').next().unwrap().to_string();
    let rest = lines[rd].split_once(',').unwrap().1.to_string();
    lines[rd] = format!("{previous},{rest}");
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    let found = check(&broken);
    assert_eq!(found.status.code(), Some(1));
    let report = String::from_utf8_lossy(&found.stdout);
    assert!(
        !report.contains(" 0 violation(s)") && report.contains("command bus"),
        "{report}"
    );
    std::fs::write(&broken, "cycle,cmd\n").unwrap();
    let bad_header = check(&broken);
    assert_eq!(bad_header.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_header.stderr)
        .contains("broken.csv: line 1: expected the header"));

    // Same inputs, byte-identical outputs.
    let again = flatsim(&[&args[..], &["--force"]].concat());
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(out.join("dram.csv")).unwrap(), csv);
    assert_eq!(std::fs::read_to_string(&commands).unwrap(), text);
}

#[test]
fn bad_input_exits_2_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    write_trace(&good, WorkloadKind::SeqRead, 10);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "addr,is_write\n64,0\n128,0\n0x1g0,1\n").unwrap();
    let no_header = dir.path().join("no_header.csv");
    std::fs::write(&no_header, "64,0\n").unwrap();
    let (good, bad, no_header) = (
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        no_header.to_str().unwrap(),
    );
    let cases: [(&[&str], &str); 6] = [
        (
            &["dram", "--hw", "edge-cycle", "--trace", bad],
            "bad.csv: line 4: address `0x1g0`",
        ),
        (
            &["dram", "--hw", "edge-cycle", "--trace", no_header],
            "line 1: expected the header `addr,is_write`",
        ),
        (
            &[
                "dram",
                "--hw",
                "edge-cycle",
                "--trace",
                "/nonexistent/trace.csv",
            ],
            "cannot read trace",
        ),
        (
            &[
                "dram",
                "--hw",
                "edge-cycle",
                "--trace",
                good,
                "--max-outstanding",
                "0",
            ],
            "--max-outstanding",
        ),
        (
            &[
                "dram",
                "--hw",
                "edge",
                "--trace",
                good,
                "--command-trace",
                "x.csv",
            ],
            "dram.model = \"cycle\"",
        ),
        (
            &[
                "dram",
                "--hw",
                "edge-cycle",
                "--trace",
                good,
                "--set",
                "dram.preset=\"hbm2\"",
                "--set",
                "dram.ranks=2",
            ],
            "key `dram.ranks`",
        ),
    ];
    for (args, expected) in cases {
        let output = flatsim(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn the_bandwidth_model_replays_in_core_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("seq.csv");
    write_trace(&trace, WorkloadKind::SeqRead, 20_000);
    let out = dir.path().join("run");
    let output = flatsim(&[
        "dram",
        "--hw",
        "edge",
        "--trace",
        trace.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = std::fs::read_to_string(out.join("dram.csv")).unwrap();
    let row: Vec<f64> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    // 50 GiB/s: with dma.max_outstanding reads in flight (the edge preset's
    // cover 100 ns of latency), a long stream runs at the pipe's rate.
    let gib_per_s = row[4] * 1e9 / (1u64 << 30) as f64;
    assert!((gib_per_s / 50.0 - 1.0).abs() < 0.01, "{gib_per_s} GiB/s");
    assert!(row[5] > 99.0 && row[5] <= 100.0);
}
