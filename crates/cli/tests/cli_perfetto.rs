//! `trace.json` of a small flat run follows the trace-event format rules
//! Perfetto checks on import, and carries counters, flows and stall slices.

mod common;

use common::{flatsim, ok, TINY_RUN};
use serde_json::Value;
use std::collections::BTreeMap;

/// A picosecond: far below a cycle, above float rounding of microsecond timestamps.
const EPS_US: f64 = 1e-6;

fn traced_flat_run() -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().into_owned();
    let mut args: Vec<&str> = TINY_RUN.to_vec();
    args.extend_from_slice(&[
        "--dataflow",
        "flat",
        "--gran",
        "r",
        "--perfetto",
        "--out",
        &out,
        "--force",
    ]);
    ok(&flatsim(&args));
    let text = std::fs::read_to_string(dir.path().join("trace.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["traceEvents"].as_array().unwrap().clone()
}

fn num(e: &Value, key: &str) -> f64 {
    e[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number: {e}"))
}

/// Required fields, non-negative durations, proper nesting of complete
/// slices per track, matched async begin/end pairs, flows with both ends,
/// each end inside a slice of its track.
fn check_trace_event_rules(events: &[Value]) {
    let mut slices: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
    let mut asyncs: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut flows: BTreeMap<u64, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
    for e in events {
        for key in ["ph", "name"] {
            assert!(e[key].is_string(), "missing `{key}`: {e}");
        }
        for key in ["pid", "tid"] {
            assert!(e[key].is_u64(), "missing `{key}`: {e}");
        }
        assert!(num(e, "ts") >= 0.0, "{e}");
        let track = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        match e["ph"].as_str().unwrap() {
            "X" => {
                let dur = num(e, "dur");
                assert!(dur >= 0.0, "negative duration: {e}");
                slices
                    .entry(track)
                    .or_default()
                    .push((num(e, "ts"), num(e, "ts") + dur));
            }
            ph @ ("b" | "e") => {
                let key = (
                    e["cat"].to_string(),
                    e["id"].to_string(),
                    e["name"].to_string(),
                );
                *asyncs.entry(key).or_default() += if ph == "b" { 1 } else { -1 };
            }
            ph @ ("s" | "f") => {
                let id = e["id"].as_u64().unwrap_or_else(|| panic!("flow id: {e}"));
                let ends = flows.entry(id).or_default();
                if ph == "s" { &mut ends.0 } else { &mut ends.1 }.push(e);
            }
            "C" => assert!(e["args"]["value"].is_number(), "{e}"),
            "M" => {}
            ph => panic!("unexpected phase {ph}: {e}"),
        }
    }
    for (track, list) in &mut slices {
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for &(start, end) in list.iter() {
            while open.last().is_some_and(|&top| top <= start + EPS_US) {
                open.pop();
            }
            if let Some(&top) = open.last() {
                assert!(
                    end <= top + EPS_US,
                    "track {track:?}: [{start}, {end}) overlaps a slice ending at {top}"
                );
            }
            open.push(end);
        }
    }
    for (key, balance) in &asyncs {
        assert_eq!(*balance, 0, "unmatched async begin/end {key:?}");
    }
    let inside = |e: &Value| {
        let track = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        let ts = num(e, "ts");
        slices.get(&track).is_some_and(|list| {
            list.iter()
                .any(|&(start, end)| start - EPS_US <= ts && ts <= end + EPS_US)
        })
    };
    for (id, (starts, ends)) in &flows {
        assert_eq!((starts.len(), ends.len()), (1, 1), "flow {id}");
        assert!(
            num(starts[0], "ts") <= num(ends[0], "ts"),
            "flow {id} runs backwards"
        );
        assert!(
            inside(starts[0]) && inside(ends[0]),
            "flow {id} binds to no slice"
        );
    }
}

#[test]
fn flat_trace_loads_cleanly_with_counters_flows_and_stalls() {
    let events = traced_flat_run();
    check_trace_event_rules(&events);
    let phase = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
    assert!(phase("s") > 0 && phase("s") == phase("f"), "flows present");
    let counters: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "C")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for name in ["pe_util", "vector_util", "dram_bw_util"] {
        assert!(counters.contains(&name), "counter {name}");
    }
    let tracks: BTreeMap<u64, &str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    let reasons = [
        "wait_token",
        "sram_bank_conflict",
        "dram_bandwidth",
        "dram_queue_full",
        "operand_not_ready",
        "output_backpressure",
    ];
    let stalls: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && tracks[&e["tid"].as_u64().unwrap()].ends_with(" stalls"))
        .collect();
    assert!(!stalls.is_empty(), "stall slices present: {tracks:?}");
    for s in stalls {
        assert!(reasons.contains(&s["name"].as_str().unwrap()), "{s}");
    }
    // The DMA overlaps transfers, so it needs more than one track.
    let dma_tracks = tracks
        .values()
        .filter(|n| **n == "dma" || n.starts_with("dma ") && !n.ends_with("stalls"))
        .count();
    assert!(dma_tracks > 1, "{tracks:?}");
}

#[test]
fn the_checker_rejects_overlapping_slices_and_dangling_flows() {
    let slice = |ts: f64, dur: f64| serde_json::json!({"ph": "X", "pid": 1, "tid": 1, "name": "x", "ts": ts, "dur": dur});
    let overlapping = vec![slice(0.0, 2.0), slice(1.0, 2.0)];
    assert!(std::panic::catch_unwind(|| check_trace_event_rules(&overlapping)).is_err());
    check_trace_event_rules(&[slice(0.0, 2.0), slice(0.5, 1.0), slice(2.0, 1.0)]);
    let dangling = vec![
        slice(0.0, 1.0),
        serde_json::json!({"ph": "s", "pid": 1, "tid": 1, "name": "t", "ts": 0.5, "id": 1}),
    ];
    assert!(std::panic::catch_unwind(|| check_trace_event_rules(&dangling)).is_err());
}
