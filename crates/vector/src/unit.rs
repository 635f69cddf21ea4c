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

/// The job being executed and how far its streams have got.
#[derive(Debug, Clone)]
struct Active {
    id: u64,
    cost: StepCost,
    input_bytes: u64,
    output_bytes: u64,
    reads: SpanCursor,
    writes: SpanCursor,
    /// Index of the next vector step to start.
    next_step: u64,
    /// Cycles left of the running step; 0 when none runs.
    step_cycles_left: u64,
    requested_bytes: u64,
    arrived_bytes: u64,
    consumed_bytes: u64,
    produced_bytes: u64,
    written_bytes: u64,
    acked_bytes: u64,
}

impl Active {
    /// Input bytes that must have arrived before step `k` starts: the input
    /// is consumed evenly over the steps, ⌈(k+1)·B_in / steps⌉.
    fn input_needed(&self, k: u64) -> u64 {
        share(self.input_bytes, k + 1, self.cost.steps())
    }

    /// Output bytes produced once step `k` has finished, ⌊(k+1)·B_out / steps⌋:
    /// rounded down so that the last step always produces the last bytes.
    fn output_after(&self, k: u64) -> u64 {
        ((self.output_bytes as u128 * (k + 1) as u128) / self.cost.steps() as u128) as u64
    }

    fn computed(&self) -> bool {
        self.next_step == self.cost.steps() && self.step_cycles_left == 0
    }
}

fn share(bytes: u64, part: u64, parts: u64) -> u64 {
    (bytes as u128 * part as u128).div_ceil(parts as u128) as u64
}

/// The softmax vector unit (design §3) as a cycle-level component.
///
/// A job runs its vector steps back to back, each for the summed cost of its
/// operations ([`StepCost`]). Its input streams in from SRAM ahead of the
/// steps (at most `buffer_bytes` requested and not yet consumed), its output
/// streams out as steps produce it (at most `buffer_bytes` produced and not
/// yet acknowledged). A step starts when the input it consumes has arrived
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
    /// Requests are one vector (`lanes × element_bytes`) rounded up to whole
    /// bank words, or the SRAM's maximum if that is shorter, and are cut at
    /// multiples of that size, so two requests of one stream share a bank
    /// word only where one operand ends and the next begins mid-word.
    ///
    /// Each stream holds `2 × (read round trip plus 2)` requests: the fastest
    /// steps consume about one vector per cycle (two inputs over a two-op
    /// step), so this covers a round trip with room for a step's worth of
    /// per-row operands.
    pub fn new(config: &hwconfig::Vector, element_bytes: u64, link: SramLinkTiming) -> Self {
        assert!(config.lanes > 0 && element_bytes > 0, "validated config");
        let request_bytes = (config.lanes * element_bytes)
            .next_multiple_of(link.bank_width_bytes)
            .min(link.max_request_bytes);
        let request_slots = 2 * (link.read_round_trip_cycles as usize + 2);
        VectorUnit {
            lanes: config.lanes,
            ideal: config.ideal,
            costs: config.op_cycles.clone(),
            link,
            request_bytes,
            buffer_bytes: request_slots as u64 * request_bytes,
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
    /// If the tile is empty, or a step would need more input or output than a
    /// stream buffers (the job's spans do not match its shape): driver bugs.
    pub fn submit(&mut self, now: Cycle, job: VectorJob) -> Result<(), VectorJob> {
        assert!(
            job.rows > 0 && job.cols > 0,
            "vector job {} has an empty tile",
            job.id
        );
        let steps = (job.rows * job.cols).div_ceil(self.lanes) + job.rows.div_ceil(self.lanes);
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
            next_step: 0,
            step_cycles_left: 0,
            requested_bytes: 0,
            arrived_bytes: 0,
            consumed_bytes: 0,
            produced_bytes: 0,
            written_bytes: 0,
            acked_bytes: 0,
        });
    }

    /// Runs one cycle of a step if one is running or can start.
    fn compute(job: &mut Active, buffer_bytes: u64) -> bool {
        if job.step_cycles_left == 0 {
            let k = job.next_step;
            let ready = k < job.cost.steps()
                && job.arrived_bytes >= job.input_needed(k)
                && job.output_after(k) - job.acked_bytes <= buffer_bytes;
            if !ready {
                return false;
            }
            job.consumed_bytes = job.input_needed(k);
            job.step_cycles_left = job.cost.step_cycles(k);
        }
        job.step_cycles_left -= 1;
        if job.step_cycles_left == 0 {
            job.produced_bytes = job.output_after(job.next_step);
            job.next_step += 1;
        }
        true
    }

    fn issue_reads(&mut self, now: Cycle) {
        let Some(job) = self.active.as_mut() else {
            return;
        };
        while self.reads_in_flight.len() < self.request_slots && !self.read_requests.is_full() {
            let room = (job.consumed_bytes + self.buffer_bytes).saturating_sub(job.requested_bytes);
            let Some((piece, _)) = job
                .reads
                .peek(room.min(self.request_bytes), self.request_bytes)
            else {
                break;
            };
            if piece.bytes == 0 {
                break;
            }
            let request = SramRequest {
                tag: self.next_tag,
                addr: piece.addr,
                bytes: piece.bytes,
            };
            if self.read_requests.push(now, request).is_err() {
                unreachable!("checked for room");
            }
            self.next_tag += 1;
            self.reads_in_flight.push_back((now, piece.bytes));
            job.reads.advance(piece.bytes);
            job.requested_bytes += piece.bytes;
            self.read_bytes += piece.bytes;
        }
    }

    /// Writes produced output a whole piece at a time (a request-sized part
    /// of a span that does not cross a multiple of the request size), and
    /// the rest once the job has computed everything.
    fn issue_writes(&mut self, now: Cycle) {
        let Some(job) = self.active.as_mut() else {
            return;
        };
        while self.writes_in_flight.len() < self.request_slots && !self.write_requests.is_full() {
            let pending = job.produced_bytes - job.written_bytes;
            let Some((full, _)) = job.writes.peek(self.request_bytes, self.request_bytes) else {
                break;
            };
            if pending == 0 || (pending < full.bytes && !job.computed()) {
                break;
            }
            let piece = SramSpan::new(full.addr, full.bytes.min(pending));
            let request = SramRequest {
                tag: self.next_tag,
                addr: piece.addr,
                bytes: piece.bytes,
            };
            if self.write_requests.push(now, request).is_err() {
                unreachable!("checked for room");
            }
            self.next_tag += 1;
            self.writes_in_flight.push_back((now, piece.bytes));
            job.writes.advance(piece.bytes);
            job.written_bytes += piece.bytes;
            self.write_bytes += piece.bytes;
        }
    }

    /// The state of a cycle in which the active job did not compute.
    fn waiting_state(&self, job: &Active, now: Cycle) -> CycleState {
        let k = job.next_step;
        let waits_for_input = k < job.cost.steps() && job.arrived_bytes < job.input_needed(k);
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

    fn tick_active(&mut self, now: Cycle) -> CycleState {
        let Some(job) = self.active.as_mut() else {
            return self.idle_state();
        };
        let computed = Self::compute(job, self.buffer_bytes);
        self.issue_writes(now);
        self.issue_reads(now);
        let Some(job) = self.active.as_ref() else {
            unreachable!("job is active")
        };
        let state = if computed {
            CycleState::Busy
        } else {
            self.waiting_state(job, now)
        };
        if job.computed()
            && job.acked_bytes == job.output_bytes
            && self.done.push(now, job.id).is_ok()
        {
            self.active = None;
            self.jobs_done += 1;
        }
        state
    }
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
        // While a job is active next_event is `now + 1`: only cycles without
        // a job are ever skipped.
        self.ledger.record(now, state, self.idle_state());
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        if self.active.is_some() {
            return Some(now);
        }
        [&self.jobs.next_ready_cycle(), &self.done.next_ready_cycle()]
            .into_iter()
            .chain([
                &self.read_requests.next_ready_cycle(),
                &self.write_requests.next_ready_cycle(),
            ])
            .filter_map(|c| *c)
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
