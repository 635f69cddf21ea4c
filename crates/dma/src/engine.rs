use crate::channel::Channel;
use crate::stats::DMA_STATS;
use crate::{Direction, DmaJob};
use dram::{MemRequest, MemResponse, MemoryPort};
use simkit::{
    account_stats, Component, Cycle, CycleAccount, CycleState, Ledger, StallReason, StatValue,
    TimedQueue,
};
use sram::{SramClient, SramLinkTiming, SramRequest, SramResponse, SramUser};
use std::collections::VecDeque;

/// Completions waiting for the driver.
const DONE_QUEUE: usize = 16;

/// The DMA engine (design §3), the only path between DRAM and SRAM. It owns
/// the memory port and ticks it.
///
/// Loads and stores run concurrently, each direction its jobs in order and
/// in bursts of the port's `burst_bytes`. At most `max_outstanding` DRAM
/// requests are in flight over both directions, and each direction has
/// `max_outstanding` burst slots: a load burst holds one from its DRAM read
/// until its SRAM write is acknowledged, a store burst from its SRAM read
/// until its DRAM write completes. When both directions can issue to DRAM
/// in a cycle, loads go first in even cycles and stores in odd ones.
#[derive(Debug)]
pub struct Dma<P: MemoryPort> {
    port: P,
    burst_bytes: u64,
    max_outstanding: usize,
    link: SramLinkTiming,
    channels: [Channel; 2],
    dram_in_flight: usize,
    done: TimedQueue<u64>,
    finished: VecDeque<u64>,
    jobs_done: u64,
    /// The port refused a request during the last tick.
    refused: bool,
    /// Data moved since the last tick ended (deliveries happen before ticks).
    progressed: bool,
    idle_reason: Option<StallReason>,
    ledger: Ledger,
}

impl<P: MemoryPort> Dma<P> {
    /// # Panics
    /// If a burst is longer than the SRAM takes in one request (a wiring error).
    pub fn new(config: &hwconfig::Dma, port: P, link: SramLinkTiming) -> Self {
        let burst_bytes = port.burst_bytes();
        assert!(
            burst_bytes > 0 && burst_bytes <= link.max_request_bytes,
            "a {burst_bytes}-byte burst does not fit one SRAM request"
        );
        let slots = usize::try_from(config.max_outstanding)
            .unwrap_or(usize::MAX)
            .max(1);
        Dma {
            port,
            burst_bytes,
            max_outstanding: slots,
            link,
            channels: [
                Channel::new(Direction::Load, slots),
                Channel::new(Direction::Store, slots),
            ],
            dram_in_flight: 0,
            done: TimedQueue::new(DONE_QUEUE, 1),
            finished: VecDeque::new(),
            jobs_done: 0,
            refused: false,
            progressed: false,
            idle_reason: None,
            ledger: Ledger::default(),
        }
    }

    pub fn port(&self) -> &P {
        &self.port
    }

    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    /// Whether [`Dma::submit`] would take a job of `direction` now.
    pub fn can_submit(&self, direction: Direction) -> bool {
        !self.channels[direction.index()].jobs.is_full()
    }

    /// Queues `job` at cycle `now` (seen from `now + 1`); gives it back when
    /// its direction's queue is full.
    ///
    /// # Panics
    /// If the job moves no bytes (a driver bug).
    pub fn submit(&mut self, now: Cycle, job: DmaJob) -> Result<(), DmaJob> {
        assert!(job.bytes() > 0, "DMA job {} moves no bytes", job.id);
        self.channels[job.direction.index()].jobs.push(now, job)
    }

    /// The id of a finished job, visible from the cycle after it finished.
    pub fn pop_done(&mut self, now: Cycle) -> Option<u64> {
        self.done.pop(now)
    }

    /// What cycles without any job are charged to (`Some(WaitToken)` while
    /// the driver holds the next DMA instruction back on a token).
    pub fn set_idle_reason(&mut self, reason: Option<StallReason>) {
        self.idle_reason = reason;
    }

    /// Bursts accepted by DRAM in `direction`.
    pub fn bursts(&self, direction: Direction) -> u64 {
        self.channels[direction.index()].bursts
    }

    /// Bytes accepted by DRAM in `direction`.
    pub fn bytes(&self, direction: Direction) -> u64 {
        self.channels[direction.index()].bytes
    }

    pub fn jobs_done(&self) -> u64 {
        self.jobs_done
    }

    /// Cycles before `end`, see [`Dma::classify`].
    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.ledger.settle(end)
    }

    /// Every declared statistic over `0..end`.
    pub fn stats(&mut self, end: Cycle) -> Vec<StatValue> {
        let mut values = account_stats(self.account_until(end), end);
        let [jobs, load_bursts, load_bytes, store_bursts, store_bytes] = &DMA_STATS;
        values.push(jobs.value(self.jobs_done as f64));
        values.push(load_bursts.value(self.bursts(Direction::Load) as f64));
        values.push(load_bytes.value(self.bytes(Direction::Load) as f64));
        values.push(store_bursts.value(self.bursts(Direction::Store) as f64));
        values.push(store_bytes.value(self.bytes(Direction::Store) as f64));
        values
    }

    fn channel(&mut self, direction: Direction) -> &mut Channel {
        &mut self.channels[direction.index()]
    }

    fn finish(&mut self, direction: Direction, slot: usize) {
        if let Some(id) = self.channel(direction).complete(slot) {
            self.finished.push_back(id);
        }
    }

    fn take_dram_response(&mut self, response: MemResponse) {
        self.dram_in_flight -= 1;
        self.progressed = true;
        let slot = (response.id >> 1) as usize;
        if response.is_write {
            self.finish(Direction::Store, slot);
        } else {
            self.channel(Direction::Load).ready.push_back(slot);
        }
    }

    /// Loads: hands data back from DRAM to SRAM. Stores: reads new bursts from SRAM.
    fn issue_sram(&mut self, now: Cycle) {
        let burst_bytes = self.burst_bytes;
        let [load, store] = &mut self.channels;
        while !load.sram_requests.is_full() {
            let Some(slot) = load.ready.pop_front() else {
                break;
            };
            let burst = load.slots[slot].burst;
            push_sram(load, now, slot, burst.sram_addr, burst.bytes);
            self.progressed = true;
        }
        while store.has_free_slot() && !store.sram_requests.is_full() {
            let Some(burst) = store.next_burst(now, burst_bytes) else {
                break;
            };
            let slot = store.take_slot(burst);
            push_sram(store, now, slot, burst.sram_addr, burst.bytes);
            self.progressed = true;
        }
    }

    /// Issues DRAM requests of `direction` while the port and the limits allow.
    fn issue_dram(&mut self, direction: Direction, now: Cycle) {
        while self.dram_in_flight < self.max_outstanding && !self.refused {
            let burst_bytes = self.burst_bytes;
            let channel = &mut self.channels[direction.index()];
            let (slot, burst) = match direction {
                Direction::Load => {
                    if !channel.has_free_slot() {
                        return;
                    }
                    let Some(burst) = channel.next_burst(now, burst_bytes) else {
                        return;
                    };
                    if !self.port.can_accept(burst.dram_addr, false) {
                        self.refused = true;
                        return;
                    }
                    (channel.take_slot(burst), burst)
                }
                Direction::Store => {
                    let Some(&slot) = channel.ready.front() else {
                        return;
                    };
                    let burst = channel.slots[slot].burst;
                    if !self.port.can_accept(burst.dram_addr, true) {
                        self.refused = true;
                        return;
                    }
                    channel.ready.pop_front();
                    (slot, burst)
                }
            };
            let request = MemRequest {
                id: ((slot as u64) << 1) | direction.index() as u64,
                addr: burst.dram_addr,
                is_write: direction == Direction::Store,
                bytes: burst.bytes,
            };
            if self.port.push(now, request).is_err() {
                unreachable!("the port said it would accept");
            }
            channel.bursts += 1;
            channel.bytes += burst.bytes;
            self.dram_in_flight += 1;
            self.progressed = true;
        }
    }

    fn sram_round_trip(&self, direction: Direction) -> Cycle {
        match direction {
            Direction::Load => self.link.write_round_trip_cycles,
            Direction::Store => self.link.read_round_trip_cycles,
        }
    }

    /// The state of the cycle just ticked; the first that applies:
    /// `dram_queue_full` if the port refused a request (the engine had more
    /// to send than DRAM takes); `sram_bank_conflict` if an SRAM request is
    /// past its conflict-free round trip (SRAM is the bottleneck); busy if
    /// data moved (a DRAM request accepted or answered, an SRAM request sent
    /// or answered); `dram_bandwidth` while DRAM requests are in flight; busy
    /// while SRAM requests are within their round trip (the engine's own
    /// pipeline); `sram_bank_conflict` if work waits for room in an SRAM
    /// queue; `output_backpressure` if finished jobs wait for room in the
    /// done queue; otherwise idle (or the driver's idle reason).
    fn classify(&self, now: Cycle, progressed: bool) -> CycleState {
        let late = self.channels.iter().any(|c| {
            c.sram_in_flight
                .front()
                .is_some_and(|&(issued, _)| now >= issued + self.sram_round_trip(c.direction))
        });
        let reason = if self.refused {
            StallReason::DramQueueFull
        } else if late {
            StallReason::SramBankConflict
        } else if progressed {
            return CycleState::Busy;
        } else if self.dram_in_flight > 0 {
            StallReason::DramBandwidth
        } else if self.channels.iter().any(|c| !c.sram_in_flight.is_empty()) {
            return CycleState::Busy;
        } else if self.channels.iter().any(|c| c.busy()) {
            StallReason::SramBankConflict
        } else if !self.finished.is_empty() {
            StallReason::OutputBackpressure
        } else {
            return self
                .idle_reason
                .map_or(CycleState::Idle, CycleState::Stalled);
        };
        CycleState::Stalled(reason)
    }

    /// Whether the engine can act at `now` without waiting for DRAM.
    fn has_local_work(&self, now: Cycle) -> bool {
        let [load, store] = &self.channels;
        let dram_open = !self.refused && self.dram_in_flight < self.max_outstanding;
        self.channels.iter().any(|c| !c.sram_in_flight.is_empty())
            || !load.ready.is_empty()
            || (!self.finished.is_empty() && !self.done.is_full())
            || (dram_open && load.has_free_slot() && load.has_burst(now))
            || (dram_open && !store.ready.is_empty())
            || (store.has_free_slot() && store.has_burst(now) && !store.sram_requests.is_full())
    }
}

fn push_sram(channel: &mut Channel, now: Cycle, slot: usize, addr: u64, bytes: u64) {
    let request = SramRequest {
        tag: slot as u64,
        addr,
        bytes,
    };
    if channel.sram_requests.push(now, request).is_err() {
        unreachable!("caller checked for room");
    }
    channel.sram_in_flight.push_back((now, slot));
}

impl<P: MemoryPort> Component for Dma<P> {
    fn tick(&mut self, now: Cycle) {
        self.port.tick(now);
        self.refused = false;
        while let Some(response) = self.port.pop_response(now) {
            self.take_dram_response(response);
        }
        self.issue_sram(now);
        let order = if now.is_multiple_of(2) {
            [Direction::Load, Direction::Store]
        } else {
            [Direction::Store, Direction::Load]
        };
        for direction in order {
            self.issue_dram(direction, now);
        }
        while !self.done.is_full() {
            let Some(id) = self.finished.pop_front() else {
                break;
            };
            let _ = self.done.push(now, id);
            self.jobs_done += 1;
            self.progressed = true;
        }
        let state = self.classify(now, self.progressed);
        let then = self.classify(now + 1, false);
        self.ledger.record(now, state, then);
        self.progressed = false;
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        if self.has_local_work(now) {
            return Some(now);
        }
        let queues = self.channels.iter().flat_map(|c| {
            [
                c.jobs.next_ready_cycle(),
                c.sram_requests.next_ready_cycle(),
            ]
        });
        [self.port.next_event(now), self.done.next_ready_cycle()]
            .into_iter()
            .chain(queues)
            .flatten()
            .min()
            .map(|c| c.max(now))
    }
}

impl<P: MemoryPort> SramUser for Dma<P> {
    fn sram_clients(&self) -> &'static [SramClient] {
        &[SramClient::DmaFill, SramClient::DmaDrain]
    }

    fn sram_requests(&mut self, client: SramClient) -> &mut TimedQueue<SramRequest> {
        match client {
            SramClient::DmaDrain => &mut self.channel(Direction::Store).sram_requests,
            _ => &mut self.channel(Direction::Load).sram_requests,
        }
    }

    fn deliver_sram_response(&mut self, client: SramClient, response: SramResponse, _now: Cycle) {
        let direction = match client {
            SramClient::DmaDrain => Direction::Store,
            _ => Direction::Load,
        };
        let channel = self.channel(direction);
        let (_, slot) = channel
            .sram_in_flight
            .pop_front()
            .expect("a response answers a request in flight");
        debug_assert_eq!(
            slot as u64, response.tag,
            "SRAM responses come in request order"
        );
        self.progressed = true;
        match direction {
            Direction::Load => self.finish(Direction::Load, slot),
            Direction::Store => self.channel(Direction::Store).ready.push_back(slot),
        }
    }
}
