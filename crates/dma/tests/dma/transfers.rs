//! Tile transfers in bandwidth mode: exact time, saturation, Little's law,
//! concurrency, and the stall reasons.

use super::common::{dram, engine, run, sram_config, Opaque};
use dma::{Direction, DmaJob};
use simkit::StallReason;
use sram::{Sram, SramClient};

fn tile(id: u64, direction: Direction, rows: u64, row_bytes: u64) -> DmaJob {
    DmaJob {
        id,
        direction,
        dram_addr: id << 28,
        rows,
        row_bytes,
        dram_stride_bytes: 4 * row_bytes,
        sram_addr: (id % 4) << 20,
    }
}

#[test]
fn a_load_takes_bytes_over_bandwidth_plus_latency() {
    // 64 B/cycle, 100-cycle latency, enough outstanding requests:
    // 64 KiB = 1024 bursts leave the pipe 1024 cycles after the job is taken.
    let mut sram = Sram::new(&sram_config(32, 1, 1), 256);
    let mut dma = engine(256, dram(64, 100, 1 << 16), &sram);
    let job = tile(0, Direction::Load, 64, 1024);
    let r = run(&mut dma, &mut sram, vec![(0, job)], false);
    // Submitted at 0, taken at 1; the last data arrives at 1 + 1024 + 100,
    // is written into SRAM with an acknowledgement 2 cycles later, and the
    // completion is visible the cycle after that.
    let taken = 1;
    let transfer = r.done_cycles[0] - taken - sram::WRITE_ROUND_TRIP_CYCLES - 1;
    assert_eq!(transfer, 64 * 1024 / 64 + 100);
    assert_eq!(dma.bursts(Direction::Load), 1024);
    assert_eq!(dma.bytes(Direction::Load), 64 * 1024);
    assert_eq!(sram.client_bytes(SramClient::DmaFill), 64 * 1024);
    // 256 slots make lines of 256 / 8 = 32 bursts (one 2-KiB SRAM line).
    // The engine acts when it sends bursts (cycle 1), when a line's last
    // answer arrives and it writes the line, and when that write is
    // acknowledged two cycles later and it starts the next line; the last
    // line's write is in flight alone for one cycle. Every other cycle it
    // waits on DRAM. Cycle 0 (job not yet visible) and the cycle the
    // completion is taken are idle.
    let lines = 1024 / 32;
    let busy = 1 + 2 * lines + 1;
    assert_eq!(r.account.busy_cycles(), busy);
    assert_eq!(r.account.idle_cycles(), 2);
    assert_eq!(
        r.account.stall_cycles(StallReason::DramBandwidth),
        r.cycles - busy - 2
    );
    assert_eq!(r.account.total_stall_cycles(), r.cycles - busy - 2);
}

#[test]
fn fast_forward_sleeps_until_a_line_is_answered() {
    // The pipe tells each burst's completion cycle when it takes it, so the
    // engine wakes per line (its last answer, the write, its acknowledgement)
    // rather than per burst; a port that does not tell costs a wake-up per
    // answer and gives the same result.
    let job = tile(0, Direction::Load, 64, 1024);
    let mut sram = Sram::new(&sram_config(32, 1, 1), 256);
    let mut dma = engine(256, dram(64, 100, 1 << 16), &sram);
    let known = run(&mut dma, &mut sram, vec![(0, job)], true);
    let mut sram = Sram::new(&sram_config(32, 1, 1), 256);
    let mut dma = engine(256, Opaque(dram(64, 100, 1 << 16)), &sram);
    let opaque = run(&mut dma, &mut sram, vec![(0, job)], true);
    assert_eq!(known.results(), opaque.results());
    let lines = 1024 / 32;
    assert!(
        known.visited_cycles <= 4 * lines + 8,
        "{} visits",
        known.visited_cycles
    );
    assert!(opaque.visited_cycles >= 1024);
}

#[test]
fn a_load_at_a_fractional_rate_is_within_one_cycle() {
    // The edge platform's DRAM: 50 GiB/s at 940 MHz (57.1 B/cycle), 100 ns = 94 cycles.
    let core_hz = 940_000_000;
    let bytes_per_second = 50u64 << 30;
    let port = dram::BandwidthModel::new(core_hz, bytes_per_second, 94, 64, 1 << 16);
    let mut sram = Sram::new(&sram_config(32, 1, 1), 512);
    let mut dma = engine(512, port, &sram);
    let bytes = 256 * 2048;
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Load, 256, 2048))],
        false,
    );
    let transfer = (r.done_cycles[0] - 1 - sram::WRITE_ROUND_TRIP_CYCLES - 1) as f64;
    let exact = bytes as f64 * core_hz as f64 / bytes_per_second as f64 + 94.0;
    assert!(
        (transfer - exact).abs() <= 1.0,
        "transfer {transfer}, exact {exact}"
    );
    // Saturation: bytes over the time the pipe was streaming.
    let achieved = bytes as f64 / (transfer - 94.0);
    let peak = bytes_per_second as f64 / core_hz as f64;
    assert!(
        achieved >= 0.99 * peak,
        "achieved {achieved} B/cycle of {peak}"
    );
}

/// Bytes per cycle a long load achieves with `max_outstanding` requests.
fn achieved_bytes_per_cycle(max_outstanding: u64, latency: u64) -> f64 {
    let mut sram = Sram::new(&sram_config(32, 1, 1), 1024);
    let mut dma = engine(max_outstanding, dram(64, latency, 1 << 16), &sram);
    let bytes = 1024 * 1024;
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Load, 1024, 1024))],
        false,
    );
    bytes as f64 / (r.done_cycles[0] - 1 - sram::WRITE_ROUND_TRIP_CYCLES - 1 - latency) as f64
}

#[test]
fn outstanding_requests_must_cover_bandwidth_times_latency() {
    // A line of B bursts holds its slots from sending them until its SRAM
    // write is acknowledged: B cycles in the pipe (one burst per cycle),
    // the latency, and the write round trip (2). Little's law caps a load
    // at slots × 64 B / (latency + B + 2) per cycle; 32 slots make lines of
    // B = 32 / 8 = 4 bursts.
    let latency = 100;
    let short = achieved_bytes_per_cycle(32, latency);
    let line_bursts = 32 / dma::LINES_PER_WINDOW;
    let bound = 32.0 * 64.0 / (latency + line_bursts + 2) as f64;
    assert!((short - bound).abs() / bound < 0.01, "{short} vs {bound}");
    let enough = achieved_bytes_per_cycle(128, latency);
    assert!(enough >= 0.99 * 64.0, "{enough}");
}

#[test]
fn a_store_reads_sram_first() {
    let latency = 3;
    let mut sram = Sram::new(&sram_config(32, 1, latency), 256);
    let mut dma = engine(256, dram(64, 100, 1 << 16), &sram);
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Store, 32, 2048))],
        false,
    );
    // Taken at 1; the first SRAM data arrives a read round trip later
    // (1 + latency), then the pipe streams 1024 bursts and the last write
    // completes 100 cycles after leaving it; the completion is visible next cycle.
    assert_eq!(r.done_cycles[0], 1 + (1 + latency) + 1024 + 100 + 1);
    assert_eq!(dma.bytes(Direction::Store), 64 * 1024);
    assert_eq!(sram.client_bytes(SramClient::DmaDrain), 64 * 1024);
}

#[test]
fn loads_and_stores_share_the_bandwidth() {
    let mut sram = Sram::new(&sram_config(32, 1, 1), 512);
    let mut dma = engine(512, dram(64, 100, 1 << 16), &sram);
    let jobs = vec![
        (0, tile(0, Direction::Load, 64, 1024)),
        (0, tile(1, Direction::Store, 64, 1024)),
    ];
    let r = run(&mut dma, &mut sram, jobs, false);
    let both = 2 * 64 * 1024 / 64;
    // Each finishes no earlier than it could alone and the later no earlier
    // than both together allow; the pipe moves both within ~1% of its peak.
    let last = *r.done_cycles.iter().max().unwrap();
    assert!(last >= 1 + both + 100);
    assert!((last as f64) < 1.01 * (both + 100 + 8) as f64, "{last}");
    assert_eq!(dma.bytes(Direction::Load), dma.bytes(Direction::Store));
}

#[test]
fn consecutive_tiles_overlap() {
    // Four 16 KiB loads back to back cost one latency, not four.
    let mut sram = Sram::new(&sram_config(32, 1, 1), 256);
    let mut dma = engine(256, dram(64, 100, 1 << 16), &sram);
    let jobs = (0..4)
        .map(|i| (0, tile(i, Direction::Load, 16, 1024)))
        .collect();
    let r = run(&mut dma, &mut sram, jobs, false);
    let transfer = r.done_cycles[3] - 1 - sram::WRITE_ROUND_TRIP_CYCLES - 1;
    assert_eq!(transfer, 4 * 256 + 100);
    assert_eq!(dma.jobs_done(), 4);
}

#[test]
fn a_full_dram_queue_is_charged_as_such() {
    // The DRAM takes 4 requests at a time; the engine would send 64.
    let mut sram = Sram::new(&sram_config(32, 1, 1), 64);
    let mut dma = engine(64, dram(64, 50, 4), &sram);
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Load, 4, 1024))],
        false,
    );
    assert!(r.account.stall_cycles(StallReason::DramQueueFull) > 0);
    // 64 bursts, 4 per 51-cycle round trip.
    assert!(r.done_cycles[0] >= 16 * 51);
}

#[test]
fn a_narrow_sram_is_charged_as_bank_conflicts() {
    // DRAM brings 4 bursts per cycle; one bank with one write port takes one.
    let mut sram = Sram::new(&sram_config(1, 1, 1), 256);
    let mut dma = engine(256, dram(256, 20, 1 << 16), &sram);
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Load, 64, 1024))],
        false,
    );
    assert!(r.done_cycles[0] >= 1024);
    assert!(r.account.stall_cycles(StallReason::SramBankConflict) > 0);
    assert!(sram.conflict_cycles(SramClient::DmaFill) > 900);
}

#[test]
fn stats_report_bursts_and_bytes_per_direction() {
    let mut sram = Sram::new(&sram_config(32, 1, 1), 64);
    let mut dma = engine(64, dram(64, 10, 64), &sram);
    let r = run(
        &mut dma,
        &mut sram,
        vec![(0, tile(0, Direction::Store, 3, 100))],
        false,
    );
    let stats = dma.stats(r.cycles);
    let value = |n: &str| stats.iter().find(|s| s.decl.name == n).unwrap().value;
    // Rows of 100 bytes at DRAM 0, 400 and 800 touch 2, 2 and 3 64-byte blocks.
    assert_eq!(value("store_bursts"), 7.0);
    assert_eq!(value("store_bytes"), 300.0);
    assert_eq!(value("load_bytes"), 0.0);
    assert_eq!(value("jobs"), 1.0);
    assert_eq!(value("total_cycles"), r.cycles as f64);
}
