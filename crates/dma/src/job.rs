/// Which way a tile moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// DRAM → SRAM.
    Load,
    /// SRAM → DRAM.
    Store,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Load, Direction::Store];

    pub const fn name(self) -> &'static str {
        match self {
            Direction::Load => "load",
            Direction::Store => "store",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// One tile transfer: `rows` rows of `row_bytes`, the rows `dram_stride_bytes`
/// apart in DRAM from `dram_addr` and contiguous in SRAM from `sram_addr`.
/// The driver translates a DMA instruction into a job; the engine does not
/// know the ISA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaJob {
    /// Chosen by the driver; reported back when the job is done.
    pub id: u64,
    pub direction: Direction,
    pub dram_addr: u64,
    pub rows: u64,
    pub row_bytes: u64,
    pub dram_stride_bytes: u64,
    pub sram_addr: u64,
}

impl DmaJob {
    pub fn bytes(&self) -> u64 {
        self.rows * self.row_bytes
    }
}

/// One burst of a job: at most one DRAM burst, never crossing a
/// burst-aligned DRAM boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Burst {
    pub(crate) dram_addr: u64,
    pub(crate) sram_addr: u64,
    pub(crate) bytes: u64,
}

/// Walks a job's rows and hands out its bursts in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BurstCursor {
    job: DmaJob,
    row: u64,
    offset: u64,
}

impl BurstCursor {
    pub(crate) fn new(job: DmaJob) -> Self {
        BurstCursor {
            job,
            row: 0,
            offset: 0,
        }
    }

    pub(crate) fn peek(&self, burst_bytes: u64) -> Option<Burst> {
        if self.row >= self.job.rows {
            return None;
        }
        let dram_addr = self.job.dram_addr + self.row * self.job.dram_stride_bytes + self.offset;
        // Bursts are a power of two in practice: spare the division.
        let within = if burst_bytes.is_power_of_two() {
            dram_addr & (burst_bytes - 1)
        } else {
            dram_addr % burst_bytes
        };
        let to_boundary = burst_bytes - within;
        Some(Burst {
            dram_addr,
            sram_addr: self.job.sram_addr + self.row * self.job.row_bytes + self.offset,
            bytes: (self.job.row_bytes - self.offset).min(to_boundary),
        })
    }

    pub(crate) fn advance(&mut self, bytes: u64) {
        self.offset += bytes;
        if self.offset == self.job.row_bytes {
            self.row += 1;
            self.offset = 0;
        }
    }

    /// Every burst handed out.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.row >= self.job.rows
    }

    /// SRAM address of the next burst.
    pub(crate) fn sram_addr(&self) -> u64 {
        self.job.sram_addr + self.row * self.job.row_bytes + self.offset
    }
}

/// How a job is cut into lines: up to `max_bursts` consecutive bursts whose
/// SRAM bytes lie in one aligned SRAM line (a burst that straddles two is a
/// line of its own), so that each line is one SRAM request served in one
/// cycle of the banks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineSplit {
    pub(crate) burst_bytes: u64,
    pub(crate) max_bursts: u32,
    pub(crate) sram_line_bytes: u64,
}

impl LineSplit {
    /// The line starting at `cursor`: its bursts, its bytes, and the cursor after it.
    pub(crate) fn next(&self, cursor: &BurstCursor) -> Option<(u32, u64, BurstCursor)> {
        let mut end = *cursor;
        let first = end.peek(self.burst_bytes)?;
        let line_end = (first.sram_addr / self.sram_line_bytes + 1) * self.sram_line_bytes;
        let (mut bursts, mut bytes) = (0, 0);
        while bursts < self.max_bursts {
            let Some(burst) = end.peek(self.burst_bytes) else {
                break;
            };
            if bursts > 0 && burst.sram_addr + burst.bytes > line_end {
                break;
            }
            bursts += 1;
            bytes += burst.bytes;
            end.advance(burst.bytes);
        }
        Some((bursts, bytes, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stay_within_an_sram_line() {
        // Rows of 100 bytes, 64-byte bursts, lines of at most 4 bursts within 256-byte SRAM lines.
        let job = DmaJob {
            id: 0,
            direction: Direction::Load,
            dram_addr: 1000,
            rows: 4,
            row_bytes: 100,
            dram_stride_bytes: 4096,
            sram_addr: 64,
        };
        let split = LineSplit {
            burst_bytes: 64,
            max_bursts: 4,
            sram_line_bytes: 256,
        };
        let mut cursor = BurstCursor::new(job);
        let mut lines = Vec::new();
        while let Some((bursts, bytes, end)) = split.next(&cursor) {
            lines.push((cursor.sram_addr(), bursts, bytes));
            cursor = end;
        }
        assert!(cursor.is_exhausted());
        // Bursts in SRAM, three per row: [64,88) [88,152) [152,164) | [164,188)
        // [188,252) [252,264) | [264,288) [288,352) [352,364) | [364,388)
        // [388,452) [452,464). [252,264) straddles the SRAM line at 256.
        assert_eq!(
            lines,
            vec![
                (64, 4, 124),
                (188, 1, 64),
                (252, 1, 12),
                (264, 4, 124),
                (388, 2, 76)
            ]
        );
    }

    #[test]
    fn rows_split_at_burst_boundaries() {
        let job = DmaJob {
            id: 0,
            direction: Direction::Load,
            dram_addr: 1000,
            rows: 2,
            row_bytes: 100,
            dram_stride_bytes: 4096,
            sram_addr: 64,
        };
        let mut cursor = BurstCursor::new(job);
        let mut bursts = Vec::new();
        while let Some(b) = cursor.peek(64) {
            bursts.push((b.dram_addr, b.sram_addr, b.bytes));
            cursor.advance(b.bytes);
        }
        // 1000 = 15·64 + 40: 24 bytes to the boundary, then 64, then 12.
        assert_eq!(
            bursts,
            vec![
                (1000, 64, 24),
                (1024, 88, 64),
                (1088, 152, 12),
                (5096, 164, 24),
                (5120, 188, 64),
                (5184, 252, 12)
            ]
        );
    }
}
