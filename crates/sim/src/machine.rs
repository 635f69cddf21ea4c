//! The run loop: units wired through their ports, instructions issued when
//! their tokens allow, exact fast-forward to the next event.

use crate::functional::Functional;
use crate::memory::MemoryModel;
use crate::pe_unit::PeUnit;
use crate::report::{Energy, Epoch, RunReport, UnitReport};
use crate::root::{self, Resource, RootAccount, RootTracker};
use crate::stall_trace::StallTrace;
use crate::tokens::TokenBoard;
use crate::translate;
use crate::{RunOptions, SimError};
use isa::exec::Effect;
use isa::{Instr, Program, ProgramHeader, Unit};
use simkit::{account_stats, Component, Cycle, StallReason, TraceEvent};
use std::collections::VecDeque;
use std::iter::Peekable;

/// How often (in simulated cycles) the progress callback is called at most.
const PROGRESS_EVERY_CYCLES: Cycle = 1 << 20;

/// An issued instruction until it retires.
#[derive(Debug)]
struct InFlight {
    id: u64,
    instr: Instr,
    issued: Cycle,
    done: Option<Cycle>,
    effect: Option<Effect>,
    /// The instructions whose signals released its waits (traced runs).
    released_by: Vec<u64>,
}

type Stream<'p> = Peekable<Box<dyn Iterator<Item = Instr> + Send + 'p>>;

pub(crate) struct Machine<'p, P: MemoryModel> {
    hw: &'p hwconfig::HwConfig,
    header: &'p ProgramHeader,
    names: isa::text::Names<'p>,
    sram: sram::Sram,
    pe: PeUnit,
    vector: vector::VectorUnit,
    dma: dma::Dma<P>,
    tokens: TokenBoard,
    streams: [Stream<'p>; 3],
    next_id: u64,
    pe_current: Option<InFlight>,
    vector_current: Option<InFlight>,
    dma_in_flight: VecDeque<InFlight>,
    functional: Option<Functional>,
    instructions: [u64; 3],
    macs_completed: u64,
    /// Whether the next link phase must try to issue: tokens or stream heads
    /// changed, or a unit gained room for its waiting head.
    issue_due: bool,
    /// The DMA direction whose queue was full when the DMA head was ready.
    dma_room_wanted: Option<dma::Direction>,
    /// Whether each unit's head instruction waits on a token (by `Unit::index`).
    waits_token: [bool; 3],
    roots: RootTracker,
    /// Cycles before this one are attributed in `roots`.
    roots_until: Cycle,
    /// Stall slices, in traced runs.
    stall_trace: Option<StallTrace>,
}

/// Units that received input in this cycle's link phase (by `Unit::index`):
/// they are ticked even when they reported no event for this cycle.
type Input = [bool; 3];

impl<'p, P: MemoryModel> Machine<'p, P> {
    pub(crate) fn new(
        hw: &'p hwconfig::HwConfig,
        program: &'p Program,
        memory: P,
        functional_seed: Option<u64>,
    ) -> Self {
        // Inbox and response room per SRAM client: enough for the deepest
        // client stream (the DMA's outstanding bursts).
        let port_capacity = (hw.dma.max_outstanding as usize).max(64);
        let sram = sram::Sram::new(&hw.sram, port_capacity);
        let link = sram.link_timing();
        let header = &program.header;
        Machine {
            hw,
            header,
            names: isa::text::Names { header },
            pe: PeUnit::new(hw, link),
            vector: vector::VectorUnit::new(&hw.vector, hw.core.element_bytes, link),
            dma: dma::Dma::new(&hw.dma, memory, link),
            sram,
            tokens: TokenBoard::new(header.tokens.len()),
            streams: Unit::ALL.map(|unit| program.stream(unit).peekable()),
            next_id: 0,
            pe_current: None,
            vector_current: None,
            dma_in_flight: VecDeque::new(),
            functional: functional_seed.map(|seed| Functional::new(header, seed)),
            instructions: [0; 3],
            macs_completed: 0,
            issue_due: true,
            dma_room_wanted: None,
            waits_token: [false; 3],
            roots: RootTracker::default(),
            roots_until: 0,
            stall_trace: None,
        }
    }

    fn head_blocked(&mut self, unit: Unit) -> bool {
        let tokens = &self.tokens;
        self.streams[unit.index()]
            .peek()
            .is_some_and(|instr| !tokens.satisfied(&instr.sync().wait))
    }

    /// Takes the head of `unit`'s stream if its tokens allow.
    fn take_ready(&mut self, unit: Unit) -> Option<Instr> {
        let tokens = &self.tokens;
        self.streams[unit.index()].next_if(|instr| tokens.satisfied(&instr.sync().wait))
    }

    fn issued(&mut self, now: Cycle, instr: Instr) -> InFlight {
        let released_by = self.tokens.releasers(&instr.sync().wait);
        let id = self.next_id;
        self.next_id += 1;
        self.instructions[instr.unit().index()] += 1;
        let effect = self.functional.as_mut().map(|f| f.issue(&instr));
        InFlight {
            id,
            instr,
            issued: now,
            done: None,
            effect,
            released_by,
        }
    }

    /// Issues at most one instruction per unit; true if any issued.
    fn issue(&mut self, now: Cycle, input: &mut Input) -> bool {
        let mut any = false;
        if self.pe_current.is_none() && self.pe.is_free() {
            if let Some(instr) = self.take_ready(Unit::Pe) {
                let flight = self.issued(now, instr);
                if let Instr::Pe(g) = &flight.instr {
                    self.pe
                        .start(now, translate::gemm_work(self.header, flight.id, g));
                }
                self.pe_current = Some(flight);
                input[Unit::Pe.index()] = true;
                any = true;
            }
        }
        if self.vector_current.is_none() && self.vector.can_submit() {
            if let Some(instr) = self.take_ready(Unit::Vector) {
                let flight = self.issued(now, instr);
                if let Instr::Vector(v) = &flight.instr {
                    let job = translate::vector_job(self.header, flight.id, v);
                    let refused = self.vector.submit(now, job).is_err();
                    debug_assert!(!refused, "checked can_submit");
                }
                self.vector_current = Some(flight);
                input[Unit::Vector.index()] = true;
                any = true;
            }
        }
        self.dma_room_wanted = None;
        let tokens = &self.tokens;
        let dma_head = match self.streams[Unit::Dma.index()].peek() {
            Some(Instr::Dma(d)) if tokens.satisfied(&d.sync.wait) => {
                Some(translate::dma_job(self.header, 0, d).direction)
            }
            _ => None,
        };
        match dma_head {
            Some(direction) if !self.dma.can_submit(direction) => {
                self.dma_room_wanted = Some(direction);
            }
            Some(_) => {
                if let Some(instr) = self.take_ready(Unit::Dma) {
                    let flight = self.issued(now, instr);
                    if let Instr::Dma(d) = &flight.instr {
                        let refused = self
                            .dma
                            .submit(now, translate::dma_job(self.header, flight.id, d))
                            .is_err();
                        debug_assert!(!refused, "checked can_submit");
                    }
                    self.dma_in_flight.push_back(flight);
                    input[Unit::Dma.index()] = true;
                    any = true;
                }
            }
            None => {}
        }
        any
    }

    /// Tells each unit whether its next instruction waits on a token (what
    /// its cycles without work are charged to); a change is input to it.
    fn update_token_waits(&mut self, now: Cycle, input: &mut Input) {
        let pe_waits = self.pe_current.is_none() && self.head_blocked(Unit::Pe);
        self.pe.set_waiting_for_token(now, pe_waits);
        for unit in [Unit::Vector, Unit::Dma] {
            let waits = self.head_blocked(unit);
            if waits == self.waits_token[unit.index()] {
                continue;
            }
            self.waits_token[unit.index()] = waits;
            input[unit.index()] = true;
            let reason = waits.then_some(StallReason::WaitToken);
            match unit {
                Unit::Vector => self.vector.set_idle_reason(reason),
                _ => self.dma.set_idle_reason(reason),
            }
        }
    }

    fn retire(
        &mut self,
        flight: InFlight,
        end: Cycle,
        trace: &mut Option<&mut dyn simkit::TraceSink>,
    ) {
        if let (Some(functional), Some(effect)) = (self.functional.as_mut(), &flight.effect) {
            // DMA effects land at completion, before in-order retirement.
            if flight.instr.unit() != Unit::Dma {
                functional.complete(effect);
            }
        }
        self.tokens.signal(&flight.instr.sync().signal, flight.id);
        if let Some(sink) = trace.as_deref_mut() {
            let (unit, name) = match &flight.instr {
                Instr::Dma(d) => (
                    "dma",
                    if d.dir == isa::DmaDir::Load {
                        "load"
                    } else {
                        "store"
                    },
                ),
                Instr::Pe(_) => ("pe", "gemm"),
                Instr::Vector(v) => ("vector", v.op.name()),
            };
            let args = [("instr", self.names.instr(&flight.instr))];
            sink.record(&TraceEvent {
                unit,
                name,
                start_cycle: flight.issued,
                end_cycle: end,
                args: &args,
                id: Some(flight.id),
                released_by: &flight.released_by,
            });
        }
    }

    /// Takes every completion visible at `now`; true if any. A unit whose
    /// completion was taken has room in its done queue: input to it.
    fn complete(
        &mut self,
        now: Cycle,
        trace: &mut Option<&mut dyn simkit::TraceSink>,
        input: &mut Input,
    ) -> bool {
        let mut any = false;
        while let Some(id) = self.pe.pop_done(now) {
            input[Unit::Pe.index()] = true;
            if let Some(flight) = self.pe_current.take().filter(|f| f.id == id) {
                if let Instr::Pe(g) = &flight.instr {
                    self.macs_completed += g.macs();
                }
                self.retire(flight, now, trace);
                any = true;
            }
        }
        while let Some(id) = self.vector.pop_done(now) {
            input[Unit::Vector.index()] = true;
            if let Some(flight) = self.vector_current.take().filter(|f| f.id == id) {
                self.retire(flight, now, trace);
                any = true;
            }
        }
        while let Some(id) = self.dma.pop_done(now) {
            input[Unit::Dma.index()] = true;
            if let Some(flight) = self.dma_in_flight.iter_mut().find(|f| f.id == id) {
                flight.done = Some(now);
                if let (Some(functional), Some(effect)) = (self.functional.as_mut(), &flight.effect)
                {
                    functional.complete(effect);
                }
            }
            any = true;
        }
        while self.dma_in_flight.front().is_some_and(|f| f.done.is_some()) {
            if let Some(flight) = self.dma_in_flight.pop_front() {
                self.retire(flight, now, trace);
            }
        }
        any
    }

    fn finished(&mut self) -> bool {
        self.pe_current.is_none()
            && self.vector_current.is_none()
            && self.dma_in_flight.is_empty()
            && self.streams.iter_mut().all(|s| s.peek().is_none())
    }

    fn deadlock(&mut self, now: Cycle) -> SimError {
        let names = self.names;
        let mut detail = Vec::new();
        for unit in Unit::ALL {
            if let Some(instr) = self.streams[unit.index()].peek() {
                detail.push(format!("{unit} waits to issue `{}`", names.instr(instr)));
            }
        }
        SimError::Deadlock {
            cycle: now,
            detail: detail.join("; "),
        }
    }

    /// Attributes the cycles `roots_until..until` to root causes: they must
    /// be cycles in which no unit changed state (a skipped span, or the one
    /// cycle just ticked).
    fn attribute_roots(&mut self, until: Cycle, trace: &mut Option<&mut dyn simkit::TraceSink>) {
        if until <= self.roots_until {
            return;
        }
        let from = std::mem::replace(&mut self.roots_until, until);
        let blocker = Unit::ALL.map(|unit| {
            let tokens = &self.tokens;
            let header = self.header;
            self.streams[unit.index()]
                .peek()
                .and_then(|instr| root::blocking_producer(header, tokens, &instr.sync().wait))
        });
        // In `Unit::ALL` order.
        let accounts = [
            self.dma.account_until(until),
            self.pe.account_until(until),
            self.vector.account_until(until),
        ];
        let states = self.roots.observe(accounts, blocker);
        if let (Some(stalls), Some(sink)) = (self.stall_trace.as_mut(), trace.as_deref_mut()) {
            stalls.observe(from, states, sink);
        }
    }

    /// Useful MACs so far: completed GEMMs plus the running one's share by progress.
    fn macs_so_far(&mut self, now: Cycle) -> f64 {
        self.pe.account_until(now);
        let running = match (&self.pe_current, self.pe.progress()) {
            (
                Some(InFlight {
                    instr: Instr::Pe(g),
                    ..
                }),
                Some((done, total)),
            ) if total > 0 => g.macs() as f64 * done as f64 / total as f64,
            _ => 0.0,
        };
        self.macs_completed as f64 + running
    }

    /// Cumulative activity at `cycle` (cycle, MACs, lane ops, DRAM bytes), for timeline rows.
    fn activity(&mut self, cycle: Cycle) -> (Cycle, f64, u64, u64) {
        (
            cycle,
            self.macs_so_far(cycle),
            self.vector.lane_ops(),
            self.dram_bytes(),
        )
    }

    fn dram_bytes(&self) -> u64 {
        let (read, write) = self.dma.port().traffic_bytes();
        read + write
    }

    pub(crate) fn run(mut self, options: RunOptions<'_>) -> Result<RunReport, SimError> {
        let RunOptions {
            fast_forward,
            epoch_cycles,
            timeline,
            mut trace,
            mut progress,
            give_up_after,
            ..
        } = options;
        if trace.is_some() {
            self.tokens = TokenBoard::with_history(self.header.tokens.len());
            self.stall_trace = Some(StallTrace::default());
        }
        let live_bytes = self.header.regions.allocated_bytes();
        self.sram.add_live_bytes(live_bytes).map_err(|e| {
            SimError::Mismatch(format!("the program's SRAM regions do not fit: {e:?}"))
        })?;
        let pes = (self.hw.pe_array.rows * self.hw.pe_array.cols) as f64;
        // An ideal vector unit spends no cycles, so it has no utilization.
        let lanes = (!self.hw.vector.ideal).then_some(self.hw.vector.lanes as f64);
        let peak_bytes_per_cycle = self.dma.port().peak_bytes_per_second() / self.hw.clock_hz();
        let mut timeline = timeline.filter(|_| epoch_cycles.is_some_and(|e| e > 0));
        let epoch = epoch_cycles.filter(|_| timeline.is_some());
        let mut epoch_start = (0, 0.0, 0u64, 0u64); // cycle, macs, lane ops, dram bytes
        let mut next_progress = 0;
        let mut now: Cycle = 0;
        let mut next_epoch = epoch.unwrap_or(Cycle::MAX);
        // With fast-forward a unit is ticked only in cycles it reported as
        // events or in which the link phase gave it input; its `next_event`
        // covers every other change, so this equals ticking every cycle.
        let mut due: [Option<Cycle>; 3] = [Some(0); 3];
        let mut sram_due = Some(0);
        let ticks = |due: Option<Cycle>, input: bool, now: Cycle| {
            !fast_forward || input || due.is_some_and(|c| c <= now)
        };
        let end = loop {
            // Skipped cycles: every unit kept the state it was left in.
            self.attribute_roots(now, &mut trace);
            let mut input: Input = [false; 3];
            let completed = self.complete(now, &mut trace, &mut input);
            input[Unit::Pe.index()] |= sram::exchange(now, &mut self.sram, &mut self.pe);
            input[Unit::Vector.index()] |= sram::exchange(now, &mut self.sram, &mut self.vector);
            input[Unit::Dma.index()] |= sram::exchange(now, &mut self.sram, &mut self.dma);
            let mut changed = completed;
            if completed || self.issue_due {
                let issued = self.issue(now, &mut input);
                self.update_token_waits(now, &mut input);
                changed |= issued;
                self.issue_due = issued;
            }

            if let (Some(e), Some(sink)) = (epoch, timeline.as_deref_mut()) {
                // Fast-forward stops at every epoch boundary, so `now` meets each.
                if now == next_epoch {
                    next_epoch += e;
                    let sample = self.activity(now);
                    let row = epoch_row(
                        epoch_start,
                        sample,
                        pes,
                        lanes,
                        peak_bytes_per_cycle,
                        live_bytes,
                    );
                    trace_counters(&row, lanes.is_some(), false, &mut trace);
                    sink.record(&row);
                    epoch_start = sample;
                }
            }
            if let Some(report) = progress.as_deref_mut() {
                if now >= next_progress {
                    report(now);
                    next_progress = now + PROGRESS_EVERY_CYCLES;
                }
            }

            // A unit's next event changes only when it is ticked.
            if ticks(due[Unit::Pe.index()], input[Unit::Pe.index()], now) {
                self.pe.tick(now);
                due[Unit::Pe.index()] = self.pe.next_event(now + 1);
            }
            if ticks(due[Unit::Vector.index()], input[Unit::Vector.index()], now) {
                self.vector.tick(now);
                due[Unit::Vector.index()] = self.vector.next_event(now + 1);
            }
            if ticks(due[Unit::Dma.index()], input[Unit::Dma.index()], now) {
                self.dma.tick(now);
                due[Unit::Dma.index()] = self.dma.next_event(now + 1);
            }
            if ticks(sram_due, self.sram.pending_requests() > 0, now) {
                self.sram.tick(now);
            }
            // The link phase takes the scratchpad's responses, so its next
            // event is asked every cycle.
            sram_due = self.sram.next_event(now + 1);
            // The DMA took a job from a full queue: its waiting head issues next cycle.
            if self
                .dma_room_wanted
                .is_some_and(|direction| self.dma.can_submit(direction))
            {
                self.issue_due = true;
                changed = true;
            }

            self.attribute_roots(now + 1, &mut trace);
            if self.finished() {
                break now + 1;
            }
            if let Some(limit) = give_up_after.filter(|&limit| now >= limit) {
                return Err(SimError::GaveUp { cycle: now, limit });
            }
            let unit_event = due.iter().fold(sram_due, |next, &d| match (next, d) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            });
            now = match unit_event {
                None if !changed => return Err(self.deadlock(now)),
                _ if changed || !fast_forward => now + 1,
                Some(event) if epoch.is_some() => event.min(next_epoch),
                Some(event) => event,
                None => now + 1,
            };
        };
        if let Some(sink) = timeline.as_deref_mut() {
            if end > epoch_start.0 {
                let sample = self.activity(end);
                let row = epoch_row(
                    epoch_start,
                    sample,
                    pes,
                    lanes,
                    peak_bytes_per_cycle,
                    live_bytes,
                );
                trace_counters(&row, lanes.is_some(), true, &mut trace);
                sink.record(&row);
            }
        }
        if let (Some(stalls), Some(sink)) = (self.stall_trace.as_mut(), trace) {
            stalls.finish(end, sink);
        }
        self.report(end)
    }

    fn report(mut self, end: Cycle) -> Result<RunReport, SimError> {
        let check = |unit: &'static str, account: &simkit::CycleAccount| {
            account
                .check(end)
                .map_err(|source| SimError::Accounting { unit, source })
        };
        let pe_account = self.pe.account_until(end).clone();
        check("pe_array", &pe_account)?;
        let mut pe_stats = account_stats(&pe_account, end);
        pe_stats.extend(self.pe.stats());
        let vector_stats = self.vector.stats(end);
        let vector_account = self.vector.account_until(end).clone();
        check("vector", &vector_account)?;
        let dma_stats = self.dma.stats(end);
        let dma_account = self.dma.account_until(end).clone();
        check("dma", &dma_account)?;
        let sram_stats = self.sram.stats(end);
        let sram_account = self.sram.account_until(end).clone();
        check("sram", &sram_account)?;
        let memory = self.dma.port_mut();
        let dram_stats = memory.stats(end);
        let (dram_account, dram_cycles) = memory.account_until(end);
        dram_account
            .check(dram_cycles)
            .map_err(|source| SimError::Accounting {
                unit: "dram",
                source,
            })?;
        let (dram_read_bytes, dram_write_bytes) = memory.traffic_bytes();
        let [dma_roots, pe_roots, vector_roots] = Unit::ALL.map(|u| self.roots.roots(u).clone());
        let sram_roots = RootAccount::direct(Resource::Sram, &sram_account);
        let dram_roots = RootAccount::direct(Resource::Dram, &dram_account);
        let peak_bytes_per_second = memory.peak_bytes_per_second();

        let seconds = end as f64 / self.hw.clock_hz();
        let macs = self.pe.array().macs();
        let lane_ops = self.vector.lane_ops();
        let energy = Energy {
            mac_pj: macs as f64 * self.hw.energy.mac_pj,
            sram_pj: self.sram.read_bytes() as f64 * self.hw.energy.sram_read_pj_per_byte
                + self.sram.write_bytes() as f64 * self.hw.energy.sram_write_pj_per_byte,
            dram_pj: (dram_read_bytes + dram_write_bytes) as f64
                * 8.0
                * self.hw.energy.dram_pj_per_bit,
            vector_pj: lane_ops as f64 * self.hw.energy.vector_op_pj,
        };
        let max_abs_error = self
            .functional
            .as_ref()
            .map(|f| f.max_abs_error(self.header));
        if let Some(error) = max_abs_error {
            let limit = crate::functional::Functional::error_limit(self.header);
            // NaN fails too.
            if error.is_nan() || error > limit {
                return Err(SimError::Functional { error, limit });
            }
        }
        let pes = (self.hw.pe_array.rows * self.hw.pe_array.cols) as f64;
        Ok(RunReport {
            cycles: end,
            seconds,
            pe_util: macs as f64 / (pes * end as f64),
            // An ideal vector unit spends no cycles: it counts operations only.
            vector_util: if self.hw.vector.ideal {
                0.0
            } else {
                lane_ops as f64 / (self.hw.vector.lanes as f64 * end as f64)
            },
            dram_read_bytes,
            dram_write_bytes,
            dram_bw_util: (dram_read_bytes + dram_write_bytes) as f64
                / (peak_bytes_per_second * seconds),
            sram_peak_bytes: self.sram.peak_live_bytes(),
            energy,
            max_abs_error,
            instructions: self.instructions,
            units: vec![
                unit_report("pe_array", pe_account, pe_stats, pe_roots)?,
                unit_report("vector", vector_account, vector_stats, vector_roots)?,
                unit_report("dma", dma_account, dma_stats, dma_roots)?,
                unit_report("sram", sram_account, sram_stats, sram_roots)?,
                unit_report("dram", dram_account, dram_stats, dram_roots)?,
            ],
        })
    }
}

/// A unit's report, its root-cause rows after its own statistics; the roots
/// must split exactly its stall cycles.
fn unit_report(
    name: &'static str,
    account: simkit::CycleAccount,
    mut stats: Vec<simkit::StatValue>,
    roots: RootAccount,
) -> Result<UnitReport, SimError> {
    if roots.total_cycles() != account.total_stall_cycles() {
        return Err(SimError::RootAccounting {
            unit: name,
            root_cycles: roots.total_cycles(),
            stall_cycles: account.total_stall_cycles(),
        });
    }
    stats.extend(roots.stats());
    Ok(UnitReport {
        name,
        account,
        stats,
        roots,
    })
}

/// The timeline row's columns as counter tracks, each holding its value
/// over the epoch (the last drops to 0 at the end of the run).
fn trace_counters(
    row: &Epoch,
    vector_util: bool,
    last: bool,
    trace: &mut Option<&mut dyn simkit::TraceSink>,
) {
    let Some(sink) = trace.as_deref_mut() else {
        return;
    };
    let mut counters = vec![("pe_util", row.pe_util), ("dram_bw_util", row.dram_bw_util)];
    if vector_util {
        counters.push(("vector_util", row.vector_util));
    }
    for (name, value) in counters {
        sink.counter(name, row.cycle_start, value);
        if last {
            sink.counter(name, row.cycle_end, 0.0);
        }
    }
}

/// One timeline row from cumulative samples (cycle, MACs, lane ops, DRAM bytes).
fn epoch_row(
    start: (Cycle, f64, u64, u64),
    end: (Cycle, f64, u64, u64),
    pes: f64,
    lanes: Option<f64>,
    peak_bytes_per_cycle: f64,
    live_bytes: u64,
) -> Epoch {
    let cycles = (end.0 - start.0) as f64;
    Epoch {
        cycle_start: start.0,
        cycle_end: end.0,
        pe_util: (end.1 - start.1) / (pes * cycles),
        vector_util: lanes.map_or(0.0, |lanes| (end.2 - start.2) as f64 / (lanes * cycles)),
        dram_bw_util: (end.3 - start.3) as f64 / (peak_bytes_per_cycle * cycles),
        sram_bytes_live: live_bytes,
    }
}
