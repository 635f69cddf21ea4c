//! `flatsim compile`: every --emit form, exit codes, and the text form
//! parsing back.

mod common;

use common::*;
const BASE: [&str; 7] = [
    "compile",
    "--hw",
    "edge",
    "--workload",
    "bert",
    "--seq-len",
    "256",
];

fn stdout_of(extra: &[&str]) -> String {
    let args: Vec<&str> = BASE.iter().copied().chain(extra.iter().copied()).collect();
    let out = flatsim(&args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn emits_isa_that_parses_and_verifies() {
    let text = stdout_of(&[
        "--dataflow",
        "flash",
        "--rows",
        "64",
        "--cols",
        "64",
        "--emit",
        "isa",
    ]);
    let program = isa::parse(&text).unwrap();
    isa::verify(&program).unwrap();
    assert_eq!(isa::print(&program), text);
}

#[test]
fn emits_loops_footprint_and_summary() {
    let loops = stdout_of(&[
        "--dataflow",
        "flat",
        "--gran",
        "r",
        "--rows",
        "32",
        "--emit",
        "loops",
    ]);
    assert!(loops.contains("gemm L: l[b,h]"), "{loops}");
    let fp = stdout_of(&["--dataflow", "flat", "--gran", "h", "--emit", "footprint"]);
    let mut lines = fp.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("dataflow,gran,rows,cols,footprint_bytes,capacity_bytes,fits"));
    // H granularity at N=256: (8·256·64 + 256²)·2 bytes.
    let row = lines.next().unwrap();
    assert!(
        row.contains(&format!(",{},", (8 * 256 * 64 + 256 * 256) * 2)),
        "{row}"
    );
    let summary = stdout_of(&["--dataflow", "unfused", "--emit", "summary"]);
    // 2·B·H·N²·d MACs.
    assert!(
        summary.contains(&format!("macs,{}\n", 2 * 12 * 256 * 256 * 64)),
        "{summary}"
    );
    let ranked = stdout_of(&[
        "--dataflow",
        "flash",
        "--mapping",
        "auto",
        "--emit",
        "footprint",
    ]);
    assert!(ranked.lines().count() > 10, "{ranked}");
}

#[test]
fn refusals_and_bad_flags_exit_2() {
    let args = [
        "compile",
        "--hw",
        "edge",
        "--workload",
        "bert",
        "--seq-len",
        "4096",
        "--dataflow",
        "flat",
        "--gran",
        "m",
        "--emit",
        "summary",
    ];
    let out = flatsim(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not fit"));
    let args: Vec<&str> = BASE
        .iter()
        .copied()
        .chain(["--dataflow", "flash", "--gran", "r", "--emit", "summary"])
        .collect();
    let out = flatsim(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--gran: applies to --dataflow flat only")
    );
}
