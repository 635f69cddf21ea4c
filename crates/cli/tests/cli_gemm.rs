mod common;

use common::*;
#[test]
fn gemm_writes_summary_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_string_lossy();
    let args = [
        "gemm",
        "--hw",
        "edge",
        "--m",
        "512",
        "--k",
        "64",
        "--n",
        "512",
        "--pe-dataflow",
        "os",
        "--set",
        "pe_array.rows=128",
        "--set",
        "pe_array.cols=128",
        "--set",
        "pe_array.fold_overlap=false",
        "--out",
        &out,
    ];
    let output = flatsim(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("5088 cycles"));
    let csv = std::fs::read_to_string(dir.path().join("run/summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), row.len());
    let get = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(get("dataflow"), "gemm-os");
    assert_eq!(get("cycles"), "5088");
    assert_eq!(get("hw"), "edge");
    assert_eq!(get("seq_len"), "");
    let util: f64 = get("pe_util").parse().unwrap();
    assert!((util - 512.0 * 64.0 * 512.0 / (128.0 * 128.0 * 5088.0)).abs() < 1e-12);

    // Same inputs, byte-identical output.
    let output = flatsim(&[&args[..], &["--force"]].concat());
    assert!(output.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("run/summary.csv")).unwrap(),
        csv
    );
}

#[test]
fn fold_overlap_is_never_slower() {
    let cycles = |overlap: &str| {
        let set = format!("pe_array.fold_overlap={overlap}");
        let output = flatsim(&[
            "gemm",
            "--hw",
            "edge",
            "--m",
            "100",
            "--k",
            "70",
            "--n",
            "90",
            "--pe-dataflow",
            "ws",
            "--set",
            &set,
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let word = stdout
            .split(" cycles")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned();
        word.parse::<u64>().unwrap()
    };
    assert!(cycles("true") < cycles("false"));
}
