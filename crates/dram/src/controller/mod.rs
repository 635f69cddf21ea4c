//! One channel's memory controller: read and write queues, FR-FCFS, write
//! drain between watermarks, open or closed page, refresh of a rank at a
//! time (all-bank) or of a bank at a time (per-bank).
//!
//! Pipeline (documented in docs/dram.md): a request accepted in cycle `t`
//! can be scheduled from `t + FRONTEND_CYCLES`; a read's data has fully
//! arrived `nCL + nBL` after its RD and reaches the requester
//! `RETURN_CYCLES` later; a write completes when its data burst ends.
//!
//! The controller is event-driven: it passes over its queue only at its
//! wake-up cycle (`wake`). After issuing a command it looks again the next
//! cycle; after a pass that issued nothing it knows the exact cycle at which
//! a command could issue or a refresh falls due, and sleeps until then. An
//! arrival pulls `wake` in to when the new request's bank could act.

mod queue;

use crate::bank_state::BankState;
use crate::spec::{Command, CommandSink, ConstraintTable, DeviceSpec, IssuedCommand, Target};
use hwconfig::{PagePolicy, RefreshPolicy};
use queue::{RefreshWait, RequestQueue, Slot};
use simkit::{Cycle, CycleAccount, CycleState, StallReason};
use std::collections::VecDeque;

pub use queue::MAX_RANKS;

/// Cycles from accepting a request to the first cycle it can be scheduled.
pub const FRONTEND_CYCLES: Cycle = 1;
/// Cycles from the last beat of read data to the requester seeing it.
pub const RETURN_CYCLES: Cycle = 1;

/// Queue sizes and policies of one channel controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    pub read_queue: usize,
    pub write_queue: usize,
    pub page_policy: PagePolicy,
    pub refresh: RefreshPolicy,
    /// Switch to draining writes when this many are queued.
    pub write_high_watermark: usize,
    /// Stop draining (if reads wait) once at most this many are queued.
    pub write_low_watermark: usize,
}

impl ControllerConfig {
    /// Watermarks at 80% and 20% of the write queue (Ramulator 2's
    /// defaults); all-bank refresh.
    pub fn new(read_queue: usize, write_queue: usize, page_policy: PagePolicy) -> Self {
        ControllerConfig {
            read_queue,
            write_queue,
            page_policy,
            refresh: RefreshPolicy::AllBank,
            write_high_watermark: (write_queue * 4).div_ceil(5).max(1),
            write_low_watermark: write_queue / 5,
        }
    }
}

/// How a request found its bank when the controller first acted for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowClass {
    /// Its row was open: only a column command.
    Hit,
    /// The bank was closed: ACT first.
    Miss,
    /// Another row was open: PRE and ACT first.
    Conflict,
}

/// A finished request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub id: u64,
    pub is_write: bool,
    /// Cycle the request was accepted.
    pub arrival: Cycle,
    /// Cycle the requester sees the completion.
    pub done: Cycle,
    /// Data-bus cycles `[start, end)` of its burst; `None` when served
    /// without the DRAM (forwarded read, merged write).
    pub data: Option<(Cycle, Cycle)>,
}

/// Event counts of one channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelCounters {
    pub reads: u64,
    pub writes: u64,
    pub forwarded_reads: u64,
    pub merged_writes: u64,
    pub row_hits: u64,
    pub row_misses: u64,
    pub row_conflicts: u64,
    pub activates: u64,
    pub precharges: u64,
    pub refreshes: u64,
    /// Σ (done − arrival) over completed-or-scheduled reads.
    pub read_latency_cycles: u64,
}

impl ChannelCounters {
    pub fn add(&mut self, other: &ChannelCounters) {
        self.reads += other.reads;
        self.writes += other.writes;
        self.forwarded_reads += other.forwarded_reads;
        self.merged_writes += other.merged_writes;
        self.row_hits += other.row_hits;
        self.row_misses += other.row_misses;
        self.row_conflicts += other.row_conflicts;
        self.activates += other.activates;
        self.precharges += other.precharges;
        self.refreshes += other.refreshes;
        self.read_latency_cycles += other.read_latency_cycles;
    }
}

#[derive(Clone, Debug)]
pub struct ChannelController {
    channel: u32,
    config: ControllerConfig,
    state: BankState,
    cl: Cycle,
    cwl: Cycle,
    bl: Cycle,
    /// Cycles between two refresh commands of a rank: tREFI, or tREFI / banks per bank.
    refresh_interval: Cycle,
    /// Gaps from RD and WR to PREA: a column command to a rank waiting for
    /// refresh is allowed only if it does not push the PREA back.
    rd_to_prea: Cycle,
    wr_to_prea: Cycle,
    reads: RequestQueue,
    writes: RequestQueue,
    next_seq: u64,
    write_mode: bool,
    /// Per rank: when its next refresh command falls due.
    refresh_due: Vec<Cycle>,
    /// Per rank, per-bank refresh: the bank (within the rank) refreshed next.
    refresh_bank: Vec<usize>,
    wake: Cycle,
    completions: VecDeque<Completion>,
    counters: ChannelCounters,
    // Cycle accounting (see `account`).
    retired_busy_cycles: Cycle,
    idle_cycles: Cycle,
    idle_counted_until: Cycle,
    activity_end: Cycle,
}

impl ChannelController {
    /// # Panics
    /// If `ranks` exceeds [`MAX_RANKS`], or per-bank refresh is asked of a
    /// preset without it (configs are checked first).
    pub fn new(
        channel: u32,
        spec: &DeviceSpec,
        ranks: u64,
        table: &ConstraintTable,
        config: ControllerConfig,
    ) -> Self {
        assert!(
            ranks as usize <= MAX_RANKS,
            "at most {MAX_RANKS} ranks per channel"
        );
        let state = BankState::new(&spec.org, ranks, table);
        let t = &spec.timing;
        let refresh_interval = match config.refresh {
            RefreshPolicy::AllBank => t.refi,
            RefreshPolicy::PerBank => {
                assert!(
                    t.per_bank_refresh.is_some(),
                    "{} has no per-bank refresh",
                    spec.name
                );
                t.refi / spec.org.banks_per_rank()
            }
        };
        // Ranks refresh staggered by a fraction of the interval.
        let refresh_due = (0..ranks)
            .map(|r| refresh_interval * (r + 1) / ranks)
            .collect();
        ChannelController {
            channel,
            cl: t.cl,
            cwl: t.cwl,
            bl: t.bl,
            refresh_interval,
            rd_to_prea: table.max_gap(Command::Rd, Command::PreA),
            wr_to_prea: table.max_gap(Command::Wr, Command::PreA),
            reads: RequestQueue::new(config.read_queue, Command::Rd, &state),
            writes: RequestQueue::new(config.write_queue, Command::Wr, &state),
            state,
            next_seq: 0,
            config,
            write_mode: false,
            refresh_due,
            refresh_bank: vec![0; ranks as usize],
            wake: 0,
            completions: VecDeque::new(),
            counters: ChannelCounters::default(),
            retired_busy_cycles: 0,
            idle_cycles: 0,
            idle_counted_until: 0,
            activity_end: 0,
        }
    }

    pub fn counters(&self) -> &ChannelCounters {
        &self.counters
    }

    pub fn queued(&self) -> usize {
        self.reads.len + self.writes.len
    }

    pub fn can_accept(&self, is_write: bool) -> bool {
        if is_write {
            !self.writes.is_full()
        } else {
            !self.reads.is_full()
        }
    }

    /// Accepts a request that arrived in cycle `arrival`; it is scheduled
    /// from `visible` on (the owner steps the channel no earlier). A read of
    /// a line with a queued write is answered from the write queue; a write
    /// to a line already queued is merged into it. Returns false (and
    /// changes nothing) when the queue is full.
    pub fn accept(
        &mut self,
        id: u64,
        line: u64,
        target: Target,
        is_write: bool,
        arrival: Cycle,
        visible: Cycle,
    ) -> bool {
        if !self.can_accept(is_write) {
            return false;
        }
        self.note_arrival(arrival);
        let bank = self.state.bank_index(&target);
        if self.writes.has_line(bank, line) {
            let (done, counter) = if is_write {
                (visible, &mut self.counters.merged_writes)
            } else {
                (visible + RETURN_CYCLES, &mut self.counters.forwarded_reads)
            };
            *counter += 1;
            self.complete(Completion {
                id,
                is_write,
                arrival,
                done,
                data: None,
            });
            return true;
        }
        let slot = Slot {
            id,
            seq: self.next_seq,
            line,
            arrival,
            target,
            class: None,
        };
        self.next_seq += 1;
        if is_write {
            self.writes.push(bank, slot, &self.state);
        } else {
            self.reads.push(bank, slot, &self.state);
        }
        // Wake when the new request's bank can act, not on every arrival:
        // only that bank's candidate changed, unless the queue mode flips.
        let ready = if self.mode_would_flip() || self.config.page_policy == PagePolicy::Closed {
            Some(visible)
        } else if is_write == self.write_mode {
            let wait = self.refresh_wait(visible);
            self.served()
                .bank_ready_at(bank, &self.state, &wait, visible)
        } else {
            None
        };
        if let Some(ready) = ready {
            self.wake = self.wake.min(ready);
        }
        true
    }

    /// The next cycle at which [`ChannelController::step`] has work.
    pub fn wake(&self) -> Cycle {
        self.wake
    }

    /// The earliest pending completion.
    pub fn next_completion(&self) -> Option<Cycle> {
        self.completions.front().map(|c| c.done)
    }

    pub fn peek_completion(&self) -> Option<&Completion> {
        self.completions.front()
    }

    /// Removes the earliest completion if it is done by `now`.
    pub fn pop_completion(&mut self, now: Cycle) -> Option<Completion> {
        match self.completions.front() {
            Some(c) if c.done <= now => {
                let c = self.completions.pop_front()?;
                if let Some((start, end)) = c.data {
                    self.retired_busy_cycles += end - start;
                }
                Some(c)
            }
            _ => None,
        }
    }

    /// Runs one scheduling pass in cycle `now` (≥ `wake`): issues at most
    /// one command and sets the next wake-up.
    pub fn step(&mut self, now: Cycle, sink: &mut dyn CommandSink) {
        let mut next_wake = Cycle::MAX;
        for rank in 0..self.refresh_due.len() {
            let due = self.refresh_due[rank];
            if now < due {
                next_wake = next_wake.min(due);
                continue;
            }
            let (command, target) = self.refresh_command(rank);
            let earliest = self.state.earliest(command, &target);
            if earliest <= now {
                self.issue(command, &target, now, sink);
                if command.is_refresh() {
                    self.refresh_due[rank] += self.refresh_interval;
                    self.refresh_bank[rank] =
                        (self.refresh_bank[rank] + 1) % self.state.banks_per_rank();
                    self.counters.refreshes += 1;
                } else {
                    self.counters.precharges += 1;
                }
                self.wake = now + 1;
                return;
            }
            next_wake = next_wake.min(earliest);
        }
        self.write_mode = self.next_write_mode();
        match self.scan(now) {
            queue::Pick::Issue(bank, candidate) => {
                self.issue_for_request(bank, candidate, now, sink);
                self.wake = now + 1;
            }
            queue::Pick::Wait(next_ready) => {
                next_wake = next_wake.min(next_ready);
                match self.pick_closing_precharge(now, &mut next_wake) {
                    Some(target) => {
                        self.issue(Command::Pre, &target, now, sink);
                        self.counters.precharges += 1;
                        self.wake = now + 1;
                    }
                    None => self.wake = next_wake,
                }
            }
        }
    }

    /// The next refresh step of `rank`: close what the refresh needs
    /// closed (PREA of the rank, or PRE of the bank), else refresh.
    fn refresh_command(&self, rank: usize) -> (Command, Target) {
        match self.config.refresh {
            RefreshPolicy::AllBank => {
                let target = Target {
                    rank: rank as u32,
                    ..Target::default()
                };
                if self.state.rank_has_open_bank(target.rank) {
                    (Command::PreA, target)
                } else {
                    (Command::Ref, target)
                }
            }
            RefreshPolicy::PerBank => {
                let bank = self.bank_refreshed_next(rank);
                match self.state.open_row_at(bank) {
                    Some(row) => (Command::Pre, self.target_of_bank(bank, row)),
                    None => (Command::RefPb, self.target_of_bank(bank, 0)),
                }
            }
        }
    }

    /// Whether the next pass would switch between serving reads and writes.
    fn mode_would_flip(&self) -> bool {
        self.next_write_mode() != self.write_mode
    }

    /// Writes are drained from the high watermark down to the low one, or
    /// whenever no read waits.
    fn next_write_mode(&self) -> bool {
        let writes = self.writes.len;
        let reads_waiting = self.reads.len > 0;
        if self.write_mode {
            !(writes == 0 || (writes <= self.config.write_low_watermark && reads_waiting))
        } else {
            writes >= self.config.write_high_watermark || (!reads_waiting && writes > 0)
        }
    }

    /// Per-bank refresh: the flat index of the bank of `rank` refreshed next.
    fn bank_refreshed_next(&self, rank: usize) -> usize {
        rank * self.state.banks_per_rank() + self.refresh_bank[rank]
    }

    /// What the refreshes due by `at` hold back, with what the served
    /// queue may still do in ranks waiting for an all-bank refresh.
    fn refresh_wait(&self, at: Cycle) -> RefreshWait {
        let mut wait = RefreshWait::default();
        for (rank, &due) in self.refresh_due.iter().enumerate() {
            if at < due {
                continue;
            }
            match self.config.refresh {
                RefreshPolicy::AllBank => {
                    wait.ranks |= 1 << rank;
                    wait.prea[rank] = self.state.rank_floor(Command::PreA, rank as u32);
                }
                RefreshPolicy::PerBank => wait.banks |= 1 << self.bank_refreshed_next(rank),
            }
        }
        if wait.ranks != 0 {
            wait.column_to_prea = if self.write_mode {
                self.wr_to_prea
            } else {
                self.rd_to_prea
            };
        }
        wait
    }

    /// The queue being served.
    fn served(&self) -> &RequestQueue {
        if self.write_mode {
            &self.writes
        } else {
            &self.reads
        }
    }

    /// FR-FCFS over the queue being served, at cycle `at`.
    fn scan(&self, at: Cycle) -> queue::Pick {
        let wait = self.refresh_wait(at);
        self.served().scan(&self.state, &wait, at)
    }

    /// Closed-page policy: a bank whose open row no queued request wants.
    fn pick_closing_precharge(&self, now: Cycle, next_wake: &mut Cycle) -> Option<Target> {
        if self.config.page_policy != PagePolicy::Closed {
            return None;
        }
        let wait = self.refresh_wait(now);
        let banks = self.state.ranks() * self.state.banks_per_rank();
        for bank in 0..banks {
            let Some(row) = self.state.open_row_at(bank) else {
                continue;
            };
            if self.reads.any_for_row(bank, row) || self.writes.any_for_row(bank, row) {
                continue;
            }
            let target = self.target_of_bank(bank, row);
            // A refresh that waits closes its banks itself.
            if wait.ranks & (1 << target.rank) != 0 || wait.banks & (1 << bank) != 0 {
                continue;
            }
            let earliest = self.state.earliest(Command::Pre, &target);
            if earliest <= now {
                return Some(target);
            }
            *next_wake = (*next_wake).min(earliest);
        }
        None
    }

    fn target_of_bank(&self, bank: usize, row: u32) -> Target {
        let banks_per_rank = self.state.banks_per_rank();
        let banks_per_group = self.state.banks_per_group();
        let within_rank = bank % banks_per_rank;
        Target {
            rank: (bank / banks_per_rank) as u32,
            bankgroup: (within_rank / banks_per_group) as u32,
            bank: (within_rank % banks_per_group) as u32,
            row,
            col: 0,
        }
    }

    /// Issues `candidate`'s command for its request.
    fn issue_for_request(
        &mut self,
        bank: usize,
        candidate: queue::Candidate,
        now: Cycle,
        sink: &mut dyn CommandSink,
    ) {
        let queue = if self.write_mode {
            &mut self.writes
        } else {
            &mut self.reads
        };
        let command = candidate.command;
        let slot = queue.slot_mut(candidate.slot);
        let target = slot.target;
        match command {
            Command::Act => {
                slot.class.get_or_insert(RowClass::Miss);
                self.counters.activates += 1;
            }
            Command::Pre => {
                slot.class.get_or_insert(RowClass::Conflict);
                self.counters.precharges += 1;
            }
            Command::Rd | Command::Wr => {
                let slot = queue.take(bank, candidate.slot, &self.state);
                match slot.class.unwrap_or(RowClass::Hit) {
                    RowClass::Hit => self.counters.row_hits += 1,
                    RowClass::Miss => self.counters.row_misses += 1,
                    RowClass::Conflict => self.counters.row_conflicts += 1,
                }
                let is_write = command == Command::Wr;
                let start = now + if is_write { self.cwl } else { self.cl };
                let end = start + self.bl;
                let done = if is_write { end } else { end + RETURN_CYCLES };
                self.complete(Completion {
                    id: slot.id,
                    is_write,
                    arrival: slot.arrival,
                    done,
                    data: Some((start, end)),
                });
            }
            Command::PreA | Command::Ref | Command::RefPb => {
                unreachable!("requests never issue refresh commands")
            }
        }
        self.issue(command, &target, now, sink);
    }

    fn issue(&mut self, command: Command, target: &Target, now: Cycle, sink: &mut dyn CommandSink) {
        self.state.issue(command, target, now);
        // The queues' candidates depend on open rows; their times are read
        // from the bank state at each pass.
        match command {
            Command::Act | Command::Pre => {
                let bank = self.state.bank_index(target);
                for queue in [&mut self.reads, &mut self.writes] {
                    queue.forget_bank(bank, &self.state);
                }
            }
            Command::PreA => {
                let banks = self.state.banks_per_rank();
                let first = target.rank as usize * banks;
                for bank in first..first + banks {
                    for queue in [&mut self.reads, &mut self.writes] {
                        queue.forget_bank(bank, &self.state);
                    }
                }
            }
            Command::Rd | Command::Wr | Command::Ref | Command::RefPb => {}
        }
        sink.command(&IssuedCommand {
            cycle: now,
            command,
            channel: self.channel,
            target: *target,
        });
    }

    fn complete(&mut self, completion: Completion) {
        if completion.is_write {
            self.counters.writes += 1;
        } else {
            self.counters.reads += 1;
            self.counters.read_latency_cycles += completion.done - completion.arrival;
        }
        self.activity_end = self.activity_end.max(completion.done);
        // Completions are nearly always in order; insert from the back.
        if self
            .completions
            .back()
            .is_none_or(|last| last.done <= completion.done)
        {
            self.completions.push_back(completion);
            return;
        }
        let at = self
            .completions
            .iter()
            .rposition(|c| c.done <= completion.done)
            .map_or(0, |i| i + 1);
        self.completions.insert(at, completion);
    }

    fn note_arrival(&mut self, arrival: Cycle) {
        if self.queued() == 0 {
            let idle_from = self.activity_end.max(self.idle_counted_until);
            self.idle_cycles += arrival.saturating_sub(idle_from);
            self.idle_counted_until = self.idle_counted_until.max(arrival);
        }
    }

    /// Cycles `0..end` of this channel: busy while its data bus moves a
    /// burst, idle while it has nothing queued or in flight, otherwise
    /// stalled on DRAM timing (`dram_bandwidth`: banks, refresh, bus turnarounds).
    pub fn account(&self, end: Cycle) -> CycleAccount {
        let in_flight_busy: Cycle = self
            .completions
            .iter()
            .filter_map(|c| c.data)
            .map(|(start, stop)| stop.min(end).saturating_sub(start))
            .sum();
        let busy = (self.retired_busy_cycles + in_flight_busy).min(end);
        let mut idle = self.idle_cycles;
        if self.queued() == 0 {
            idle += end.saturating_sub(self.activity_end.max(self.idle_counted_until));
        }
        let idle = idle.min(end - busy);
        let mut account = CycleAccount::default();
        account.charge(CycleState::Busy, busy);
        account.charge(CycleState::Idle, idle);
        account.charge(
            CycleState::Stalled(StallReason::DramBandwidth),
            end - busy - idle,
        );
        account
    }
}
