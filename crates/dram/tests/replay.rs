//! The replay harness and the controller's mechanisms: event skipping is
//! exact, traces stream from files, the core-clock port, write handling,
//! page policies, cycle accounting and config errors.

mod common;

use common::*;
use dram::checker::ProtocolChecker;
use dram::controller::ControllerConfig;
use dram::replay::{replay, DramReport, ReplayOptions, TraceReader};
use dram::spec::{presets, Command, CommandSink, IssuedCommand};
use dram::workload::{Workload, WorkloadKind};
use dram::{CycleDram, MemRequest, MemoryModel, MemoryPort};
use hwconfig::{HwConfig, PagePolicy};
use simkit::{Component, StallReason};
use std::sync::{Arc, Mutex};

fn run_eager(
    dram: &mut CycleDram,
    w: &Workload,
    max_outstanding: Option<usize>,
) -> (DramReport, Vec<IssuedCommand>) {
    dram.set_eager(true);
    run(dram, w, max_outstanding, true)
}

fn run(
    dram: &mut CycleDram,
    w: &Workload,
    max_outstanding: Option<usize>,
    every_cycle: bool,
) -> (DramReport, Vec<IssuedCommand>) {
    let mut commands = Vec::new();
    let options = ReplayOptions {
        max_outstanding,
        every_cycle,
    };
    let report = replay(dram, w.requests().map(Ok::<_, ()>), options, &mut commands).unwrap();
    let violations =
        ProtocolChecker::check_all(dram.spec(), dram.ranks(), &commands, report.cycles);
    assert!(
        violations.is_empty(),
        "{:#?}",
        &violations[..violations.len().min(3)]
    );
    (report, commands)
}

/// The harness skipping idle cycles, and controllers scheduling only at
/// their wake-ups, give exactly what scheduling every cycle gives.
#[test]
fn skipping_idle_cycles_changes_nothing() {
    let open = |spec, channels, ranks, mapping| {
        CycleDram::new(
            spec,
            &settings(channels, ranks, mapping, PagePolicy::Open),
            CORE_HZ,
        )
        .unwrap()
    };
    let setups: [(&str, &dyn Fn() -> CycleDram); 7] = [
        ("ddr4 open", &|| ddr4_reference("RoBaRaCoCh")),
        ("ddr4 closed", &|| {
            CycleDram::new(
                &presets::DDR4_3200,
                &settings(1, 2, "RoRaBaCoChBg", PagePolicy::Closed),
                CORE_HZ,
            )
            .unwrap()
        }),
        ("ddr4-2400 4 ranks", &|| {
            open(&presets::DDR4_2400, 1, 4, "RoBaRaCoCh")
        }),
        ("lpddr4 2ch", &|| {
            open(&presets::LPDDR4_3200, 2, 2, "RoBaRaCoCh")
        }),
        ("hbm2 8ch", &|| hbm2_stack("RoRaBaCoChBg")),
        ("hbm2 2ch per-bank refresh", &|| {
            hbm2_per_bank(&presets::HBM2, 2, "RoRaBaCoChBg", PagePolicy::Open)
        }),
        ("hbm2-pc 4ch closed per-bank refresh", &|| {
            hbm2_per_bank(&presets::HBM2_PC, 4, "RoBaRaCoCh", PagePolicy::Closed)
        }),
    ];
    for (name, make) in &setups {
        let capacity = make().decoder().capacity_bytes();
        for kind in [
            WorkloadKind::SeqRead,
            WorkloadKind::RandRead,
            WorkloadKind::MixedRand2r1w,
            WorkloadKind::MixedSeq2r1w,
        ] {
            for k in [None, Some(1), Some(4)] {
                let w = workload(kind, 1500, capacity);
                let fast = run(&mut make(), &w, k, false);
                let slow = run(&mut make(), &w, k, true);
                assert_eq!(fast, slow, "{name} {kind:?} k={k:?}");
                let eager = run_eager(&mut make(), &w, k);
                assert_eq!(
                    fast, eager,
                    "{name} {kind:?} k={k:?}: a controller woke too late"
                );
            }
        }
    }
}

#[test]
fn traces_stream_from_files_and_errors_name_the_line() {
    let dir = std::env::temp_dir().join(format!("flatsim-dram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.csv");
    let w = workload(WorkloadKind::MixedRand2r1w, 2000, 1 << 34);
    let mut text = String::from("addr,is_write\n");
    for (i, (addr, is_write)) in w.requests().enumerate() {
        // Mix decimal and hexadecimal addresses.
        if i % 2 == 0 {
            text += &format!("{addr:#x},{}\n", u8::from(is_write));
        } else {
            text += &format!("{addr},{}\n", u8::from(is_write));
        }
    }
    std::fs::write(&path, &text).unwrap();
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let trace = TraceReader::new(file).map(|r| r.map(|t| (t.addr, t.is_write)));
    let mut file_commands = Vec::new();
    let from_file = replay(
        &mut ddr4_reference("RoBaRaCoCh"),
        trace,
        ReplayOptions::default(),
        &mut file_commands,
    )
    .unwrap();
    let generated = run(&mut ddr4_reference("RoBaRaCoCh"), &w, None, false);
    assert_eq!((from_file, file_commands), generated);

    std::fs::write(&path, "addr,is_write\n64,0\n128,0\n0x10,yes\n").unwrap();
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let trace = TraceReader::new(file).map(|r| r.map(|t| (t.addr, t.is_write)));
    let err = replay(
        &mut ddr4_reference("RoBaRaCoCh"),
        trace,
        ReplayOptions::default(),
        &mut dram::spec::NullCommandSink,
    )
    .unwrap_err();
    assert_eq!(err.line, 4);
    assert!(
        err.to_string()
            .starts_with("line 4: is_write must be 0 or 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Collects commands from the core-clock port, where the sink is owned by the DRAM.
#[derive(Clone, Default)]
struct SharedSink(Arc<Mutex<Vec<IssuedCommand>>>);

impl CommandSink for SharedSink {
    fn command(&mut self, command: &IssuedCommand) {
        self.0.lock().unwrap().push(*command);
    }
}

#[test]
fn the_core_clock_port_crosses_clocks_exactly() {
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let sink = SharedSink::default();
    dram.set_command_sink(Box::new(sink.clone()));
    let crossing = dram.crossing();
    let requests = 3000u64;
    let (mut next, mut done, mut core, mut last_done) = (0u64, 0u64, 0u64, 0u64);
    let mut pushed_at = vec![0; requests as usize];
    while done < requests {
        dram.tick(core);
        while next < requests && dram.can_accept(next * 64, false) {
            dram.push(
                core,
                MemRequest {
                    id: next,
                    addr: next * 64,
                    is_write: false,
                    bytes: 64,
                },
            )
            .unwrap();
            pushed_at[next as usize] = core;
            next += 1;
        }
        while let Some(r) = dram.pop_response(core) {
            assert!(r.done_cycle <= core && r.done_cycle > pushed_at[r.id as usize]);
            // The response is visible from the first core cycle in which its memory cycle has begun.
            let memory = crossing.memory_cycles_through(r.done_cycle) - 1;
            assert!(crossing.core_cycle_of(memory) == r.done_cycle);
            done += 1;
            last_done = core;
        }
        assert_eq!(dram.in_flight() as u64, next - done);
        core = match dram.next_event(core + 1) {
            Some(at) if next == requests => at,
            _ => core + 1,
        };
    }
    let commands = sink.0.lock().unwrap().clone();
    let memory_end = crossing.memory_cycles_through(last_done);
    assert!(ProtocolChecker::check_all(&presets::DDR4_3200, 2, &commands, memory_end).is_empty());
    // The same stream in memory cycles takes the same time, give or take
    // a memory cycle per request of clock-edge alignment.
    let (report, _) = run(
        &mut ddr4_reference("RoBaRaCoCh"),
        &workload(WorkloadKind::SeqRead, requests, 1 << 34),
        None,
        false,
    );
    let core_as_memory = last_done as f64 * 1.6 / 0.94;
    assert!(
        (core_as_memory / report.cycles as f64 - 1.0).abs() < 0.02,
        "{core_as_memory} vs {}",
        report.cycles
    );
}

#[test]
fn configs_build_the_model_they_name_or_say_which_key_is_wrong() {
    let edge = HwConfig::load(std::path::Path::new("edge"), &[]).unwrap();
    assert!(matches!(
        MemoryModel::from_config(&edge).unwrap(),
        MemoryModel::Bandwidth(_)
    ));
    let cycle = HwConfig::load(std::path::Path::new("edge-cycle"), &[]).unwrap();
    let model = MemoryModel::from_config(&cycle).unwrap();
    assert!(matches!(model, MemoryModel::Cycle(_)));
    assert!((model.peak_bytes_per_second() - 51.2e9).abs() < 1.0);
    let cloud = HwConfig::load(std::path::Path::new("cloud-cycle"), &[]).unwrap();
    assert!(
        (MemoryModel::from_config(&cloud)
            .unwrap()
            .peak_bytes_per_second()
            - 512e9)
            .abs()
            < 1.0
    );

    let with = |overrides: &[&str]| {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let hw = HwConfig::load(std::path::Path::new("edge-cycle"), &overrides).unwrap();
        MemoryModel::from_config(&hw).unwrap_err()
    };
    let err = with(&["dram.refresh=\"per-bank\""]);
    assert_eq!(err.key, "dram.refresh");
    assert!(
        err.reason.contains("ddr4-3200 has no per-bank refresh")
            && err.reason.contains("hbm2, hbm2-pc"),
        "{err}"
    );
    let err = with(&["dram.preset=\"hbm2\"", "dram.ranks=2"]);
    assert_eq!(err.key, "dram.ranks");
    assert!(err.reason.contains("hbm2 allows 1 to 1"), "{err}");
    assert_eq!(with(&["dram.ranks=8"]).key, "dram.ranks");
    let err = with(&["dram.ranks=2", "dram.address_mapping=\"RoBaCoChBg\""]);
    assert_eq!(err.key, "dram.address_mapping");
    assert!(
        err.to_string()
            .contains("`RoBaCoChBg` has no `Ra` field but dram.ranks = 2"),
        "{err}"
    );
    assert_eq!(
        with(&["dram.channels=4", "dram.address_mapping=\"RoRaBaCoBg\""]).key,
        "dram.address_mapping"
    );
}

#[test]
fn reads_of_queued_writes_are_forwarded_and_writes_merge() {
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let trace = vec![(4096u64, true), (4096, true), (4096, false), (8192, false)];
    let mut checker = ProtocolChecker::new(&presets::DDR4_3200, 2);
    let report = replay(
        &mut dram,
        trace.into_iter().map(Ok::<_, ()>),
        ReplayOptions::default(),
        &mut checker,
    )
    .unwrap();
    assert_eq!(checker.violation_count(), 0);
    let counters = dram.counters();
    assert_eq!((counters.merged_writes, counters.forwarded_reads), (1, 1));
    // One read and one write reached the device.
    assert_eq!(dram.traffic_bytes(), (64, 64));
    assert_eq!((report.reads, report.writes), (2, 2));
    // The forwarded read takes the pipeline only; the other is a row miss.
    let miss = presets::DDR4_3200.timing.rcd + 26 + 2;
    assert_eq!(report.avg_read_latency_cycles, (2 + miss) as f64 / 2.0);
}

#[test]
fn writes_drain_in_batches_between_the_watermarks() {
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let (report, mut commands) = run(
        &mut dram,
        &workload(WorkloadKind::MixedRand2r1w, 6000, 1 << 34),
        None,
        false,
    );
    assert_eq!(report.writes, 2000);
    // The run ends when the reads are back; the last writes drain after it.
    dram.advance_memory_to(report.cycles + 10_000, &mut commands);
    let columns: Vec<Command> = commands
        .iter()
        .map(|c| c.command)
        .filter(|c| c.is_column())
        .collect();
    assert_eq!(columns.iter().filter(|c| **c == Command::Wr).count(), 2000);
    let write_batches = columns
        .windows(2)
        .filter(|w| w[0] == Command::Rd && w[1] == Command::Wr)
        .count();
    let config = ControllerConfig::new(32, 32, PagePolicy::Open);
    // Each drain runs from the high watermark down to the low one.
    let per_batch = 2000.0 / write_batches as f64;
    let drained = (config.write_high_watermark - config.write_low_watermark) as f64;
    assert!(
        per_batch >= 0.9 * drained,
        "{per_batch:.1} writes per batch, watermarks {drained}"
    );
}

#[test]
fn closed_page_closes_rows_nobody_waits_for() {
    let t = &presets::DDR4_3200.timing;
    let random = workload(WorkloadKind::RandRead, 2000, 1 << 34);
    let mut closed_dram = CycleDram::new(
        &presets::DDR4_3200,
        &settings(1, 2, "RoBaRaCoCh", PagePolicy::Closed),
        CORE_HZ,
    )
    .unwrap();
    let (closed, commands) = run(&mut closed_dram, &random, Some(1), false);
    let (open, _) = run(&mut ddr4_reference("RoBaRaCoCh"), &random, Some(1), false);
    // One random read at a time: with closed page its bank is closed (a
    // miss) unless it follows the previous read to the same bank (1 in 32)
    // before tRAS let that row close; with open page another row is open
    // unless a refresh closed the rank's banks.
    assert!(
        closed.row_misses >= 1900 && closed.row_conflicts <= 100,
        "{closed:?}"
    );
    assert!(open.row_conflicts >= 1500, "{open:?}");
    let miss = (t.rcd + t.cl + t.bl + 2) as f64;
    let conflict = miss + t.rp as f64;
    assert!(
        (miss..1.15 * miss).contains(&closed.avg_read_latency_cycles),
        "{}",
        closed.avg_read_latency_cycles
    );
    assert!(open.avg_read_latency_cycles > conflict - 1.0);
    let precharges = commands
        .iter()
        .filter(|c| c.command == Command::Pre)
        .count() as u64;
    assert!(
        precharges + closed.refreshes >= closed.activates - 1,
        "{precharges} PRE for {} ACT",
        closed.activates
    );
}

#[test]
fn every_memory_cycle_is_busy_idle_or_stalled() {
    let t = &presets::DDR4_3200.timing;
    let mut dram = ddr4_reference("RoBaRaCoCh");
    let (report, _) = run(
        &mut dram,
        &workload(WorkloadKind::MixedSeq2r1w, 3000, 1 << 34),
        Some(4),
        false,
    );
    // The run ends when the reads are back; the last writes drain after it.
    let end = report.cycles + 10_000;
    dram.advance_memory_to(end, &mut dram::spec::NullCommandSink);
    let account = &dram.accounts(end)[0];
    account.check(end).unwrap();
    assert_eq!(account.busy_cycles(), 3000 * t.bl);
    assert!(
        account.idle_cycles() >= 9_000,
        "idle after the run: {}",
        account.idle_cycles()
    );
    assert!(account.stall_cycles(StallReason::DramBandwidth) > 0);
    let stats = dram.stats(end);
    assert_eq!(stats.len(), dram::stats::ALL.len());
    let names: std::collections::BTreeSet<&str> = stats.iter().map(|s| s.decl.name).collect();
    assert_eq!(names.len(), stats.len());
    let busy = stats.iter().find(|s| s.decl.name == "busy_cycles").unwrap();
    assert_eq!(busy.value, (3000 * t.bl) as f64);
}

/// Per-bank refresh refreshes every bank once per tREFI, one REFpb at a
/// time, and hides refresh from random reads that all-bank refresh stalls.
#[test]
fn per_bank_refresh_visits_every_bank_once_per_interval() {
    let spec = &presets::HBM2;
    let w = workload(WorkloadKind::RandRead, 20_000, 1 << 29);
    let mut dram = hbm2_per_bank(spec, 1, "RoRaBaCoChBg", PagePolicy::Open);
    let (per_bank, commands) = run(&mut dram, &w, None, false);
    assert!(commands.iter().all(|c| c.command != Command::Ref));
    let banks = spec.org.banks_per_rank() as usize;
    let mut refreshes = vec![0u64; banks];
    for c in commands.iter().filter(|c| c.command == Command::RefPb) {
        let bank = (c.target.bankgroup * spec.org.banks_per_group as u32 + c.target.bank) as usize;
        refreshes[bank] += 1;
    }
    let intervals = per_bank.cycles / spec.timing.refi;
    assert!(intervals >= 4, "{} cycles", per_bank.cycles);
    for (bank, &n) in refreshes.iter().enumerate() {
        assert!(
            n.abs_diff(intervals) <= 1,
            "bank {bank}: {n} refreshes in {intervals} intervals"
        );
    }
    let mut all_bank = CycleDram::new(
        spec,
        &settings(1, 1, "RoRaBaCoChBg", PagePolicy::Open),
        CORE_HZ,
    )
    .unwrap();
    let all_bank = run(&mut all_bank, &w, None, false).0;
    assert!(
        per_bank.pct_of_peak > all_bank.pct_of_peak * 1.03,
        "per-bank {:.2}% vs all-bank {:.2}%",
        per_bank.pct_of_peak,
        all_bank.pct_of_peak
    );
}
