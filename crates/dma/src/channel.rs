use crate::job::{BurstCursor, LineSplit};
use crate::{Direction, DmaJob};
use simkit::{Cycle, TimedQueue};
use sram::SramRequest;
use std::collections::VecDeque;

/// Jobs the driver can queue per direction ahead of the running ones.
const JOB_QUEUE: usize = 2;

/// Where a line is in its transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// A store's SRAM read is in flight.
    Reading,
    /// Bursts go to DRAM and their answers come back.
    Dram,
    /// A load's data has all arrived and waits for its SRAM write to be sent.
    Filling,
    /// A load's SRAM write is in flight.
    Writing,
    /// Complete; its slots are free.
    Done,
}

/// A line: consecutive bursts of one job that move between the DMA and SRAM
/// as one request (one SRAM line at most, so one cycle of the banks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line {
    pub(crate) job_seq: u64,
    /// The next burst to send to DRAM.
    pub(crate) next: BurstCursor,
    pub(crate) bursts: u32,
    pub(crate) pushed: u32,
    pub(crate) answered: u32,
    pub(crate) sram_addr: u64,
    pub(crate) bytes: u64,
    /// The latest completion cycle of the pushed bursts, while the port
    /// has told every one (`completions_known`).
    pub(crate) last_completion: Cycle,
    pub(crate) completions_known: bool,
    pub(crate) stage: Stage,
}

impl Line {
    /// All bursts sent and answered by DRAM.
    pub(crate) fn dram_done(&self) -> bool {
        self.answered == self.bursts
    }

    /// The cycle its DRAM part completes, if all bursts are sent and the
    /// port told when each is answered.
    pub(crate) fn known_completion(&self) -> Option<Cycle> {
        (self.stage == Stage::Dram && self.pushed == self.bursts && self.completions_known)
            .then_some(self.last_completion)
    }
}

/// A job that has started and not yet completed.
#[derive(Clone, Copy, Debug)]
struct Progress {
    seq: u64,
    id: u64,
    bytes_left: u64,
}

/// One direction of the engine: its jobs, its lines, its SRAM client.
///
/// Jobs are cut into lines in order, the next job starting as soon as the
/// previous one is cut, so consecutive tiles overlap. A line holds one burst
/// slot per burst from the moment it starts until it is done.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) direction: Direction,
    pub(crate) jobs: TimedQueue<DmaJob>,
    split: LineSplit,
    /// The job being cut into lines and its next burst.
    cutting: Option<(u64, BurstCursor)>,
    /// The next line of that job: bursts, bytes, and the cursor after it.
    next_split: Option<(u32, u64, BurstCursor)>,
    started: VecDeque<Progress>,
    next_job_seq: u64,
    /// Lines not yet done, oldest first; the first has sequence number `first_line`.
    pub(crate) lines: VecDeque<Line>,
    first_line: u64,
    /// First line with bursts still to send to DRAM.
    pub(crate) push_line: u64,
    /// First line (loads) whose SRAM write is still to be sent.
    pub(crate) fill_line: u64,
    pub(crate) free_slots: usize,
    pub(crate) sram_requests: TimedQueue<SramRequest>,
    /// Issue cycle and line of each SRAM request in flight, oldest first.
    pub(crate) sram_in_flight: VecDeque<(Cycle, u64)>,
    pub(crate) bursts: u64,
    pub(crate) bytes: u64,
}

impl Channel {
    pub(crate) fn new(direction: Direction, slots: usize, split: LineSplit) -> Self {
        Channel {
            direction,
            jobs: TimedQueue::new(JOB_QUEUE, 1),
            split,
            cutting: None,
            next_split: None,
            started: VecDeque::new(),
            next_job_seq: 0,
            lines: VecDeque::new(),
            first_line: 0,
            push_line: 0,
            fill_line: 0,
            free_slots: slots,
            sram_requests: TimedQueue::new(slots, 1),
            sram_in_flight: VecDeque::with_capacity(slots),
            bursts: 0,
            bytes: 0,
        }
    }

    /// Sequence number of the next line to start.
    pub(crate) fn end_line(&self) -> u64 {
        self.first_line + self.lines.len() as u64
    }

    pub(crate) fn line(&self, seq: u64) -> Option<&Line> {
        seq.checked_sub(self.first_line)
            .and_then(|i| self.lines.get(i as usize))
    }

    pub(crate) fn line_mut(&mut self, seq: u64) -> Option<&mut Line> {
        seq.checked_sub(self.first_line)
            .and_then(|i| self.lines.get_mut(i as usize))
    }

    /// Starts the next visible job if the current one is cut into lines.
    fn start_job(&mut self, now: Cycle) {
        if self
            .cutting
            .is_some_and(|(_, cursor)| !cursor.is_exhausted())
        {
            return;
        }
        self.cutting = None;
        if let Some(job) = self.jobs.pop(now) {
            let seq = self.next_job_seq;
            self.next_job_seq += 1;
            self.started.push_back(Progress {
                seq,
                id: job.id,
                bytes_left: job.bytes(),
            });
            self.cutting = Some((seq, BurstCursor::new(job)));
        }
        self.refresh_split();
    }

    fn refresh_split(&mut self) {
        self.next_split = self
            .cutting
            .as_ref()
            .and_then(|(_, cursor)| self.split.next(cursor));
    }

    /// Whether cutting would start a job at `now`.
    pub(crate) fn job_waits(&self, now: Cycle) -> bool {
        self.cutting.is_none_or(|(_, cursor)| cursor.is_exhausted())
            && self.jobs.peek(now).is_some()
    }

    /// The bursts of the next line to start, if a job is being cut.
    pub(crate) fn next_line_bursts(&self) -> Option<u32> {
        self.next_split.map(|(bursts, _, _)| bursts)
    }

    /// Starts the next line if a job has one and its slots are free (starting
    /// the next visible job first if the current one is cut). Returns its
    /// sequence number.
    pub(crate) fn start_line(&mut self, now: Cycle, stage: Stage) -> Option<u64> {
        self.start_job(now);
        let (bursts, bytes, end) = self.next_split?;
        if (bursts as usize) > self.free_slots {
            return None;
        }
        let (job_seq, cursor) = self.cutting.as_mut()?;
        self.free_slots -= bursts as usize;
        let line = Line {
            job_seq: *job_seq,
            next: *cursor,
            bursts,
            pushed: 0,
            answered: 0,
            sram_addr: cursor.sram_addr(),
            bytes,
            last_completion: 0,
            completions_known: true,
            stage,
        };
        *cursor = end;
        self.lines.push_back(line);
        self.refresh_split();
        Some(self.end_line() - 1)
    }

    /// Sends the SRAM request of line `seq` (its whole range) at `now`.
    pub(crate) fn push_sram(&mut self, now: Cycle, seq: u64) {
        let Some(line) = self.line(seq) else {
            unreachable!("line {seq} is in flight");
        };
        let request = SramRequest::range(seq, line.sram_addr, line.bytes);
        if self.sram_requests.push(now, request).is_err() {
            unreachable!("caller checked for room");
        }
        self.sram_in_flight.push_back((now, seq));
    }

    /// Line `seq` is done: frees its slots and returns the id of its job
    /// if that completes the job.
    pub(crate) fn finish_line(&mut self, seq: u64) -> Option<u64> {
        let Some(line) = self.line_mut(seq) else {
            unreachable!("line {seq} is in flight");
        };
        line.stage = Stage::Done;
        let (job_seq, bytes, bursts) = (line.job_seq, line.bytes, line.bursts);
        self.free_slots += bursts as usize;
        while self.lines.front().is_some_and(|l| l.stage == Stage::Done) {
            self.lines.pop_front();
            self.first_line += 1;
        }
        let progress = self
            .started
            .iter_mut()
            .find(|p| p.seq == job_seq)
            .expect("a line belongs to a started job");
        progress.bytes_left -= bytes;
        let finished = (progress.bytes_left == 0).then_some(progress.id);
        while self.started.front().is_some_and(|p| p.bytes_left == 0) {
            self.started.pop_front();
        }
        finished
    }

    /// Whether any job of this direction has started and not completed.
    pub(crate) fn busy(&self) -> bool {
        !self.started.is_empty()
    }
}
