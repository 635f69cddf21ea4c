//! The PE array as an SRAM user. The array itself (`pe-array`) knows only
//! its schedule; this wrapper feeds it: before each fold starts, the fold's
//! operand tiles must have arrived from the scratchpad (requested up to
//! [`LOOKAHEAD_FOLDS`] folds ahead, as a double-buffered array prefetches),
//! and each finished fold's outputs are written back. A fold whose operands
//! are late holds the array (`operand_not_ready`, or `sram_bank_conflict`
//! once a request is past its conflict-free round trip); more than
//! [`MAX_PENDING_WRITE_FOLDS`] folds of unwritten outputs hold it too
//! (`output_backpressure`). A GEMM completes when its last output is written.

use pe_array::{GemmJob, GemmTiming, PeArray, PeDataflow};
use simkit::{Component, Cycle, CycleAccount, StallReason, StatDecl, StatValue, TimedQueue};
use sram::{SramClient, SramLinkTiming, SramRequest, SramResponse, SramSpan, SramUser};
use std::collections::VecDeque;

/// Folds whose operands may be requested ahead of the running one.
pub const LOOKAHEAD_FOLDS: u64 = 2;
/// Finished folds whose outputs may wait to be written before the array stops.
pub const MAX_PENDING_WRITE_FOLDS: u64 = 2;
/// Outbound requests per client queue.
const REQUEST_QUEUE: usize = 64;

/// A row-major matrix in the scratchpad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixView {
    pub addr: u64,
    pub row_stride_bytes: u64,
}

impl MatrixView {
    fn span(&self, row: u64, col: u64, elements: u64, element_bytes: u64) -> SramSpan {
        SramSpan::new(
            self.addr + row * self.row_stride_bytes + col * element_bytes,
            elements * element_bytes,
        )
    }
}

/// A GEMM for the PE unit: `c (+)= a · b`, a m×k, b k×n (stored n×k when
/// `b_transposed`), c m×n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmWork {
    pub job: GemmJob,
    pub a: MatrixView,
    pub b: MatrixView,
    pub b_transposed: bool,
    pub c: MatrixView,
    pub accumulate: bool,
}

impl GemmWork {
    /// Scratchpad spans fold `fold` reads and writes, into `reads` and
    /// `writes` (cleared first; reused so that no fold allocates).
    fn fold_spans(
        &self,
        timing: &GemmTiming,
        fold: u64,
        eb: u64,
        reads: &mut Vec<SramSpan>,
        writes: &mut Vec<SramSpan>,
    ) {
        reads.clear();
        writes.clear();
        let tile = timing.fold_tile(fold);
        let (r, c) = (timing.array.rows, timing.array.cols);
        let (m, k, n) = (self.job.shape.m, self.job.shape.k, self.job.shape.n);
        // B's row p, columns j0..j0+count (or its transpose's equivalent).
        let b_rows = |reads: &mut Vec<SramSpan>, p0: u64, pc: u64, j0: u64, jc: u64| {
            if self.b_transposed {
                reads.extend((j0..j0 + jc).map(|j| self.b.span(j, p0, pc, eb)));
            } else {
                reads.extend((p0..p0 + pc).map(|p| self.b.span(p, j0, jc, eb)));
            }
        };
        match self.job.dataflow {
            PeDataflow::Os => {
                let (i0, j0) = (tile.row_block * r, tile.col_block * c);
                reads.extend((i0..i0 + tile.rows).map(|i| self.a.span(i, 0, k, eb)));
                b_rows(reads, 0, k, j0, tile.cols);
                writes.extend((i0..i0 + tile.rows).map(|i| self.c.span(i, j0, tile.cols, eb)));
            }
            PeDataflow::Ws => {
                let (p0, j0) = (tile.row_block * r, tile.col_block * c);
                b_rows(reads, p0, tile.rows, j0, tile.cols);
                reads.extend((0..m).map(|i| self.a.span(i, p0, tile.rows, eb)));
                writes.extend((0..m).map(|i| self.c.span(i, j0, tile.cols, eb)));
            }
            PeDataflow::Is => {
                let (p0, i0) = (tile.row_block * r, tile.col_block * c);
                reads.extend((i0..i0 + tile.cols).map(|i| self.a.span(i, p0, tile.rows, eb)));
                b_rows(reads, p0, tile.rows, 0, n);
                writes.extend((i0..i0 + tile.cols).map(|i| self.c.span(i, 0, n, eb)));
            }
        }
        // Partial sums (WS, IS after the first K block) and accumulating
        // GEMMs read the output tile before adding to it.
        let partial = match self.job.dataflow {
            PeDataflow::Os => false,
            PeDataflow::Ws | PeDataflow::Is => tile.row_block > 0,
        };
        if partial || self.accumulate {
            reads.extend_from_slice(writes);
        }
    }
}

/// Appends `spans` to `out` as requests tagged with `fold`. Spans that
/// continue one another (rows of a tile stored back to back) are one range,
/// cut at multiples of `line_bytes` (the SRAM line, so that each piece can
/// be served in one cycle); equal pieces at a constant gap (a column block
/// of a wider tile) go as one strided request spanning at most
/// `window_bytes`.
fn pieces(
    spans: &[SramSpan],
    line_bytes: u64,
    window_bytes: u64,
    fold: u64,
    out: &mut VecDeque<(u64, SramRequest)>,
) {
    let mut group: Option<SramRequest> = None;
    let mut add = |addr: u64, bytes: u64| {
        if let Some(g) = group.as_mut() {
            let stride = if g.count == 1 {
                addr.saturating_sub(g.addr)
            } else {
                g.stride_bytes
            };
            let joins = bytes == g.bytes
                && stride > bytes
                && Some(addr)
                    == g.count
                        .checked_mul(stride)
                        .and_then(|o| o.checked_add(g.addr))
                && addr + bytes - g.addr <= window_bytes;
            if joins {
                g.count += 1;
                g.stride_bytes = stride;
                return;
            }
            out.push_back((fold, *g));
        }
        group = Some(SramRequest::range(0, addr, bytes));
    };
    let mut spans = spans.iter().filter(|s| s.bytes > 0).peekable();
    while let Some(first) = spans.next() {
        let mut range = *first;
        while let Some(next) = spans.next_if(|next| next.addr == range.end()) {
            range.bytes += next.bytes;
        }
        let mut addr = range.addr;
        while addr < range.end() {
            let bytes = (range.end() - addr).min(line_bytes - addr % line_bytes);
            add(addr, bytes);
            addr += bytes;
        }
    }
    if let Some(g) = group {
        out.push_back((fold, g));
    }
}

#[derive(Debug)]
struct Run {
    work: GemmWork,
    timing: GemmTiming,
    /// The fold whose read pieces are in `read_pieces` (or the next to load).
    read_fold: u64,
    read_pieces: VecDeque<(u64, SramRequest)>,
    /// (fold, issue cycle) of every read in flight, oldest first.
    reads_in_flight: VecDeque<(u64, Cycle)>,
    /// Folds whose outputs are queued (all before `write_fold`).
    write_fold: u64,
    write_pieces: VecDeque<(u64, SramRequest)>,
    writes_in_flight: VecDeque<u64>,
    array_done: bool,
}

impl Run {
    /// Folds whose operands have all arrived (all before the returned one).
    fn folds_arrived(&self) -> u64 {
        self.reads_in_flight
            .front()
            .map_or(self.read_fold, |&(fold, _)| fold)
    }

    /// Folds whose outputs have all been written.
    fn folds_written(&self) -> u64 {
        let in_flight = self.writes_in_flight.front().copied();
        let queued = self.write_pieces.front().map(|&(fold, _)| fold);
        in_flight.or(queued).unwrap_or(self.write_fold)
    }

    fn fold_end(&self, fold: u64) -> u64 {
        self.timing.fold_start(fold) + self.timing.single_fold_cycles
    }

    /// Folds finished at progress `p`.
    fn folds_finished(&self, p: u64) -> u64 {
        if p >= self.timing.total_cycles {
            return self.timing.folds;
        }
        let t = &self.timing;
        // fold_end(f) ≤ p ⇔ f·interval ≤ p − single.
        match p.checked_sub(t.single_fold_cycles) {
            Some(x) => (x / t.fold_interval_cycles + 1).min(t.folds),
            None => 0,
        }
    }

    /// The fold that starts exactly at progress `p`, if one does.
    fn fold_starting_at(&self, p: u64) -> Option<u64> {
        let interval = self.timing.fold_interval_cycles;
        (p.is_multiple_of(interval)
            && p / interval < self.timing.folds
            && p < self.timing.total_cycles)
            .then_some(p / interval)
    }

    fn all_written(&self) -> bool {
        self.write_fold == self.timing.folds
            && self.write_pieces.is_empty()
            && self.writes_in_flight.is_empty()
    }
}

pub static STAT_SRAM_READ_BYTES: StatDecl = StatDecl {
    name: "sram_read_bytes",
    unit: "bytes",
    description: "Operand bytes the PE array read from the scratchpad",
};
pub static STAT_SRAM_WRITE_BYTES: StatDecl = StatDecl {
    name: "sram_write_bytes",
    unit: "bytes",
    description: "Output bytes the PE array wrote to the scratchpad",
};

/// The PE array and its operand feeder.
#[derive(Debug)]
pub struct PeUnit {
    array: PeArray,
    element_bytes: u64,
    link: SramLinkTiming,
    reads: TimedQueue<SramRequest>,
    writes: TimedQueue<SramRequest>,
    done: TimedQueue<u64>,
    run: Option<Run>,
    waiting_for_token: bool,
    last_tick: Option<Cycle>,
    /// Scratch lists of a fold's spans, reused so that no fold allocates.
    span_reads: Vec<SramSpan>,
    span_writes: Vec<SramSpan>,
    next_tag: u64,
    read_bytes: u64,
    write_bytes: u64,
}

impl PeUnit {
    pub fn new(hw: &hwconfig::HwConfig, link: SramLinkTiming) -> Self {
        PeUnit {
            array: PeArray::from_config(hw),
            element_bytes: hw.core.element_bytes,
            link,
            reads: TimedQueue::new(REQUEST_QUEUE, 1),
            writes: TimedQueue::new(REQUEST_QUEUE, 1),
            done: TimedQueue::new(4, 1),
            run: None,
            waiting_for_token: false,
            last_tick: None,
            span_reads: Vec::new(),
            span_writes: Vec::new(),
            next_tag: 0,
            read_bytes: 0,
            write_bytes: 0,
        }
    }

    pub fn array(&self) -> &PeArray {
        &self.array
    }

    /// Whether a new GEMM can start (the previous one has completed).
    pub fn is_free(&self) -> bool {
        self.run.is_none()
    }

    /// Starts `work` in cycle `now`; the array waits for fold 0's operands.
    ///
    /// # Panics
    /// If a GEMM is still running (the driver issues one at a time).
    pub fn start(&mut self, now: Cycle, work: GemmWork) {
        assert!(self.run.is_none(), "the PE unit runs one GEMM at a time");
        let timing = self.array.timing(work.job.shape, work.job.dataflow);
        self.array.set_idle_reason(now, None);
        self.array.start(now, work.job);
        self.array
            .set_stall(now, Some(StallReason::OperandNotReady));
        self.run = Some(Run {
            work,
            timing,
            read_fold: 0,
            read_pieces: VecDeque::new(),
            reads_in_flight: VecDeque::new(),
            write_fold: 0,
            write_pieces: VecDeque::new(),
            writes_in_flight: VecDeque::new(),
            array_done: false,
        });
    }

    /// Tells the unit whether, while it has no GEMM, its next instruction
    /// waits on a token (charged `wait_token`) or there is none (idle).
    pub fn set_waiting_for_token(&mut self, now: Cycle, waiting: bool) {
        if self.run.is_none() && waiting != self.waiting_for_token {
            self.array
                .set_idle_reason(now, waiting.then_some(StallReason::WaitToken));
        }
        self.waiting_for_token = waiting;
    }

    /// The id of a GEMM whose last output is written, visible at `now`.
    pub fn pop_done(&mut self, now: Cycle) -> Option<u64> {
        self.done.pop(now)
    }

    /// Schedule progress of the running GEMM: (executed cycles, total).
    pub fn progress(&self) -> Option<(u64, u64)> {
        let run = self.run.as_ref()?;
        let p = self
            .array
            .progress_cycles()
            .unwrap_or(run.timing.total_cycles);
        Some((p, run.timing.total_cycles))
    }

    fn progress_now(&self) -> u64 {
        self.progress().map_or(0, |(p, _)| p)
    }

    /// Why fold `fold` cannot start yet at `now`, or `None` if it can.
    fn hold_reason(&self, run: &Run, fold: u64, p: u64, now: Cycle) -> Option<StallReason> {
        if run.folds_arrived() <= fold {
            let late = run
                .reads_in_flight
                .front()
                .is_some_and(|&(_, issued)| issued + self.link.read_round_trip_cycles <= now);
            return Some(if late {
                StallReason::SramBankConflict
            } else {
                StallReason::OperandNotReady
            });
        }
        if run.folds_finished(p) - run.folds_written() > MAX_PENDING_WRITE_FOLDS {
            return Some(StallReason::OutputBackpressure);
        }
        None
    }

    fn issue_requests(&mut self, now: Cycle, p: u64) {
        let eb = self.element_bytes;
        let (line_bytes, window_bytes) = (self.link.line_bytes, self.link.max_request_bytes);
        let PeUnit {
            run: Some(run),
            reads,
            writes,
            span_reads,
            span_writes,
            next_tag,
            read_bytes,
            write_bytes,
            ..
        } = self
        else {
            return;
        };
        let current = (p / run.timing.fold_interval_cycles).min(run.timing.folds);
        while run.read_fold < run.timing.folds
            && run.read_fold <= current + LOOKAHEAD_FOLDS
            && !reads.is_full()
        {
            if run.read_pieces.is_empty() {
                run.work
                    .fold_spans(&run.timing, run.read_fold, eb, span_reads, span_writes);
                pieces(
                    span_reads,
                    line_bytes,
                    window_bytes,
                    run.read_fold,
                    &mut run.read_pieces,
                );
            }
            while let Some(&(fold, piece)) = run.read_pieces.front() {
                if push_request(reads, next_tag, now, piece).is_err() {
                    break;
                }
                *read_bytes += piece.total_bytes();
                run.read_pieces.pop_front();
                run.reads_in_flight.push_back((fold, now));
            }
            if run.read_pieces.is_empty() {
                run.read_fold += 1;
            }
        }
        while run.write_fold < run.folds_finished(p) {
            run.work
                .fold_spans(&run.timing, run.write_fold, eb, span_reads, span_writes);
            pieces(
                span_writes,
                line_bytes,
                window_bytes,
                run.write_fold,
                &mut run.write_pieces,
            );
            run.write_fold += 1;
        }
        while let Some(&(fold, piece)) = run.write_pieces.front() {
            if push_request(writes, next_tag, now, piece).is_err() {
                break;
            }
            *write_bytes += piece.total_bytes();
            run.write_pieces.pop_front();
            run.writes_in_flight.push_back(fold);
        }
    }

    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.array.account_until(end)
    }

    pub fn stats(&self) -> Vec<StatValue> {
        let mut stats = self.array.stats();
        stats.push(STAT_SRAM_READ_BYTES.value(self.read_bytes as f64));
        stats.push(STAT_SRAM_WRITE_BYTES.value(self.write_bytes as f64));
        stats
    }
}

/// Pushes `request` with the next tag; gives it back when the queue is full.
fn push_request(
    queue: &mut TimedQueue<SramRequest>,
    next_tag: &mut u64,
    now: Cycle,
    request: SramRequest,
) -> Result<(), SramRequest> {
    queue.push(
        now,
        SramRequest {
            tag: *next_tag,
            ..request
        },
    )?;
    *next_tag += 1;
    Ok(())
}

impl Component for PeUnit {
    fn tick(&mut self, now: Cycle) {
        let p = self.progress_now();
        if let Some(run) = &self.run {
            if self.array.stall().is_some() {
                if let Some(fold) = run.fold_starting_at(p) {
                    if self.hold_reason(run, fold, p, now).is_none() {
                        self.array.set_stall(now, None);
                    }
                }
            }
        }
        self.array.tick(now);
        self.last_tick = Some(now);
        if self.array.take_completed().is_some() {
            if let Some(run) = self.run.as_mut() {
                run.array_done = true;
            }
            // Until its outputs are written, the finished GEMM holds the unit.
            self.array
                .set_idle_reason(now + 1, Some(StallReason::OutputBackpressure));
        }
        let p = self.progress_now();
        self.issue_requests(now, p);
        let Some(run) = &self.run else { return };
        if !run.array_done {
            if let Some(fold) = run.fold_starting_at(p) {
                if let Some(reason) = self.hold_reason(run, fold, p, now) {
                    self.array.set_stall(now + 1, Some(reason));
                }
            }
        } else if run.all_written() {
            let id = run.work.job.id;
            self.run = None;
            let _ = self.done.push(now, id);
            self.array.set_idle_reason(
                now + 1,
                self.waiting_for_token.then_some(StallReason::WaitToken),
            );
        }
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        let mut next = [
            self.reads.next_ready_cycle(),
            self.writes.next_ready_cycle(),
            self.done.next_ready_cycle(),
        ]
        .into_iter()
        .flatten()
        .min();
        let mut add = |c: Option<Cycle>| {
            if let Some(c) = c {
                next = Some(next.map_or(c, |n| n.min(c)));
            }
        };
        if let (Some(run), Some(last)) = (&self.run, self.last_tick) {
            match self.array.stall() {
                _ if run.array_done => {}
                None => {
                    let p = self.progress_now();
                    // Cycle in which progress reaches schedule point `q`.
                    let reach = |q: u64| (q > p).then(|| last + (q - p));
                    let interval = run.timing.fold_interval_cycles;
                    add(reach((p / interval + 1) * interval));
                    if run.write_fold < run.timing.folds {
                        add(reach(run.fold_end(run.write_fold)));
                    }
                    add(self.array.next_event(now));
                }
                // The awaited operands turn from latency into a conflict.
                Some(StallReason::OperandNotReady) => add(run
                    .reads_in_flight
                    .front()
                    .map(|&(_, issued)| issued + self.link.read_round_trip_cycles)),
                Some(_) => {}
            }
        }
        next.map(|c| c.max(now))
    }
}

impl SramUser for PeUnit {
    fn sram_clients(&self) -> &'static [SramClient] {
        &[SramClient::PeRead, SramClient::PeWrite]
    }

    fn sram_requests(&mut self, client: SramClient) -> &mut TimedQueue<SramRequest> {
        match client {
            SramClient::PeWrite => &mut self.writes,
            _ => &mut self.reads,
        }
    }

    fn deliver_sram_response(&mut self, client: SramClient, _response: SramResponse, _now: Cycle) {
        if let Some(run) = self.run.as_mut() {
            match client {
                SramClient::PeWrite => {
                    run.writes_in_flight.pop_front();
                }
                _ => {
                    run.reads_in_flight.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(spans: &[SramSpan]) -> Vec<(u64, u64, u64, u64)> {
        let mut out = VecDeque::new();
        pieces(spans, 2048, 8128, 3, &mut out);
        out.iter()
            .map(|&(fold, r)| {
                assert_eq!(fold, 3);
                (r.addr, r.bytes, r.count, r.stride_bytes)
            })
            .collect()
    }

    #[test]
    fn rows_back_to_back_are_one_range_cut_at_lines() {
        // 32 rows of 128 bytes, contiguous: 4 KiB from 1024, cut at 2048 and 4096.
        let rows: Vec<SramSpan> = (0..32)
            .map(|i| SramSpan::new(1024 + 128 * i, 128))
            .collect();
        assert_eq!(
            requests(&rows),
            vec![
                (1024, 1024, 1, 1024),
                (2048, 2048, 1, 2048),
                (4096, 1024, 1, 1024)
            ]
        );
    }

    #[test]
    fn a_column_block_is_one_strided_request() {
        // Half rows of a 64-column tile (64 of 128 bytes per row), then a
        // different shape that cannot join.
        let mut spans: Vec<SramSpan> = (0..32).map(|i| SramSpan::new(i * 128, 64)).collect();
        spans.push(SramSpan::new(8192, 32));
        assert_eq!(requests(&spans), vec![(0, 64, 32, 128), (8192, 32, 1, 32)]);
        // A window wider than 8128 bytes splits the column: 63 gaps of 128
        // and a last row of 64 make exactly 8128.
        let tall: Vec<SramSpan> = (0..80).map(|i| SramSpan::new(i * 128, 64)).collect();
        assert_eq!(
            requests(&tall),
            vec![(0, 64, 64, 128), (64 * 128, 64, 16, 128)]
        );
    }
}
