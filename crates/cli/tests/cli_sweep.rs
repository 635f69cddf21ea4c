//! `flatsim sweep` end to end on GEMM sweeps (fast points).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn write_sweep(dir: &Path) -> String {
    let path = dir.join("gemms.toml");
    std::fs::write(
        &path,
        "version = 1\ncommand = \"gemm\"\n[base]\nhw = \"edge\"\nk = 64\nn = 96\n[base.set]\n\"pe_array.fold_overlap\" = false\n[axes]\nm = [1, 33, 64, 100]\npe_dataflow = [\"os\", \"ws\", \"is\"]\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn sweep_runs_resumes_and_shards_merge_to_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(dir.path());
    let dry = ok(&flatsim(&["sweep", &sweep, "--dry-run"]));
    assert!(dry.starts_with("12 points of `flatsim gemm`"), "{dry}");
    assert!(!dir.path().join("local").exists());

    let local = dir.path().join("local");
    let local_s = local.to_string_lossy();
    let out = ok(&flatsim(&[
        "sweep", &sweep, "--out", &local_s, "--jobs", "2",
    ]));
    assert!(
        out.contains("12 points: 12 run, 0 already done, 0 failed"),
        "{out}"
    );
    let summary = std::fs::read_to_string(local.join("summary.csv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(
        lines[0].starts_with("point,m,pe_dataflow,hw,"),
        "{}",
        lines[0]
    );
    // Point 4 is m = 33, ws: 2R + C + M − 2 per fold, ⌈64/32⌉·⌈96/32⌉ = 6 folds, no overlap.
    assert!(lines[5].starts_with("4,33,ws,edge,"), "{}", lines[5]);
    assert!(
        lines[5].contains(&format!(",gemm-ws,,,,{},", 6 * (64 + 32 + 33 - 2))),
        "{}",
        lines[5]
    );

    let again = ok(&flatsim(&["sweep", &sweep, "--out", &local_s]));
    assert!(again.contains("0 run, 12 already done"), "{again}");
    assert_eq!(
        std::fs::read_to_string(local.join("summary.csv")).unwrap(),
        summary
    );

    let sharded = dir.path().join("sharded");
    let sharded_s = sharded.to_string_lossy();
    ok(&flatsim(&[
        "sweep", &sweep, "--out", &sharded_s, "--shard", "0/3",
    ]));
    ok(&flatsim(&[
        "sweep", &sweep, "--out", &sharded_s, "--shard", "2/3",
    ]));
    let incomplete = flatsim(&["sweep-merge", &sharded_s]);
    assert_eq!(incomplete.status.code(), Some(1));
    let report = String::from_utf8_lossy(&incomplete.stdout);
    assert!(report.contains("missing: point 1 (shard 1)"), "{report}");
    ok(&flatsim(&[
        "sweep", &sweep, "--out", &sharded_s, "--shard", "1/3",
    ]));
    ok(&flatsim(&["sweep-merge", &sharded_s]));
    assert_eq!(
        std::fs::read_to_string(sharded.join("summary.csv")).unwrap(),
        summary
    );
}

#[test]
fn failing_points_are_recorded_and_do_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    // A plan that does not fit is a point's failure, not a bad sweep file.
    std::fs::write(&path, "version = 1\n[base]\nhw = \"edge\"\nworkload = \"bert\"\nseq_len = 64\ndataflow = \"flash\"\n[axes]\n\"sram.capacity_bytes\" = [524288, 4096, 524288]\n").unwrap();
    let out = dir.path().join("out");
    let output = flatsim(&[
        "sweep",
        &path.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let failures = std::fs::read_to_string(out.join("failures.csv")).unwrap();
    assert!(
        failures.starts_with(
            "point,sram.capacity_bytes,error\n1,4096,no flash plan fits 4 KiB: the smallest needs "
        ),
        "{failures}"
    );
    assert_eq!(failures.lines().count(), 2);
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv"))
            .unwrap()
            .lines()
            .count(),
        3
    );
}

#[test]
fn a_different_sweep_in_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(dir.path());
    let out = dir.path().join("out").to_string_lossy().into_owned();
    ok(&flatsim(&[
        "sweep",
        &sweep,
        "--out",
        &out,
        "--set",
        "pe_array.rows=16",
    ]));
    let output = flatsim(&["sweep", &sweep, "--out", &out]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("different sweep"));
}

#[test]
fn slurm_script_is_written_with_the_binary_copy() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(dir.path());
    let out = dir.path().join("out");
    let text = ok(&flatsim(&[
        "sweep",
        &sweep,
        "--out",
        &out.to_string_lossy(),
        "--slurm",
        "--tasks",
        "4",
        "--slurm-opt",
        "partition=debug",
    ]));
    assert!(text.contains("submit with: sbatch"), "{text}");
    let script = std::fs::read_to_string(out.join("sweep.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --array=0-3\n")
            && script.contains("#SBATCH --partition='debug'\n"),
        "{script}"
    );
    assert!(out.join("bin/flatsim").exists());
    assert!(out.join("sweep.toml").exists());
}

#[test]
fn only_missing_resubmits_the_incomplete_shards_of_the_studys_split() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(dir.path());
    let out = dir.path().join("study");
    let out_s = out.to_string_lossy().into_owned();
    let stored = out.join("sweep.toml").to_string_lossy().into_owned();
    ok(&flatsim(&[
        "sweep", &sweep, "--out", &out_s, "--slurm", "--tasks", "3",
    ]));
    // Shards 0 and 2 of 3 finish; shard 1 never ran.
    for shard in ["0/3", "2/3"] {
        ok(&flatsim(&[
            "sweep", &stored, "--out", &out_s, "--shard", shard,
        ]));
    }
    // No --tasks: the study's 3-way split, not the default 4.
    let text = ok(&flatsim(&[
        "sweep",
        &stored,
        "--out",
        &out_s,
        "--slurm",
        "--only-missing",
    ]));
    assert!(text.contains("in 1 tasks"), "{text}");
    let script = std::fs::read_to_string(out.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=1\n"), "{script}");
    assert!(
        script.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""),
        "{script}"
    );
    assert!(
        script.contains("#SBATCH --job-name='flatsim-study'\n"),
        "{script}"
    );
    let other_split = flatsim(&[
        "sweep",
        &stored,
        "--out",
        &out_s,
        "--slurm",
        "--tasks",
        "4",
        "--only-missing",
    ]);
    assert_eq!(other_split.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other_split.stderr).contains("3-way split"));

    ok(&flatsim(&[
        "sweep", &stored, "--out", &out_s, "--shard", "1/3",
    ]));
    let done = ok(&flatsim(&[
        "sweep",
        &stored,
        "--out",
        &out_s,
        "--slurm",
        "--only-missing",
    ]));
    assert_eq!(done, "every point is done; nothing to submit\n");
}

#[test]
fn dry_run_into_a_closed_pipe_ends_quietly() {
    // `flatsim sweep FILE --dry-run | head` closes the pipe after one line;
    // the listing (far more than a pipe buffer) must stop without a panic.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    let m: Vec<String> = (1..=3000).map(|m| m.to_string()).collect();
    std::fs::write(
        &path,
        format!(
            "version = 1\ncommand = \"gemm\"\n[base]\nhw = \"edge\"\nk = 8\nn = 8\n[axes]\nm = [{}]\npe_dataflow = [\"os\", \"ws\", \"is\"]\n",
            m.join(", ")
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flatsim"))
        .args(["sweep", &path.to_string_lossy(), "--dry-run"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(first, "9000 points of `flatsim gemm`\n");
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
