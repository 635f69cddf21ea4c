//! Arbitration speed on the cloud platform's SRAM (256 banks × 64 B): a
//! GEMM-like stream where the PE array reads two 512-byte operand rows and
//! writes one 512-byte output row every cycle, while the DMA fills 64-byte
//! bursts — 1.5 KiB and 25 bank chunks per cycle, conflict-free. The driver
//! runs tens of millions of such cycles.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use simkit::{Component, TimedQueue};
use sram::{Sram, SramClient, SramRequest};

const CYCLES: u64 = 100_000;

fn cloud_sram() -> Sram {
    let config = hwconfig::Sram {
        capacity_bytes: 32 << 20,
        banks: 256,
        bank_width_bytes: 64,
        read_ports_per_bank: 1,
        write_ports_per_bank: 1,
        read_latency_cycles: 1,
    };
    Sram::new(&config, 16)
}

fn gemm_stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("sram");
    group.throughput(Throughput::Elements(CYCLES));
    group.bench_function("cloud_gemm_stream_cycles", |b| {
        b.iter(|| {
            let mut sram = cloud_sram();
            let mut pe_read = TimedQueue::new(16, 1);
            let mut pe_write = TimedQueue::new(16, 1);
            let mut fill = TimedQueue::new(16, 1);
            for now in 0..CYCLES {
                sram.accept(SramClient::PeRead, &mut pe_read, now);
                sram.accept(SramClient::PeWrite, &mut pe_write, now);
                sram.accept(SramClient::DmaFill, &mut fill, now);
                for client in [SramClient::PeRead, SramClient::PeWrite, SramClient::DmaFill] {
                    while sram.responses(client).pop(now).is_some() {}
                }
                let row = (now % 1024) * 512;
                let _ = pe_read.push(now, SramRequest::range(now, row, 512));
                let _ = pe_read.push(
                    now,
                    SramRequest::range(now, (1 << 20) + 128 * 64 + row, 512),
                );
                let _ = pe_write.push(now, SramRequest::range(now, (2 << 20) + row, 512));
                let _ = fill.push(
                    now,
                    SramRequest::range(now, (3 << 20) + (now % 4096) * 64, 64),
                );
                sram.tick(now);
            }
            sram.read_bytes()
        })
    });
    group.finish();
}

criterion_group!(benches, gemm_stream);
criterion_main!(benches);
