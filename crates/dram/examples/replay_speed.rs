//! Times one replay of N random DDR4-3200 reads (default 1 M) in memory.
use dram::controller::ControllerConfig;
use dram::replay::{replay, ReplayOptions};
use dram::spec::{presets, NullCommandSink};
use dram::workload::{Workload, WorkloadKind};
use dram::{CycleDram, CycleDramSettings};
use hwconfig::{AddressMapping, PagePolicy};

fn main() {
    let requests: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let settings = CycleDramSettings {
        channels: 1,
        ranks: 2,
        mapping: AddressMapping::parse("RoBaRaCoCh").unwrap(),
        controller: ControllerConfig::new(32, 32, PagePolicy::Open),
    };
    let workload = Workload {
        kind: WorkloadKind::RandRead,
        requests,
        request_bytes: 64,
        capacity_bytes: 1 << 34,
        bank_stride_bytes: 1 << 18,
    };
    let mut dram = CycleDram::new(&presets::DDR4_3200, &settings, 940_000_000).unwrap();
    let start = std::time::Instant::now();
    let report = replay(
        &mut dram,
        workload.requests().map(Ok::<_, ()>),
        ReplayOptions::default(),
        &mut NullCommandSink,
    )
    .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{requests} requests in {seconds:.3} s = {:.2} M requests/s; {} cycles, {:.2} GB/s",
        requests as f64 / seconds / 1e6,
        report.cycles,
        report.bandwidth_gbps
    );
}
