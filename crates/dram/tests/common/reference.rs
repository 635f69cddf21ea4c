//! The reference measurements of DRAMSim3 and Ramulator 2.1 (tests/reference/dram-ddr4.csv).

use std::collections::BTreeMap;

/// One row of the reference CSV.
#[derive(Clone, Debug)]
pub struct ReferenceRun {
    pub simulator: String,
    pub workload: String,
    pub n_requests: u64,
    pub max_outstanding: Option<usize>,
    pub address_space_bytes: u64,
    pub trace_fnv1a64: u64,
    pub bandwidth_gbps: f64,
    pub avg_read_latency_cycles: f64,
}

pub fn reference_runs() -> Vec<ReferenceRun> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/dram-ddr4.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let field: BTreeMap<&str, &str> = headers.iter().zip(record.iter()).collect();
            ReferenceRun {
                simulator: field["simulator"].to_string(),
                workload: field["workload"].to_string(),
                n_requests: field["n_requests"].parse().unwrap(),
                max_outstanding: match field["max_outstanding"] {
                    "unlimited" => None,
                    k => Some(k.parse().unwrap()),
                },
                address_space_bytes: field["address_space_bytes"].parse().unwrap(),
                trace_fnv1a64: u64::from_str_radix(
                    field["trace_fnv1a64"].trim_start_matches("0x"),
                    16,
                )
                .unwrap(),
                bandwidth_gbps: field["bandwidth_GBps"].parse().unwrap(),
                avg_read_latency_cycles: field["avg_read_latency_cycles"].parse().unwrap(),
            }
        })
        .collect()
}

/// The lowest and highest value the simulators measured for `workload`.
pub fn spread(
    runs: &[ReferenceRun],
    workload: &str,
    value: impl Fn(&ReferenceRun) -> f64,
) -> (f64, f64) {
    let values: Vec<f64> = runs
        .iter()
        .filter(|r| r.workload == workload)
        .map(value)
        .collect();
    assert!(values.len() >= 2, "both simulators measured {workload}");
    (
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}
