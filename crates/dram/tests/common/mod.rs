//! Helpers shared by the integration tests: the reference DRAM setups and a
//! replay that runs the protocol checker over every command.
#![allow(dead_code)]

use dram::checker::ProtocolChecker;
use dram::controller::ControllerConfig;
use dram::replay::{replay, DramReport, ReplayOptions};
use dram::spec::{presets, DeviceSpec};
use dram::workload::{Workload, WorkloadKind};
use dram::{CycleDram, CycleDramSettings};
use hwconfig::{AddressMapping, PagePolicy, RefreshPolicy};

/// Core clock used where a test does not care (the memory-clock API ignores it).
pub const CORE_HZ: u64 = 940_000_000;

pub fn settings(channels: u64, ranks: u64, mapping: &str, policy: PagePolicy) -> CycleDramSettings {
    CycleDramSettings {
        channels,
        ranks,
        mapping: AddressMapping::parse(mapping).unwrap(),
        controller: ControllerConfig::new(32, 32, policy),
    }
}

/// DDR4-3200, 1 channel, 2 ranks, queues of 32, open page: the reference setup.
pub fn ddr4_reference(mapping: &str) -> CycleDram {
    CycleDram::new(
        &presets::DDR4_3200,
        &settings(1, 2, mapping, PagePolicy::Open),
        CORE_HZ,
    )
    .unwrap()
}

/// HBM2, 8 channels, open page, all-bank refresh.
pub fn hbm2_stack(mapping: &str) -> CycleDram {
    CycleDram::new(
        &presets::HBM2,
        &settings(8, 1, mapping, PagePolicy::Open),
        CORE_HZ,
    )
    .unwrap()
}

/// `channels` channels of an HBM2 preset with per-bank refresh.
pub fn hbm2_per_bank(
    spec: &DeviceSpec,
    channels: u64,
    mapping: &str,
    policy: PagePolicy,
) -> CycleDram {
    let mut settings = settings(channels, 1, mapping, policy);
    settings.controller.refresh = RefreshPolicy::PerBank;
    CycleDram::new(spec, &settings, CORE_HZ).unwrap()
}

pub fn workload(kind: WorkloadKind, requests: u64, capacity_bytes: u64) -> Workload {
    Workload {
        kind,
        requests,
        request_bytes: 64,
        capacity_bytes,
        bank_stride_bytes: 1 << 18,
    }
}

/// A workload of one-burst requests of `spec`.
pub fn burst_workload(
    spec: &DeviceSpec,
    kind: WorkloadKind,
    requests: u64,
    capacity_bytes: u64,
) -> Workload {
    Workload {
        request_bytes: spec.org.burst_bytes(),
        ..workload(kind, requests, capacity_bytes)
    }
}

/// Replays `workload` and checks every issued command; panics listing the
/// first violations if there are any.
pub fn replay_checked(
    dram: &mut CycleDram,
    workload: &Workload,
    max_outstanding: Option<usize>,
) -> DramReport {
    let spec: DeviceSpec = dram.spec().clone();
    let mut checker = ProtocolChecker::new(&spec, dram.ranks());
    let options = ReplayOptions {
        max_outstanding,
        every_cycle: false,
    };
    let trace = workload.requests().map(Ok::<_, ()>);
    let report = replay(dram, trace, options, &mut checker).unwrap();
    checker.finish(report.cycles);
    assert!(checker.commands_checked() > 0);
    assert_eq!(
        checker.violation_count(),
        0,
        "protocol violations: {:#?}",
        &checker.violations()[..checker.violations().len().min(5)]
    );
    report
}

pub mod reference;
