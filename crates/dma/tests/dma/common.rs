//! A small driver: the DMA engine with a bandwidth-model DRAM, and an SRAM.

use dma::{Dma, DmaJob};
use dram::{BandwidthModel, MemRequest, MemResponse, MemoryPort};
use simkit::{Component, Cycle, CycleAccount};
use sram::{exchange, Sram};

pub fn sram_config(banks: u64, ports: u64, read_latency_cycles: u64) -> hwconfig::Sram {
    hwconfig::Sram {
        capacity_bytes: 1 << 24,
        banks,
        bank_width_bytes: 64,
        read_ports_per_bank: ports,
        write_ports_per_bank: ports,
        read_latency_cycles,
    }
}

/// DRAM of `bytes_per_cycle` at a 1 GHz core clock with `latency_cycles`.
pub fn dram(bytes_per_cycle: u64, latency_cycles: u64, queue: usize) -> BandwidthModel {
    BandwidthModel::new(
        1_000_000_000,
        bytes_per_cycle * 1_000_000_000,
        latency_cycles,
        64,
        queue,
    )
}

pub fn engine<P: MemoryPort>(max_outstanding: u64, port: P, sram: &Sram) -> Dma<P> {
    Dma::new(&hwconfig::Dma { max_outstanding }, port, sram.link_timing())
}

/// A pipe that does not tell completion cycles ahead, as a cycle-level DRAM:
/// the engine must then wake for the pipe's every event.
#[derive(Debug)]
pub struct Opaque(pub BandwidthModel);

impl Component for Opaque {
    fn tick(&mut self, now: Cycle) {
        self.0.tick(now);
    }
    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        self.0.next_event(now)
    }
}

impl MemoryPort for Opaque {
    fn burst_bytes(&self) -> u64 {
        self.0.burst_bytes()
    }
    fn can_accept(&self, addr: u64, is_write: bool) -> bool {
        self.0.can_accept(addr, is_write)
    }
    fn push(&mut self, now: Cycle, request: MemRequest) -> Result<(), MemRequest> {
        self.0.push(now, request)
    }
    fn pop_response(&mut self, now: Cycle) -> Option<MemResponse> {
        self.0.pop_response(now)
    }
    fn in_flight(&self) -> usize {
        self.0.in_flight()
    }
    fn peak_bytes_per_second(&self) -> f64 {
        self.0.peak_bytes_per_second()
    }
}

/// The pipe under the port, for its account.
pub trait Pipe: MemoryPort {
    fn pipe(&mut self) -> &mut BandwidthModel;
}

impl Pipe for BandwidthModel {
    fn pipe(&mut self) -> &mut BandwidthModel {
        self
    }
}

impl Pipe for Opaque {
    fn pipe(&mut self) -> &mut BandwidthModel {
        &mut self.0
    }
}

#[derive(Debug, PartialEq)]
pub struct Run {
    /// Cycle at which each job's completion was visible, by job id.
    pub done_cycles: Vec<Cycle>,
    pub cycles: Cycle,
    pub account: CycleAccount,
    /// Cycles the driver simulated (all of them without fast-forward).
    pub visited_cycles: u64,
}

impl Run {
    /// What fast-forward must not change.
    pub fn results(&self) -> (&[Cycle], Cycle, &CycleAccount) {
        (&self.done_cycles, self.cycles, &self.account)
    }
}

/// Submits each job at its cycle (later if its queue is full), runs until all
/// are done; checks the accounts of the engine, the SRAM and the DRAM model.
pub fn run<P: Pipe>(
    dma: &mut Dma<P>,
    sram: &mut Sram,
    jobs: Vec<(Cycle, DmaJob)>,
    fast_forward: bool,
) -> Run {
    let n = jobs.len();
    let mut pending: std::collections::VecDeque<_> = jobs.into();
    let mut done_cycles = vec![0; n];
    let mut finished = 0;
    let mut now = 0;
    // With fast-forward, a component is ticked only when it reported an
    // event for this cycle or received input in the link phase, which holds
    // it to the `next_event` contract on its own.
    let mut due: [Option<Cycle>; 2] = [Some(0); 2];
    let is_due = |due: Option<Cycle>, now| !fast_forward || due.is_some_and(|c| c <= now);
    let mut visited_cycles = 0;
    while finished < n {
        assert!(now < 100_000_000, "DMA test did not finish");
        visited_cycles += 1;
        while let Some(id) = dma.pop_done(now) {
            done_cycles[id as usize] = now;
            finished += 1;
        }
        let mut input = exchange(now, sram, dma);
        // Jobs go in order; a job waits while its direction's queue is full.
        while let Some((at, job)) = pending.front() {
            if *at > now || !dma.can_submit(job.direction) {
                break;
            }
            let job = *job;
            pending.pop_front();
            dma.submit(now, job).unwrap();
            input = true;
        }
        if input || is_due(due[0], now) {
            dma.tick(now);
        }
        if sram.pending_requests() > 0 || is_due(due[1], now) {
            sram.tick(now);
        }
        now += 1;
        if fast_forward && finished < n {
            due = [dma.next_event(now), sram.next_event(now)];
            let submit = pending.front().map(|(c, _)| (*c).max(now));
            now = due
                .into_iter()
                .chain([submit])
                .flatten()
                .min()
                .unwrap_or(now);
        }
    }
    dma.account_until(now)
        .check(now)
        .expect("DMA: busy + stalls + idle = total");
    sram.account_until(now)
        .check(now)
        .expect("SRAM: busy + stalls + idle = total");
    dma.port_mut()
        .pipe()
        .account_until(now)
        .check(now)
        .expect("DRAM: busy + idle = total");
    Run {
        done_cycles,
        cycles: now,
        account: dma.account_until(now).clone(),
        visited_cycles,
    }
}
