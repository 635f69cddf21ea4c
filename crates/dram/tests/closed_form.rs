//! Closed-form checks on DDR4-3200, 1 channel, 2 ranks (the reference
//! setup): idle latencies, the one-bank stream, the refresh-limited
//! sequential stream and the tFAW bound on random reads.

mod common;

use common::*;
use dram::checker::ProtocolChecker;
use dram::controller::{FRONTEND_CYCLES, RETURN_CYCLES};
use dram::mapping::Location;
use dram::spec::{presets::DDR4_3200, Target};
use dram::workload::WorkloadKind;
use dram::{CycleDram, MemRequest};
use simkit::Cycle;

/// The controller's pipeline around the device: accept → schedulable, data → requester.
const PIPELINE: Cycle = FRONTEND_CYCLES + RETURN_CYCLES;

/// Reads `addr` alone, starting in cycle `start`, and returns its latency.
fn idle_read_latency(
    dram: &mut CycleDram,
    checker: &mut ProtocolChecker,
    addr: u64,
    start: Cycle,
) -> Cycle {
    let request = MemRequest {
        id: start,
        addr,
        is_write: false,
        bytes: 64,
    };
    dram.advance_memory_to(start, checker);
    dram.push_memory(start, request).unwrap();
    loop {
        let now = dram.next_memory_event();
        dram.tick_memory(now, checker);
        if let Some(done) = dram.pop_memory_completion(now) {
            assert_eq!(done.id, start);
            return done.done - start;
        }
    }
}

#[test]
fn idle_latencies_are_the_device_timings_plus_the_pipeline() {
    let t = &DDR4_3200.timing;
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let mut checker = ProtocolChecker::new(&DDR4_3200, 2);
    let at = |row: u32, col: u32| {
        dram_addr(
            &dram,
            Target {
                row,
                col,
                bankgroup: 2,
                bank: 1,
                rank: 1,
            },
        )
    };
    let (row_a, row_a_other_col, row_b) = (at(5, 0), at(5, 9), at(6, 0));
    // Spaced far apart and before the first refresh (tREFI / 2 for rank 0).
    let miss = idle_read_latency(&mut dram, &mut checker, row_a, 100);
    let hit = idle_read_latency(&mut dram, &mut checker, row_a_other_col, 1000);
    let conflict = idle_read_latency(&mut dram, &mut checker, row_b, 2000);
    assert_eq!(hit, t.cl + t.bl + PIPELINE);
    assert_eq!(hit, 28, "nCL + nBL = 26 plus a two-cycle pipeline");
    assert_eq!(miss, t.rcd + t.cl + t.bl + PIPELINE);
    assert_eq!(conflict, t.rp + t.rcd + t.cl + t.bl + PIPELINE);
    assert_eq!(
        conflict, 72,
        "nRP + nRCD + nCL + nBL = 70 plus the pipeline"
    );
    assert_eq!(checker.violation_count(), 0);
}

fn dram_addr(dram: &CycleDram, target: Target) -> u64 {
    dram.decoder().encode(&Location { channel: 0, target })
}

#[test]
fn one_bank_stream_costs_a_row_cycle_per_access_plus_refresh() {
    let t = &DDR4_3200.timing;
    let mut dram = ddr4_reference("RoBaRaCoCh");
    // Consecutive rows of one bank are 2^18 bytes apart in RoBaRaCoCh with 2 ranks.
    let stride = dram_addr(
        &dram,
        Target {
            row: 1,
            ..Target::default()
        },
    );
    assert_eq!(stride, 1 << 18);
    let requests = 5000;
    let mut w = workload(WorkloadKind::OnebankStrideRead, requests, 1 << 34);
    w.bank_stride_bytes = stride;
    let report = replay_checked(&mut dram, &w, None);
    let per_access = report.cycles as f64 / requests as f64;
    let expected = t.rc as f64 * (1.0 + t.rfc as f64 / t.refi as f64);
    assert!(
        (per_access / expected - 1.0).abs() < 0.01,
        "{per_access:.2} cycles per access, expected {expected:.2}"
    );
    assert_eq!(report.row_conflicts + report.row_misses, requests);
}

#[test]
fn sequential_stream_with_bank_groups_lowest_reaches_the_refresh_ceiling() {
    let t = &DDR4_3200.timing;
    let mut dram = ddr4_reference("RoRaBaCoChBg");
    let report = replay_checked(
        &mut dram,
        &workload(WorkloadKind::SeqRead, 100_000, 1 << 34),
        None,
    );
    let ceiling = 100.0 * (1.0 - (t.rtp + t.rp + t.rfc + t.rcd) as f64 / t.refi as f64);
    assert!(
        (report.pct_of_peak / ceiling - 1.0).abs() < 0.02,
        "{:.2}% of peak, ceiling {ceiling:.2}%",
        report.pct_of_peak
    );
    // One refresh per rank per tREFI.
    let expected_refreshes = 2.0 * report.cycles as f64 / t.refi as f64;
    assert!(
        (report.refreshes as f64 - expected_refreshes).abs() <= 2.0,
        "{} refreshes",
        report.refreshes
    );
}

#[test]
fn random_reads_stay_under_the_activate_window_bound() {
    let t = &DDR4_3200.timing;
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let report = replay_checked(
        &mut dram,
        &workload(WorkloadKind::RandRead, 20_000, 1 << 34),
        None,
    );
    // Four ACTs per rank per tFAW, one 64-byte burst each, two ranks.
    let bound_gbps = 2.0 * 4.0 * 64.0 / (t.faw as f64 * t.tck_ns());
    assert!((bound_gbps - 24.09).abs() < 0.01);
    assert!(
        report.bandwidth_gbps < bound_gbps,
        "{} GB/s",
        report.bandwidth_gbps
    );
    assert!(
        report.bandwidth_gbps > 0.75 * bound_gbps,
        "{} GB/s",
        report.bandwidth_gbps
    );
    assert!(report.activates >= report.requests);
}
