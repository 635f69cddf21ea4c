//! Replays 1 M random DDR4-3200 reads (the `rand_read` workload of the
//! reference, 1 channel, 2 ranks, RoBaRaCoCh) and reports requests/second.
//! Target: ≥ 2 M requests/s on one core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dram::controller::ControllerConfig;
use dram::replay::{replay, ReplayOptions};
use dram::spec::{presets, NullCommandSink};
use dram::workload::{Workload, WorkloadKind};
use dram::{CycleDram, CycleDramSettings};
use hwconfig::{AddressMapping, PagePolicy};

const REQUESTS: u64 = 1_000_000;

fn replay_random(c: &mut Criterion) {
    let settings = CycleDramSettings {
        channels: 1,
        ranks: 2,
        mapping: AddressMapping::parse("RoBaRaCoCh").unwrap(),
        controller: ControllerConfig::new(32, 32, PagePolicy::Open),
    };
    let workload = Workload {
        kind: WorkloadKind::RandRead,
        requests: REQUESTS,
        request_bytes: 64,
        capacity_bytes: 1 << 34,
        bank_stride_bytes: 1 << 18,
    };
    let mut group = c.benchmark_group("dram_replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REQUESTS));
    group.bench_function("ddr4_3200_rand_read_1M", |b| {
        b.iter(|| {
            let mut dram = CycleDram::new(&presets::DDR4_3200, &settings, 940_000_000).unwrap();
            let trace = workload.requests().map(Ok::<_, ()>);
            let report = replay(
                &mut dram,
                trace,
                ReplayOptions::default(),
                &mut NullCommandSink,
            )
            .unwrap();
            assert_eq!(report.requests, REQUESTS);
            report.cycles
        })
    });
    group.finish();
}

criterion_group!(benches, replay_random);
criterion_main!(benches);
