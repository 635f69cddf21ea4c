//! A small driver: the vector unit, an SRAM, and an optional PE-like client
//! that takes read ports away from the vector unit.

use simkit::{Component, Cycle, CycleAccount, TimedQueue};
use sram::{exchange, Sram, SramClient, SramRequest, SramResponse, SramUser};
use vector::{ElementOp, OpMix, VectorJob, VectorUnit};

pub const BANK_BYTES: u64 = 64;

/// A higher-priority reader that, in the listed cycles, pushes one read of
/// every bank (so the vector unit's reads of those cycles find no port).
#[derive(Debug)]
pub struct Hog {
    pub banks: u64,
    pub cycles: Vec<Cycle>,
    queue: TimedQueue<SramRequest>,
}

impl Hog {
    pub fn new(banks: u64, mut cycles: Vec<Cycle>) -> Self {
        cycles.sort_unstable();
        cycles.dedup();
        Hog {
            banks,
            cycles,
            queue: TimedQueue::new(1024, 1),
        }
    }
}

impl Component for Hog {
    fn tick(&mut self, now: Cycle) {
        if self.cycles.binary_search(&(now + 1)).is_ok() {
            // Pushed now, seen by the SRAM at now + 1.
            for bank in 0..self.banks {
                let _ = self
                    .queue
                    .push(now, SramRequest::range(bank, bank * BANK_BYTES, 1));
            }
        }
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        let next_hog = self.cycles.iter().find(|&&c| c > now).map(|c| c - 1);
        [next_hog, self.queue.next_ready_cycle()]
            .into_iter()
            .flatten()
            .min()
            .map(|c| c.max(now))
    }
}

impl SramUser for Hog {
    fn sram_clients(&self) -> &'static [SramClient] {
        &[SramClient::PeRead]
    }
    fn sram_requests(&mut self, _client: SramClient) -> &mut TimedQueue<SramRequest> {
        &mut self.queue
    }
    fn deliver_sram_response(&mut self, _c: SramClient, _r: SramResponse, _now: Cycle) {}
}

pub fn sram_config(banks: u64, ports: u64, read_latency_cycles: u64) -> hwconfig::Sram {
    hwconfig::Sram {
        capacity_bytes: 1 << 22,
        banks,
        bank_width_bytes: BANK_BYTES,
        read_ports_per_bank: ports,
        write_ports_per_bank: ports,
        read_latency_cycles,
    }
}

pub fn vector_config(lanes: u64, ideal: bool, c: [u64; 6]) -> hwconfig::Vector {
    hwconfig::Vector {
        lanes,
        ideal,
        op_cycles: hwconfig::OpCycles {
            max: c[0],
            sub: c[1],
            exp: c[2],
            add: c[3],
            mul: c[4],
            div: c[5],
        },
    }
}

/// What a run produced.
#[derive(Debug, PartialEq)]
pub struct Run {
    /// Cycle at which each job's completion was visible, in job order.
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

/// Submits each job at its cycle (later if the queue is full), runs until all
/// are done, checks every unit's account adds up.
pub fn run(
    sram: &mut Sram,
    unit: &mut VectorUnit,
    hog: &mut Hog,
    jobs: Vec<(Cycle, VectorJob)>,
    fast_forward: bool,
) -> Run {
    let n = jobs.len();
    let mut pending: std::collections::VecDeque<_> = jobs.into();
    let mut done_cycles = vec![0; n];
    let mut finished = 0;
    let mut now = 0;
    let mut visited_cycles = 0;
    // With fast-forward, a component is ticked only when it reported an
    // event for this cycle or received input in the link phase, which holds
    // every component to the `next_event` contract on its own.
    let mut due: [Option<Cycle>; 3] = [Some(0); 3];
    let is_due = |due: Option<Cycle>, now| !fast_forward || due.is_some_and(|c| c <= now);
    while finished < n {
        assert!(now < 50_000_000, "vector test did not finish");
        visited_cycles += 1;
        while let Some(id) = unit.pop_done(now) {
            done_cycles[id as usize] = now;
            finished += 1;
        }
        let mut unit_input = exchange(now, sram, unit);
        let hog_input = exchange(now, sram, hog);
        while pending.front().is_some_and(|(c, _)| *c <= now) && unit.can_submit() {
            let (_, job) = pending.pop_front().unwrap();
            unit.submit(now, job).unwrap();
            unit_input = true;
        }
        if unit_input || is_due(due[0], now) {
            unit.tick(now);
        }
        if sram.pending_requests() > 0 || is_due(due[1], now) {
            sram.tick(now);
        }
        if hog_input || is_due(due[2], now) {
            hog.tick(now);
        }
        now += 1;
        if fast_forward && finished < n {
            due = [
                unit.next_event(now),
                sram.next_event(now),
                hog.next_event(now),
            ];
            let submit = pending.front().map(|(c, _)| (*c).max(now));
            now = due
                .into_iter()
                .chain([submit])
                .flatten()
                .min()
                .unwrap_or(now);
        }
    }
    for account in [
        unit.account_until(now).clone(),
        sram.account_until(now).clone(),
    ] {
        account.check(now).expect("busy + stalls + idle = total");
    }
    Run {
        done_cycles,
        cycles: now,
        account: unit.account_until(now).clone(),
        visited_cycles,
    }
}

/// One softmax operation over an R×C tile, as the dataflows need them.
///
/// Three-pass softmax (FLAT) over full rows: [`RowMax`](Self::RowMax),
/// [`ExpSum`](Self::ExpSum), [`Normalize`](Self::Normalize).
/// One-pass online softmax (flash) over R×C blocks:
/// [`OnlineSoftmax`](Self::OnlineSoftmax) per block,
/// [`RescaleAccumulate`](Self::RescaleAccumulate) on the R×d partial output
/// per block, and a final [`Normalize`](Self::Normalize) of the output.
/// The softmax steps of the three dataflows as op mixes: test fixtures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SoftmaxStep {
    /// m = rowmax(x): `max` per element.
    RowMax,
    /// p = exp(x − m), l = rowsum(p): `sub`, `exp`, `add` per element.
    ExpSum,
    /// y = p · (1 / l): `div` per row (the reciprocal), `mul` per element.
    Normalize,
    /// m' = max(m, rowmax(s)), α = exp(m − m'), p = exp(s − m'),
    /// l' = α·l + rowsum(p): `max`, `sub`, `exp`, `add` per element;
    /// `max`, `sub`, `exp`, `mul`, `add` per row.
    OnlineSoftmax,
    /// o' = α·o + pv over the R×C partial output: `mul`, `add` per element.
    RescaleAccumulate,
}

impl SoftmaxStep {
    pub fn mix(self) -> OpMix {
        OpMix::new(self.element_ops(), self.row_ops())
    }

    pub const ALL: [SoftmaxStep; 5] = [
        SoftmaxStep::RowMax,
        SoftmaxStep::ExpSum,
        SoftmaxStep::Normalize,
        SoftmaxStep::OnlineSoftmax,
        SoftmaxStep::RescaleAccumulate,
    ];

    /// Operations applied to every element of the tile.
    pub const fn element_ops(self) -> &'static [ElementOp] {
        use ElementOp::*;
        match self {
            SoftmaxStep::RowMax => &[Max],
            SoftmaxStep::ExpSum => &[Sub, Exp, Add],
            SoftmaxStep::Normalize => &[Mul],
            SoftmaxStep::OnlineSoftmax => &[Max, Sub, Exp, Add],
            SoftmaxStep::RescaleAccumulate => &[Mul, Add],
        }
    }

    /// Operations applied once per row of the tile.
    pub const fn row_ops(self) -> &'static [ElementOp] {
        use ElementOp::*;
        match self {
            SoftmaxStep::RowMax | SoftmaxStep::ExpSum | SoftmaxStep::RescaleAccumulate => &[],
            SoftmaxStep::Normalize => &[Div],
            SoftmaxStep::OnlineSoftmax => &[Max, Sub, Exp, Mul, Add],
        }
    }
}
