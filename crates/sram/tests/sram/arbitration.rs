//! Exact cycle counts of the SRAM: latency, conflict-free and fully
//! conflicting patterns over 1, 2 and 4 ports, priority, backpressure.

use super::common::{config, run, ScriptUser, Scripted};
use simkit::{Component, StallReason, TimedQueue};
use sram::{Sram, SramClient, SramRequest};

const W: u64 = 64;

fn read(cycle: u64, client: SramClient, addr: u64, bytes: u64) -> Scripted {
    Scripted {
        cycle,
        client,
        addr,
        bytes,
    }
}

#[test]
fn read_data_arrives_after_the_read_latency() {
    for latency in [1, 3, 7] {
        let mut sram = Sram::new(&config(4, 1, latency), 8);
        let mut user = ScriptUser::new(vec![read(0, SramClient::PeRead, 128, 64)], 8);
        let cycles = run(&mut sram, &mut user, false);
        let seen = user.seen[0];
        // Pushed while ticking 0, accepted and granted at 1, visible at 1 + L.
        assert_eq!(seen.response.granted_cycle, 1);
        assert_eq!(seen.delivered_cycle, 1 + latency);
        assert_eq!(
            seen.delivered_cycle,
            sram.link_timing().read_round_trip_cycles
        );
        assert_eq!(cycles, 2 + latency);
        let account = sram.account_until(cycles).clone();
        assert_eq!(account.busy_cycles(), 1);
        assert_eq!(account.idle_cycles(), cycles - 1);
    }
}

#[test]
fn write_ack_arrives_one_cycle_after_the_grant() {
    let mut sram = Sram::new(&config(4, 1, 5), 8);
    let mut user = ScriptUser::new(vec![read(0, SramClient::VectorWrite, 0, 64)], 8);
    run(&mut sram, &mut user, false);
    assert_eq!(user.seen[0].response.granted_cycle, 1);
    assert_eq!(user.seen[0].delivered_cycle, sram::WRITE_ROUND_TRIP_CYCLES);
    assert_eq!(sram.write_bytes(), 64);
    assert_eq!(sram.read_bytes(), 0);
}

#[test]
fn conflict_free_requests_are_granted_in_one_cycle() {
    // banks × ports single-chunk reads, spread so each bank gets `ports` of
    // them, all pushed in the same cycle: granted together.
    for ports in [1, 2, 4] {
        let banks = 8;
        let script = (0..banks * ports)
            .map(|i| read(0, SramClient::PeRead, i * W, W))
            .collect();
        let mut sram = Sram::new(&config(banks, ports, 1), 64);
        let mut user = ScriptUser::new(script, 64);
        let cycles = run(&mut sram, &mut user, false);
        assert!(user.seen.iter().all(|s| s.response.granted_cycle == 1));
        assert_eq!(sram.conflict_cycles(SramClient::PeRead), 0);
        assert_eq!(cycles, 3);
        assert_eq!(sram.account_until(cycles).busy_cycles(), 1);
    }
}

#[test]
fn fully_conflicting_requests_take_one_cycle_per_port_group() {
    // n reads to bank 0 take ⌈n / ports⌉ cycles; the k-th is granted at 1 + ⌊k / ports⌋.
    for ports in [1, 2, 4] {
        let (banks, n) = (8, 12);
        let script = (0..n)
            .map(|i| read(0, SramClient::VectorRead, i * banks * W, W))
            .collect();
        let mut sram = Sram::new(&config(banks, ports, 2), 64);
        let mut user = ScriptUser::new(script, 64);
        let cycles = run(&mut sram, &mut user, false);
        for (k, seen) in user.seen.iter().enumerate() {
            assert_eq!(seen.response.tag, k as u64, "responses come in order");
            assert_eq!(seen.response.granted_cycle, 1 + k as u64 / ports);
        }
        let grant_cycles = n.div_ceil(ports);
        assert_eq!(
            sram.conflict_cycles(SramClient::VectorRead),
            grant_cycles - 1
        );
        assert_eq!(cycles, 1 + grant_cycles + 2);
        assert_eq!(sram.account_until(cycles).busy_cycles(), grant_cycles);
    }
}

#[test]
fn a_request_wider_than_the_banks_conflicts_with_itself() {
    // 3 × banks chunks: each bank is hit 3 times, so ⌈3 / ports⌉ cycles.
    for ports in [1, 2, 4] {
        let banks = 4;
        let mut sram = Sram::new(&config(banks, ports, 1), 8);
        let mut user = ScriptUser::new(vec![read(0, SramClient::PeRead, 0, 3 * banks * W)], 8);
        run(&mut sram, &mut user, false);
        assert_eq!(user.seen[0].response.granted_cycle, 3u64.div_ceil(ports));
        assert_eq!(
            sram.conflict_cycles(SramClient::PeRead),
            3u64.div_ceil(ports) - 1
        );
    }
}

#[test]
fn unaligned_request_touches_every_chunk_it_overlaps() {
    // [60, 70) overlaps chunks 0 and 1 (banks 0 and 1); a second read to bank 1 conflicts.
    let mut sram = Sram::new(&config(4, 1, 1), 8);
    let script = vec![
        read(0, SramClient::PeRead, 60, 10),
        read(0, SramClient::VectorRead, 64 + 4 * W, 8),
    ];
    let mut user = ScriptUser::new(script, 8);
    run(&mut sram, &mut user, false);
    let granted = |c| {
        user.seen
            .iter()
            .find(|s| s.client == c)
            .unwrap()
            .response
            .granted_cycle
    };
    assert_eq!(granted(SramClient::PeRead), 1);
    assert_eq!(granted(SramClient::VectorRead), 2);
}

#[test]
fn fixed_priority_orders_clients_of_one_direction() {
    // Every read client hits bank 0 in the same cycle with one port:
    // PE first, then vector, then DMA drain. Writes use their own ports.
    let script = vec![
        read(0, SramClient::DmaDrain, 0, W),
        read(0, SramClient::VectorRead, 4 * W, W),
        read(0, SramClient::PeRead, 8 * W, W),
        read(0, SramClient::DmaFill, 12 * W, W),
        read(0, SramClient::VectorWrite, 16 * W, W),
        read(0, SramClient::PeWrite, 20 * W, W),
    ];
    let mut sram = Sram::new(&config(4, 1, 1), 8);
    let mut user = ScriptUser::new(script, 8);
    run(&mut sram, &mut user, false);
    let granted = |c| {
        user.seen
            .iter()
            .find(|s| s.client == c)
            .unwrap()
            .response
            .granted_cycle
    };
    for (client, cycle) in [
        (SramClient::PeRead, 1),
        (SramClient::VectorRead, 2),
        (SramClient::DmaDrain, 3),
        (SramClient::PeWrite, 1),
        (SramClient::VectorWrite, 2),
        (SramClient::DmaFill, 3),
    ] {
        assert_eq!(granted(client), cycle, "{client:?}");
        assert_eq!(sram.conflict_cycles(client), cycle - 1, "{client:?}");
    }
}

#[test]
fn a_full_response_queue_holds_grants_back() {
    // Nobody drains the response queue (capacity 1): the second read waits.
    let mut sram = Sram::new(&config(4, 1, 1), 1);
    let mut requests = TimedQueue::new(4, 1);
    for tag in 0..2 {
        requests
            .push(0, SramRequest::range(tag, tag * W, W))
            .unwrap();
    }
    for now in 0..5 {
        sram.accept(SramClient::PeRead, &mut requests, now);
        sram.tick(now);
    }
    assert_eq!(sram.pending_requests(), 1);
    assert_eq!(sram.client_bytes(SramClient::PeRead), W);
    let account = sram.account_until(5).clone();
    assert_eq!(account.busy_cycles(), 1);
    assert_eq!(account.stall_cycles(StallReason::OutputBackpressure), 3);
    assert!(account.check(5).is_ok());
    // Draining lets it through.
    assert!(sram.responses(SramClient::PeRead).pop(5).is_some());
    sram.tick(5);
    assert_eq!(sram.pending_requests(), 0);
}

#[test]
fn fast_forward_skips_idle_gaps_without_changing_results() {
    let script = vec![
        read(0, SramClient::PeRead, 0, 256),
        read(0, SramClient::DmaDrain, 0, 64),
        read(500, SramClient::VectorWrite, 64, 64),
        read(10_000, SramClient::DmaFill, 0, 128),
    ];
    let mut a = Sram::new(&config(4, 1, 3), 8);
    let mut b = Sram::new(&config(4, 1, 3), 8);
    let mut ua = ScriptUser::new(script.clone(), 8);
    let mut ub = ScriptUser::new(script, 8);
    let ca = run(&mut a, &mut ua, false);
    let cb = run(&mut b, &mut ub, true);
    assert_eq!(ca, cb);
    assert_eq!(ua.seen, ub.seen);
    assert_eq!(a.account_until(ca), b.account_until(cb));
}

#[test]
fn live_bytes_track_the_peak_and_refuse_overflow() {
    let mut sram = Sram::new(&config(4, 1, 1), 1);
    sram.add_live_bytes(1000).unwrap();
    sram.add_live_bytes(3000).unwrap();
    sram.remove_live_bytes(1000).unwrap();
    sram.add_live_bytes(500).unwrap();
    assert_eq!(sram.live_bytes(), 3500);
    assert_eq!(sram.peak_live_bytes(), 4000);
    let err = sram.add_live_bytes(sram.capacity_bytes()).unwrap_err();
    assert!(err.to_string().contains("3500 bytes live"), "{err}");
    assert!(sram.remove_live_bytes(4000).is_err());
    assert_eq!(sram.live_bytes(), 3500);
}

#[test]
fn stats_cover_every_declaration_once() {
    let mut sram = Sram::new(&config(4, 1, 1), 8);
    let mut user = ScriptUser::new(vec![read(0, SramClient::DmaDrain, 0, 100)], 8);
    let cycles = run(&mut sram, &mut user, false);
    let stats = sram.stats(cycles);
    let expected = simkit::ACCOUNT_STATS.len() + sram::SRAM_STATS.len() + 2 * SramClient::ALL.len();
    assert_eq!(stats.len(), expected);
    let names: std::collections::BTreeSet<_> = stats.iter().map(|s| s.decl.name).collect();
    assert_eq!(names.len(), expected);
    let value = |n: &str| stats.iter().find(|s| s.decl.name == n).unwrap().value;
    assert_eq!(value("dma_drain_bytes"), 100.0);
    assert_eq!(value("read_bytes"), 100.0);
    assert_eq!(value("total_cycles"), cycles as f64);
}

#[test]
#[should_panic(expected = "outside the")]
fn a_request_outside_the_scratchpad_is_a_driver_bug() {
    let mut sram = Sram::new(&config(4, 1, 1), 1);
    let mut requests = TimedQueue::new(1, 1);
    requests
        .push(0, SramRequest::range(0, (1 << 20) - 8, 16))
        .unwrap();
    sram.accept(SramClient::PeRead, &mut requests, 1);
}

#[test]
fn a_strided_request_takes_the_ports_of_every_piece() {
    // Four 64-byte rows 128 bytes apart on 4 banks of one read port: chunks
    // 0, 2, 4, 6 fall in banks 0, 2, 0, 2, so the request needs two cycles,
    // is charged one conflict cycle, and answers all 256 bytes at once.
    let mut sram = Sram::new(&config(4, 1, 1), 4);
    let mut requests = TimedQueue::new(4, 1);
    let request = SramRequest {
        tag: 7,
        addr: 0,
        bytes: 64,
        count: 4,
        stride_bytes: 128,
    };
    requests.push(0, request).unwrap();
    assert_eq!(sram.accept(SramClient::PeRead, &mut requests, 1), 1);
    sram.tick(1);
    assert_eq!(sram.pending_requests(), 1);
    sram.tick(2);
    assert_eq!(sram.pending_requests(), 0);
    let response = sram.responses(SramClient::PeRead).pop(3).unwrap();
    assert_eq!(
        (response.tag, response.bytes, response.granted_cycle),
        (7, 256, 2)
    );
    assert_eq!(sram.conflict_cycles(SramClient::PeRead), 1);
    assert_eq!(sram.client_bytes(SramClient::PeRead), 256);
}
