use crate::job::{Burst, BurstCursor};
use crate::{Direction, DmaJob};
use simkit::{Cycle, TimedQueue};
use sram::SramRequest;
use std::collections::VecDeque;

/// Jobs the driver can queue per direction ahead of the running ones.
const JOB_QUEUE: usize = 2;

/// A burst in progress and the job it belongs to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Slot {
    pub(crate) job_seq: u64,
    pub(crate) burst: Burst,
}

/// A job that has started and not yet completed.
#[derive(Clone, Copy, Debug)]
struct Progress {
    seq: u64,
    id: u64,
    bytes_left: u64,
}

/// One direction of the engine: its jobs, its burst slots, its SRAM client.
///
/// Jobs issue their bursts in order, the next job starting as soon as the
/// previous one has issued its last burst, so consecutive tiles overlap.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) direction: Direction,
    pub(crate) jobs: TimedQueue<DmaJob>,
    issuing: Option<(u64, BurstCursor)>,
    started: VecDeque<Progress>,
    next_seq: u64,
    pub(crate) slots: Vec<Slot>,
    free: Vec<usize>,
    /// Loads: slots whose data came back from DRAM and waits for the SRAM
    /// request queue. Stores: slots whose data came from SRAM and waits for DRAM.
    pub(crate) ready: VecDeque<usize>,
    pub(crate) sram_requests: TimedQueue<SramRequest>,
    /// Issue cycle and slot of each SRAM request in flight, oldest first.
    pub(crate) sram_in_flight: VecDeque<(Cycle, usize)>,
    pub(crate) bursts: u64,
    pub(crate) bytes: u64,
}

impl Channel {
    pub(crate) fn new(direction: Direction, slots: usize) -> Self {
        Channel {
            direction,
            jobs: TimedQueue::new(JOB_QUEUE, 1),
            issuing: None,
            started: VecDeque::new(),
            next_seq: 0,
            slots: vec![Slot::default(); slots],
            free: (0..slots).rev().collect(),
            ready: VecDeque::with_capacity(slots),
            sram_requests: TimedQueue::new(slots, 1),
            sram_in_flight: VecDeque::with_capacity(slots),
            bursts: 0,
            bytes: 0,
        }
    }

    /// The next burst to issue, starting the next visible job if the
    /// current one has issued everything.
    pub(crate) fn next_burst(&mut self, now: Cycle, burst_bytes: u64) -> Option<Burst> {
        loop {
            if let Some((_, cursor)) = &self.issuing {
                if let Some(burst) = cursor.peek(burst_bytes) {
                    return Some(burst);
                }
                self.issuing = None;
            }
            let job = self.jobs.pop(now)?;
            let seq = self.next_seq;
            self.next_seq += 1;
            self.started.push_back(Progress {
                seq,
                id: job.id,
                bytes_left: job.bytes(),
            });
            self.issuing = Some((seq, BurstCursor::new(job)));
        }
    }

    /// Whether a burst could be issued at `now` (a job is issuing or visible).
    pub(crate) fn has_burst(&self, now: Cycle) -> bool {
        self.issuing.is_some() || self.jobs.peek(now).is_some()
    }

    pub(crate) fn has_free_slot(&self) -> bool {
        !self.free.is_empty()
    }

    /// Takes a slot for `burst` (returned by [`Channel::next_burst`]) and
    /// moves the cursor past it.
    pub(crate) fn take_slot(&mut self, burst: Burst) -> usize {
        let slot = self.free.pop().expect("caller checked for a free slot");
        let (seq, cursor) = self.issuing.as_mut().expect("next_burst started a job");
        cursor.advance(burst.bytes);
        self.slots[slot] = Slot {
            job_seq: *seq,
            burst,
        };
        slot
    }

    /// The burst in `slot` is complete; returns the id of its job if that
    /// completes the job.
    pub(crate) fn complete(&mut self, slot: usize) -> Option<u64> {
        let Slot { job_seq, burst } = self.slots[slot];
        self.free.push(slot);
        let progress = self
            .started
            .iter_mut()
            .find(|p| p.seq == job_seq)
            .expect("a burst belongs to a started job");
        progress.bytes_left -= burst.bytes;
        let finished = (progress.bytes_left == 0).then_some(progress.id);
        while self.started.front().is_some_and(|p| p.bytes_left == 0) {
            self.started.pop_front();
        }
        finished
    }

    /// Whether any job of this direction has started and not completed.
    pub(crate) fn busy(&self) -> bool {
        self.started.iter().any(|p| p.bytes_left > 0)
    }
}
