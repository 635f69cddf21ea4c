use crate::job::SpanCursor;
use crate::stats::{OP_STATS, VECTOR_STATS};
use crate::{op_counts, ElementOp, StepCost, VectorJob};
use simkit::{
    account_stats, Component, Cycle, CycleAccount, CycleState, Ledger, StallReason, StatValue,
    TimedQueue,
};
use sram::{SramClient, SramLinkTiming, SramRequest, SramResponse, SramSpan, SramUser};
use std::collections::VecDeque;

/// Jobs the driver can queue ahead of the running one.
const JOB_QUEUE: usize = 2;
/// Completions waiting for the driver.
const DONE_QUEUE: usize = 16;
/// Vectors (`lanes × element_bytes`) one SRAM request of a stream carries.
pub const REQUEST_VECTORS: u64 = 16;
/// Requests' worth of data each stream's operand buffer holds.
pub const BUFFER_REQUESTS: u64 = 4;

/// Vectors (`lanes × element_bytes`) one step of any job reads or writes
/// at most, on average: a tile vector plus at most three per-row
/// statistics of `lanes` rows (`ExpSum` with rescale reads the max, the sum
/// and the factor), since a step covers `lanes` elements of at least one row.
const MAX_STEP_VECTORS: u64 = 4;

/// Refuses a vector unit whose stream buffers could not carry a step: the
/// hardware-only condition under which [`VectorUnit::submit`] never finds a
/// job too wide for its buffer. `Err` names the keys and the numbers.
pub fn check_buffer(
    config: &hwconfig::Vector,
    element_bytes: u64,
    link: SramLinkTiming,
) -> Result<(), String> {
    let request_bytes = request_bytes(config.lanes, element_bytes, link);
    let step_bytes = MAX_STEP_VECTORS * config.lanes * element_bytes;
    if step_bytes + request_bytes > BUFFER_REQUESTS * request_bytes {
        return Err(format!(
            "{} lanes × {element_bytes}-byte elements need up to {step_bytes} bytes per step, more than the vector unit's stream buffer of {BUFFER_REQUESTS} × {request_bytes}-byte requests leaves room for (a request is at most one SRAM line, min(sram.banks, 128) × sram.bank_width_bytes = {} bytes): lower vector.lanes or widen the SRAM lines",
            config.lanes, link.line_bytes
        ));
    }
    Ok(())
}

/// Bytes of one stream request (see [`VectorUnit::new`]).
fn request_bytes(lanes: u64, element_bytes: u64, link: SramLinkTiming) -> u64 {
    (REQUEST_VECTORS * lanes * element_bytes)
        .next_power_of_two()
        .max(link.bank_width_bytes)
        .min(link.line_bytes)
}

/// The job being executed: its step schedule and how far its streams have got.
///
/// Steps run back to back in *runs*: when steps become ready (their input
/// has arrived and their output fits) they are scheduled after the last
/// scheduled one, or from the current cycle if the unit has stopped. Within
/// a run step `k` starts at `run_start + cycles_before(k) − cycles_before(run_first)`,
/// so the state at any cycle follows from the schedule in closed form and
/// the unit needs to be ticked only when something changes.
#[derive(Debug, Clone)]
struct Active {
    id: u64,
    cost: StepCost,
    input_bytes: u64,
    output_bytes: u64,
    reads: SpanCursor,
    writes: SpanCursor,
    /// Steps scheduled so far: `0..committed`.
    committed: u64,
    /// First step of the current run and the cycle it starts.
    run_first: u64,
    run_start: Cycle,
    /// First cycle after the last scheduled step.
    busy_until: Cycle,
    requested_bytes: u64,
    arrived_bytes: u64,
    written_bytes: u64,
    acked_bytes: u64,
}

impl Active {
    fn steps(&self) -> u64 {
        self.cost.steps()
    }

    /// Cycle in which scheduled step `k` starts (`run_first ≤ k ≤ committed`;
    /// `k = committed` gives `busy_until`).
    fn start_cycle(&self, k: u64) -> Cycle {
        self.run_start + self.cost.cycles_before(k) - self.cost.cycles_before(self.run_first)
    }

    /// Schedule position of cycle `t` within the run, in step cycles from the job's start.
    fn run_cycles(&self, t: Cycle) -> u64 {
        self.cost.cycles_before(self.run_first) + (t - self.run_start)
    }

    /// Steps started by cycle `t` (included).
    fn started(&self, t: Cycle) -> u64 {
        if t >= self.busy_until {
            return self.committed;
        }
        (self.cost.steps_within(self.run_cycles(t)) + 1).min(self.committed)
    }

    /// Steps finished by the end of cycle `t`.
    fn finished(&self, t: Cycle) -> u64 {
        if t + 1 >= self.busy_until {
            return self.committed;
        }
        self.cost
            .steps_within(self.run_cycles(t) + 1)
            .min(self.committed)
    }

    /// Input bytes consumed once `steps` steps have started: the input is
    /// consumed evenly over the steps, ⌈steps·B_in / n⌉.
    fn consumed_by(&self, steps: u64) -> u64 {
        mul_div(self.input_bytes, steps, self.steps(), Round::Up)
    }

    /// Output bytes produced once `steps` steps have finished, ⌊steps·B_out / n⌋:
    /// rounded down so that the last step always produces the last bytes.
    fn produced_by(&self, steps: u64) -> u64 {
        mul_div(self.output_bytes, steps, self.steps(), Round::Down)
    }

    /// Steps that can run with the input arrived and the output room left:
    /// step `k` needs ⌈(k+1)·B_in/n⌉ ≤ arrived and ⌊(k+1)·B_out/n⌋ − acked ≤ buffer.
    fn ready_steps(&self, buffer_bytes: u64) -> u64 {
        let n = self.steps();
        let by_input = if self.input_bytes == 0 {
            n
        } else {
            mul_div(self.arrived_bytes, n, self.input_bytes, Round::Down)
        };
        let by_output = if self.output_bytes == 0 {
            n
        } else {
            // The largest k+1 with (k+1)·B_out < (acked + buffer + 1)·n.
            let limit = self.acked_bytes + buffer_bytes + 1;
            mul_div(limit, n, self.output_bytes, Round::Up) - 1
        };
        n.min(by_input).min(by_output)
    }

    /// Schedules every step that is ready at `now`, after those already scheduled.
    fn schedule(&mut self, now: Cycle, buffer_bytes: u64) {
        let ready = self.ready_steps(buffer_bytes);
        if ready <= self.committed {
            return;
        }
        if now >= self.busy_until {
            self.run_start = now;
            self.run_first = self.committed;
        }
        self.committed = ready;
        self.busy_until = self.start_cycle(ready);
    }

    /// The cycle in which the steps started reach `steps` (the start of step
    /// `steps − 1`), if it is scheduled and after `now`.
    fn when_started(&self, steps: u64, now: Cycle) -> Option<Cycle> {
        (steps > self.run_first && steps <= self.committed)
            .then(|| self.start_cycle(steps - 1))
            .filter(|&c| c >= now)
    }

    /// The cycle by whose end the steps finished reach `steps` (the last
    /// cycle of step `steps − 1`), if it is scheduled and not before `now`.
    fn when_finished(&self, steps: u64, now: Cycle) -> Option<Cycle> {
        (steps > self.run_first && steps <= self.committed)
            .then(|| self.start_cycle(steps) - 1)
            .filter(|&c| c >= now)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Round {
    Down,
    Up,
}

/// a·b / c rounded as asked, exact for any u64 operands whose result fits.
fn mul_div(a: u64, b: u64, c: u64, round: Round) -> u64 {
    match a.checked_mul(b) {
        Some(product) => match round {
            Round::Down => product / c,
            Round::Up => product.div_ceil(c),
        },
        None => {
            let (product, c) = (a as u128 * b as u128, c as u128);
            let q = match round {
                Round::Down => product / c,
                Round::Up => product.div_ceil(c),
            };
            q as u64
        }
    }
}

/// The softmax vector unit (design §3) as a cycle-level component.
///
/// A job runs its vector steps back to back, each for the summed cost of its
/// operations ([`StepCost`]). Its input streams in from SRAM ahead of the
/// steps, in requests of [`REQUEST_VECTORS`] vectors, at most `buffer_bytes`
/// requested and not yet consumed; its output streams out as steps produce
/// it, a whole request at a time, at most `buffer_bytes` produced and not
/// yet acknowledged. A step starts when the input it consumes has arrived
/// and its output fits. With `ideal`, jobs complete in the cycle they are
/// taken, moving no data, and their operations are still counted.
#[derive(Debug)]
pub struct VectorUnit {
    lanes: u64,
    ideal: bool,
    costs: hwconfig::OpCycles,
    link: SramLinkTiming,
    request_bytes: u64,
    buffer_bytes: u64,
    request_slots: usize,
    jobs: TimedQueue<VectorJob>,
    done: TimedQueue<u64>,
    read_requests: TimedQueue<SramRequest>,
    write_requests: TimedQueue<SramRequest>,
    /// Issue cycle and bytes of each read in flight, oldest first.
    reads_in_flight: VecDeque<(Cycle, u64)>,
    writes_in_flight: VecDeque<(Cycle, u64)>,
    active: Option<Active>,
    next_tag: u64,
    idle_reason: Option<StallReason>,
    ledger: Ledger,
    op_counts: [u64; ElementOp::ALL.len()],
    jobs_done: u64,
    read_bytes: u64,
    write_bytes: u64,
}

impl VectorUnit {
    /// A unit of `config.lanes` lanes on `element_bytes`-byte data, linked to
    /// an SRAM with `link` timing.
    ///
    /// A request carries [`REQUEST_VECTORS`] vectors (`lanes × element_bytes`),
    /// rounded up to a power of two of at least a bank word and at most an
    /// SRAM line. Requests are cut at multiples of that size, so each is
    /// served in one cycle when no other client holds its banks, and two
    /// requests of one stream share a bank word only where one operand ends
    /// and the next begins mid-word.
    /// Each stream buffers [`BUFFER_REQUESTS`] requests' worth of data and
    /// keeps up to twice as many requests in flight (short ones end operands).
    pub fn new(config: &hwconfig::Vector, element_bytes: u64, link: SramLinkTiming) -> Self {
        assert!(config.lanes > 0 && element_bytes > 0, "validated config");
        let request_bytes = request_bytes(config.lanes, element_bytes, link);
        let request_slots = 2 * BUFFER_REQUESTS as usize;
        VectorUnit {
            lanes: config.lanes,
            ideal: config.ideal,
            costs: config.op_cycles.clone(),
            link,
            request_bytes,
            buffer_bytes: BUFFER_REQUESTS * request_bytes,
            request_slots,
            jobs: TimedQueue::new(JOB_QUEUE, 1),
            done: TimedQueue::new(DONE_QUEUE, 1),
            read_requests: TimedQueue::new(request_slots, 1),
            write_requests: TimedQueue::new(request_slots, 1),
            reads_in_flight: VecDeque::with_capacity(request_slots),
            writes_in_flight: VecDeque::with_capacity(request_slots),
            active: None,
            next_tag: 0,
            idle_reason: None,
            ledger: Ledger::default(),
            op_counts: [0; ElementOp::ALL.len()],
            jobs_done: 0,
            read_bytes: 0,
            write_bytes: 0,
        }
    }

    /// Bytes of one SRAM request.
    pub fn request_bytes(&self) -> u64 {
        self.request_bytes
    }

    /// Bytes each stream may hold ahead (input) or behind (output).
    pub fn buffer_bytes(&self) -> u64 {
        self.buffer_bytes
    }

    /// Whether [`VectorUnit::submit`] would take a job now.
    pub fn can_submit(&self) -> bool {
        !self.jobs.is_full()
    }

    /// Queues `job` at cycle `now` (the unit sees it from `now + 1`); gives it
    /// back when the job queue is full.
    ///
    /// # Panics
    /// If the tile is empty, the job computes nothing, or a step would need
    /// more input or output than a stream buffers (the job's spans do not
    /// match its shape, or the configuration failed [`check_buffer`]): driver bugs.
    pub fn submit(&mut self, now: Cycle, job: VectorJob) -> Result<(), VectorJob> {
        assert!(
            job.rows > 0 && job.cols > 0,
            "vector job {} has an empty tile",
            job.id
        );
        let steps =
            StepCost::new(&job.ops, job.rows, job.cols, self.lanes, &self.costs, false).steps();
        assert!(steps > 0, "vector job {} has no operations", job.id);
        for (what, bytes) in [("input", job.input_bytes()), ("output", job.output_bytes())] {
            assert!(
                bytes.div_ceil(steps) + self.request_bytes <= self.buffer_bytes,
                "vector job {} moves {bytes} {what} bytes over {steps} steps, more than the {}-byte buffer allows",
                job.id,
                self.buffer_bytes
            );
        }
        self.jobs.push(now, job)
    }

    /// The id of a finished job, visible from the cycle after it finished.
    pub fn pop_done(&mut self, now: Cycle) -> Option<u64> {
        self.done.pop(now)
    }

    /// What the unit's cycles without a job are charged to: `None` = idle,
    /// `Some(WaitToken)` while the driver holds its next instruction back on
    /// a token. The driver sets it before ticking.
    pub fn set_idle_reason(&mut self, reason: Option<StallReason>) {
        self.idle_reason = reason;
    }

    /// Element operations executed, per kind (in [`ElementOp::ALL`] order).
    pub fn op_counts(&self) -> [u64; ElementOp::ALL.len()] {
        self.op_counts
    }

    /// All element operations: the useful lane-operations.
    pub fn lane_ops(&self) -> u64 {
        self.op_counts.iter().sum()
    }

    pub fn lanes(&self) -> u64 {
        self.lanes
    }

    pub fn jobs_done(&self) -> u64 {
        self.jobs_done
    }

    /// Cycles before `end`: busy while a step computes; stalled while a job
    /// waits on its input (`operand_not_ready`, or `sram_bank_conflict` once
    /// the awaited read is past its conflict-free round trip), on its output
    /// (`output_backpressure`, or `sram_bank_conflict` likewise); otherwise
    /// idle or the reason set by [`VectorUnit::set_idle_reason`].
    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.ledger.settle(end)
    }

    /// Every declared statistic over `0..end`.
    pub fn stats(&mut self, end: Cycle) -> Vec<StatValue> {
        let mut values = account_stats(self.account_until(end), end);
        let [jobs, lane_ops, utilization, read, write] = &VECTOR_STATS;
        values.push(jobs.value(self.jobs_done as f64));
        values.push(lane_ops.value(self.lane_ops() as f64));
        let lane_cycles = (self.lanes * end) as f64;
        let ratio = if end == 0 {
            0.0
        } else {
            self.lane_ops() as f64 / lane_cycles
        };
        values.push(utilization.value(ratio));
        values.push(read.value(self.read_bytes as f64));
        values.push(write.value(self.write_bytes as f64));
        for (decl, count) in OP_STATS.iter().zip(self.op_counts) {
            values.push(decl.value(count as f64));
        }
        values
    }

    fn idle_state(&self) -> CycleState {
        self.idle_reason
            .map_or(CycleState::Idle, CycleState::Stalled)
    }

    fn count_ops(&mut self, job: &VectorJob) {
        for (total, n) in self
            .op_counts
            .iter_mut()
            .zip(op_counts(&job.ops, job.rows, job.cols))
        {
            *total += n;
        }
    }

    /// Ideal mode: every visible job completes now.
    fn run_ideal(&mut self, now: Cycle) {
        while !self.done.is_full() {
            let Some(job) = self.jobs.pop(now) else { break };
            self.count_ops(&job);
            self.jobs_done += 1;
            let _ = self.done.push(now, job.id);
        }
    }

    fn start_job(&mut self, now: Cycle) {
        let Some(job) = self.jobs.pop(now) else {
            return;
        };
        self.count_ops(&job);
        let cost = StepCost::new(&job.ops, job.rows, job.cols, self.lanes, &self.costs, false);
        self.active = Some(Active {
            id: job.id,
            cost,
            input_bytes: job.input_bytes(),
            output_bytes: job.output_bytes(),
            reads: SpanCursor::new(job.inputs),
            writes: SpanCursor::new(job.outputs),
            committed: 0,
            run_first: 0,
            run_start: now,
            busy_until: now,
            requested_bytes: 0,
            arrived_bytes: 0,
            written_bytes: 0,
            acked_bytes: 0,
        });
    }

    /// Requests input while a whole request fits the buffer room left by
    /// the steps started so far.
    fn issue_reads(&mut self, now: Cycle) {
        let Some(job) = self.active.as_mut() else {
            return;
        };
        let limit = job.consumed_by(job.started(now)) + self.buffer_bytes;
        while self.reads_in_flight.len() < self.request_slots {
            let Some(piece) = job.reads.peek(self.request_bytes, self.request_bytes) else {
                break;
            };
            if job.requested_bytes + piece.bytes > limit {
                break;
            }
            push_request(&mut self.read_requests, &mut self.next_tag, now, piece);
            self.reads_in_flight.push_back((now, piece.bytes));
            job.reads.advance(piece.bytes);
            job.requested_bytes += piece.bytes;
            self.read_bytes += piece.bytes;
        }
    }

    /// Writes produced output a whole request at a time (a request-sized part
    /// of a span that does not cross a multiple of the request size), and
    /// the rest once the job has computed everything.
    fn issue_writes(&mut self, now: Cycle) {
        let Some(job) = self.active.as_mut() else {
            return;
        };
        let finished = job.finished(now);
        let produced = job.produced_by(finished);
        let computed = finished == job.steps();
        while self.writes_in_flight.len() < self.request_slots {
            let pending = produced - job.written_bytes;
            let Some(full) = job.writes.peek(self.request_bytes, self.request_bytes) else {
                break;
            };
            if pending == 0 || (pending < full.bytes && !computed) {
                break;
            }
            let piece = SramSpan::new(full.addr, full.bytes.min(pending));
            push_request(&mut self.write_requests, &mut self.next_tag, now, piece);
            self.writes_in_flight.push_back((now, piece.bytes));
            job.writes.advance(piece.bytes);
            job.written_bytes += piece.bytes;
            self.write_bytes += piece.bytes;
        }
    }

    /// The state of a cycle in which the active job does not compute.
    fn waiting_state(&self, job: &Active, now: Cycle) -> CycleState {
        let k = job.committed;
        let waits_for_input = k < job.steps() && job.arrived_bytes < job.consumed_by(k + 1);
        let (in_flight, round_trip, otherwise) = if waits_for_input {
            (
                &self.reads_in_flight,
                self.link.read_round_trip_cycles,
                StallReason::OperandNotReady,
            )
        } else {
            (
                &self.writes_in_flight,
                self.link.write_round_trip_cycles,
                StallReason::OutputBackpressure,
            )
        };
        let late = in_flight
            .front()
            .is_some_and(|&(issued, _)| now >= issued + round_trip);
        CycleState::Stalled(if late {
            StallReason::SramBankConflict
        } else {
            otherwise
        })
    }

    /// The state of cycle `now` (ticked, or skipped after the last tick).
    fn state_at(&self, now: Cycle) -> CycleState {
        match &self.active {
            Some(job) if now < job.busy_until => CycleState::Busy,
            Some(job) => self.waiting_state(job, now),
            None => self.idle_state(),
        }
    }

    fn tick_active(&mut self, now: Cycle) -> CycleState {
        let buffer_bytes = self.buffer_bytes;
        let Some(job) = self.active.as_mut() else {
            return self.idle_state();
        };
        job.schedule(now, buffer_bytes);
        self.issue_writes(now);
        self.issue_reads(now);
        let state = self.state_at(now);
        if let Some(job) = &self.active {
            if job.finished(now) == job.steps()
                && job.acked_bytes == job.output_bytes
                && self.done.push(now, job.id).is_ok()
            {
                self.active = None;
                self.jobs_done += 1;
            }
        }
        state
    }

    /// The cycles after `now` at which the active job changes state or
    /// issues a request without any input from outside.
    fn job_event(&self, job: &Active, now: Cycle) -> Option<Cycle> {
        let mut next = None::<Cycle>;
        let mut add = |c: Option<Cycle>| {
            if let Some(c) = c {
                next = Some(next.map_or(c, |n| n.min(c)));
            }
        };
        let n = job.steps();
        // The steps end: the unit stops (and the last step flushes the output).
        add(Some(job.busy_until).filter(|&c| c >= now));
        if job.committed == n {
            add(job.when_finished(n, now));
        }
        // The next read fits once enough steps have started.
        if self.reads_in_flight.len() < self.request_slots {
            if let Some(piece) = job.reads.peek(self.request_bytes, self.request_bytes) {
                let threshold =
                    (job.requested_bytes + piece.bytes).saturating_sub(self.buffer_bytes);
                // The fewest steps s with ⌈s·B_in/n⌉ ≥ threshold.
                let steps = mul_div(
                    threshold.saturating_sub(1),
                    n,
                    job.input_bytes.max(1),
                    Round::Down,
                ) + 1;
                add(job.when_started(steps, now));
            }
        }
        // The next whole output request is produced.
        if self.writes_in_flight.len() < self.request_slots {
            if let Some(full) = job.writes.peek(self.request_bytes, self.request_bytes) {
                // The fewest steps f with ⌊f·B_out/n⌋ ≥ written + piece.
                let steps = mul_div(
                    job.written_bytes + full.bytes,
                    n,
                    job.output_bytes,
                    Round::Up,
                );
                add(job.when_finished(steps, now));
            }
        }
        // A wait turns from normal latency into a conflict.
        if job.busy_until <= now {
            for (in_flight, round_trip) in [
                (&self.reads_in_flight, self.link.read_round_trip_cycles),
                (&self.writes_in_flight, self.link.write_round_trip_cycles),
            ] {
                add(in_flight
                    .front()
                    .map(|&(issued, _)| issued + round_trip)
                    .filter(|&c| c >= now));
            }
        }
        next
    }
}

fn push_request(
    queue: &mut TimedQueue<SramRequest>,
    next_tag: &mut u64,
    now: Cycle,
    piece: SramSpan,
) {
    let request = SramRequest::range(*next_tag, piece.addr, piece.bytes);
    if queue.push(now, request).is_err() {
        unreachable!("a stream's queue holds its requests in flight, which are counted");
    }
    *next_tag += 1;
}

impl Component for VectorUnit {
    fn tick(&mut self, now: Cycle) {
        let state = if self.ideal {
            self.run_ideal(now);
            self.idle_state()
        } else {
            if self.active.is_none() {
                self.start_job(now);
            }
            self.tick_active(now)
        };
        // Skipped cycles continue the schedule; next_event reports every
        // cycle at which that state changes.
        self.ledger.record(now, state, self.state_at(now + 1));
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        let job = match &self.active {
            Some(job) => self.job_event(job, now),
            None => self.jobs.next_ready_cycle(),
        };
        [
            job,
            self.done.next_ready_cycle(),
            self.read_requests.next_ready_cycle(),
            self.write_requests.next_ready_cycle(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|c| c.max(now))
    }
}

impl SramUser for VectorUnit {
    fn sram_clients(&self) -> &'static [SramClient] {
        &[SramClient::VectorRead, SramClient::VectorWrite]
    }

    fn sram_requests(&mut self, client: SramClient) -> &mut TimedQueue<SramRequest> {
        match client {
            SramClient::VectorWrite => &mut self.write_requests,
            _ => &mut self.read_requests,
        }
    }

    fn deliver_sram_response(&mut self, client: SramClient, response: SramResponse, _now: Cycle) {
        let (in_flight, is_read) = match client {
            SramClient::VectorWrite => (&mut self.writes_in_flight, false),
            _ => (&mut self.reads_in_flight, true),
        };
        let (_, bytes) = in_flight
            .pop_front()
            .expect("a response answers a request in flight");
        debug_assert_eq!(
            bytes, response.bytes,
            "SRAM responses come in request order"
        );
        let job = self
            .active
            .as_mut()
            .expect("responses only arrive for the active job");
        if is_read {
            job.arrived_bytes += bytes;
        } else {
            job.acked_bytes += bytes;
        }
    }
}
