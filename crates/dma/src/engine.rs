use crate::channel::{Channel, Stage};
use crate::job::LineSplit;
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
/// Lines that fit the outstanding window: a line holds its slots until its
/// last burst is through, so a line is kept to this fraction of the window.
pub const LINES_PER_WINDOW: u64 = 8;

/// The DMA engine (design §3), the only path between DRAM and SRAM. It owns
/// the memory port and ticks it.
///
/// Loads and stores run concurrently, each direction its jobs in order. A
/// job is cut into *lines*: consecutive bursts (of the port's `burst_bytes`)
/// that lie in one SRAM line, at most `max_outstanding / LINES_PER_WINDOW`
/// of them. A line is one SRAM request: a load's is written once all its
/// data has arrived (write-combining), a store's is read before its bursts
/// go to DRAM. Each direction has `max_outstanding` burst slots; a line
/// holds one per burst from its start until it is done (a load's SRAM write
/// acknowledged, a store's last DRAM write answered). At most
/// `max_outstanding` bursts are in DRAM over both directions, counted until
/// their whole line is answered. When both directions can send to DRAM in a
/// cycle, loads go first in even cycles and stores in odd ones.
///
/// The engine acts when a line moves on, never on a single burst's answer,
/// so when the port tells every request's completion cycle
/// ([`MemoryPort::completion_cycle`]) it sleeps until a line's last answer.
#[derive(Debug)]
pub struct Dma<P: MemoryPort> {
    port: P,
    burst_bytes: u64,
    max_outstanding: usize,
    link: SramLinkTiming,
    channels: [Channel; 2],
    /// Bursts sent to DRAM whose line is not yet answered in full.
    dram_in_flight: usize,
    /// Bursts in DRAM, not yet answered, whose completion cycle is unknown.
    unknown_completions: usize,
    done: TimedQueue<u64>,
    finished: VecDeque<u64>,
    jobs_done: u64,
    /// The port refused a request during the last tick.
    refused: bool,
    /// The engine acted since the last tick ended (deliveries happen before ticks).
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
        let split = LineSplit {
            burst_bytes,
            max_bursts: u32::try_from(config.max_outstanding / LINES_PER_WINDOW)
                .unwrap_or(u32::MAX)
                .max(1),
            sram_line_bytes: link.line_bytes,
        };
        Dma {
            port,
            burst_bytes,
            max_outstanding: slots,
            link,
            channels: [
                Channel::new(Direction::Load, slots, split),
                Channel::new(Direction::Store, slots, split),
            ],
            dram_in_flight: 0,
            unknown_completions: 0,
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

    fn finish_line(&mut self, direction: Direction, seq: u64) {
        if let Some(id) = self.channel(direction).finish_line(seq) {
            self.finished.push_back(id);
        }
    }

    /// Takes a DRAM answer; a line's last one moves the line on.
    fn take_dram_response(&mut self, response: MemResponse) {
        let direction = if response.id & 1 == 0 {
            Direction::Load
        } else {
            Direction::Store
        };
        let seq = response.id >> 1;
        let Some(line) = self.channels[direction.index()].line_mut(seq) else {
            unreachable!("DRAM answers a line in flight");
        };
        line.answered += 1;
        if !line.completions_known {
            self.unknown_completions -= 1;
        }
        if !line.dram_done() {
            return;
        }
        self.dram_in_flight -= line.bursts as usize;
        self.progressed = true;
        match direction {
            Direction::Load => line.stage = Stage::Filling,
            Direction::Store => self.finish_line(Direction::Store, seq),
        }
    }

    /// Loads: writes lines whose data has all arrived into SRAM, in order.
    /// Stores: starts lines by reading them from SRAM.
    fn issue_sram(&mut self, now: Cycle) {
        let [load, store] = &mut self.channels;
        while !load.sram_requests.is_full()
            && load
                .line(load.fill_line)
                .is_some_and(|l| l.stage == Stage::Filling)
        {
            let seq = load.fill_line;
            load.push_sram(now, seq);
            if let Some(line) = load.line_mut(seq) {
                line.stage = Stage::Writing;
            }
            load.fill_line += 1;
            self.progressed = true;
        }
        while !store.sram_requests.is_full() {
            let Some(seq) = store.start_line(now, Stage::Reading) else {
                break;
            };
            store.push_sram(now, seq);
            self.progressed = true;
        }
    }

    /// Sends bursts of `direction` to DRAM while the port and the limits
    /// allow, starting new load lines as their slots free up.
    fn issue_dram(&mut self, direction: Direction, now: Cycle) {
        while self.dram_in_flight < self.max_outstanding && !self.refused {
            let channel = &mut self.channels[direction.index()];
            let ready = channel
                .line(channel.push_line)
                .is_some_and(|l| l.stage == Stage::Dram && l.pushed < l.bursts);
            if !ready
                && (direction == Direction::Store || channel.start_line(now, Stage::Dram).is_none())
            {
                return;
            }
            let seq = channel.push_line;
            let Some(line) = channel.line_mut(seq) else {
                unreachable!("the line to send is in flight");
            };
            let Some(burst) = line.next.peek(self.burst_bytes) else {
                unreachable!("a line has as many bursts as it counts");
            };
            let is_write = direction == Direction::Store;
            if !self.port.can_accept(burst.dram_addr, is_write) {
                self.refused = true;
                return;
            }
            let request = MemRequest {
                id: (seq << 1) | direction.index() as u64,
                addr: burst.dram_addr,
                is_write,
                bytes: burst.bytes,
            };
            if self.port.push(now, request).is_err() {
                unreachable!("the port said it would accept");
            }
            line.next.advance(burst.bytes);
            line.pushed += 1;
            match self.port.completion_cycle(request.id) {
                Some(cycle) if line.completions_known => {
                    line.last_completion = line.last_completion.max(cycle);
                }
                Some(_) => self.unknown_completions += 1,
                None => {
                    if line.completions_known {
                        // The line's earlier bursts still in DRAM become unknown too.
                        self.unknown_completions += (line.pushed - 1 - line.answered) as usize;
                        line.completions_known = false;
                    }
                    self.unknown_completions += 1;
                }
            }
            if line.pushed == line.bursts {
                channel.push_line += 1;
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
    /// the engine acted (sent a DRAM or SRAM request, had an SRAM request
    /// answered, took a line's last DRAM answer, finished a job);
    /// `dram_bandwidth` while bursts are in DRAM; busy while SRAM requests
    /// are within their round trip (the engine's own pipeline);
    /// `sram_bank_conflict` if work waits for room in an SRAM queue;
    /// `output_backpressure` if finished jobs wait for room in the done
    /// queue; otherwise idle (or the driver's idle reason).
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

    /// Whether ticking at `now` would act without any new input: work
    /// waiting only for this engine's own next tick.
    fn has_local_work(&self, now: Cycle) -> bool {
        let [load, store] = &self.channels;
        let dram_open = !self.refused && self.dram_in_flight < self.max_outstanding;
        let can_start = |c: &Channel| {
            c.job_waits(now)
                || c.next_line_bursts()
                    .is_some_and(|bursts| bursts as usize <= c.free_slots)
        };
        let to_send = |c: &Channel| {
            c.line(c.push_line)
                .is_some_and(|l| l.stage == Stage::Dram && l.pushed < l.bursts)
        };
        (!self.finished.is_empty() && !self.done.is_full())
            || (dram_open && (to_send(load) || can_start(load)))
            || (dram_open && to_send(store))
            || (!load.sram_requests.is_full()
                && load
                    .line(load.fill_line)
                    .is_some_and(|l| l.stage == Stage::Filling))
            || (!store.sram_requests.is_full() && can_start(store))
    }

    /// The earliest cycle at which DRAM answers a line in full: known from
    /// the port's completion cycles, or its next event while one is unknown
    /// or while the port refuses requests (taking its answers makes room).
    fn next_line_answer(&self, now: Cycle) -> Option<Cycle> {
        if self.unknown_completions > 0 || self.refused {
            return self.port.next_event(now);
        }
        self.channels
            .iter()
            .flat_map(|c| c.lines.iter())
            .filter_map(|l| l.known_completion())
            .min()
    }
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
                // An SRAM request past its round trip turns into a conflict.
                c.sram_in_flight
                    .front()
                    .map(|&(issued, _)| issued + self.sram_round_trip(c.direction))
                    .filter(|&late| late >= now),
            ]
        });
        [self.next_line_answer(now), self.done.next_ready_cycle()]
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
        let (_, seq) = channel
            .sram_in_flight
            .pop_front()
            .expect("a response answers a request in flight");
        debug_assert_eq!(seq, response.tag, "SRAM responses come in request order");
        self.progressed = true;
        match direction {
            Direction::Load => self.finish_line(Direction::Load, seq),
            Direction::Store => {
                if let Some(line) = self.channel(Direction::Store).line_mut(seq) {
                    line.stage = Stage::Dram;
                }
            }
        }
    }
}
