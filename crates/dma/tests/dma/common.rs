//! A small driver: the DMA engine with a bandwidth-model DRAM, and an SRAM.

use dma::{Dma, DmaJob};
use dram::BandwidthModel;
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

pub fn engine(max_outstanding: u64, port: BandwidthModel, sram: &Sram) -> Dma<BandwidthModel> {
    Dma::new(&hwconfig::Dma { max_outstanding }, port, sram.link_timing())
}

#[derive(Debug, PartialEq)]
pub struct Run {
    /// Cycle at which each job's completion was visible, by job id.
    pub done_cycles: Vec<Cycle>,
    pub cycles: Cycle,
    pub account: CycleAccount,
}

/// Submits each job at its cycle (later if its queue is full), runs until all
/// are done; checks the accounts of the engine, the SRAM and the DRAM model.
pub fn run(
    dma: &mut Dma<BandwidthModel>,
    sram: &mut Sram,
    jobs: Vec<(Cycle, DmaJob)>,
    fast_forward: bool,
) -> Run {
    let n = jobs.len();
    let mut pending: std::collections::VecDeque<_> = jobs.into();
    let mut done_cycles = vec![0; n];
    let mut finished = 0;
    let mut now = 0;
    while finished < n {
        assert!(now < 100_000_000, "DMA test did not finish");
        while let Some(id) = dma.pop_done(now) {
            done_cycles[id as usize] = now;
            finished += 1;
        }
        exchange(now, sram, dma);
        // Jobs go in order; a job waits while its direction's queue is full.
        while let Some((at, job)) = pending.front() {
            if *at > now || !dma.can_submit(job.direction) {
                break;
            }
            let job = *job;
            pending.pop_front();
            dma.submit(now, job).unwrap();
        }
        dma.tick(now);
        sram.tick(now);
        now += 1;
        if fast_forward && finished < n {
            let submit = pending.front().map(|(c, _)| (*c).max(now));
            now = [dma.next_event(now), sram.next_event(now), submit]
                .into_iter()
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
        .account_until(now)
        .check(now)
        .expect("DRAM: busy + idle = total");
    Run {
        done_cycles,
        cycles: now,
        account: dma.account_until(now).clone(),
    }
}
