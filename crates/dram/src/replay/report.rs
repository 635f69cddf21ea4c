use crate::controller::ChannelCounters;
use simkit::Cycle;
use std::fmt;

/// The result of a trace replay: the row of `dram.csv` (design §8).
/// Cycles and latencies count the device's clock (tCK for cycle-level DRAM).
#[derive(Clone, Debug, PartialEq)]
pub struct DramReport {
    pub requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub cycles: Cycle,
    /// 10⁹ bytes per second.
    pub bandwidth_gbps: f64,
    /// Percent of the device's peak.
    pub pct_of_peak: f64,
    pub avg_read_latency_cycles: f64,
    pub avg_read_latency_ns: f64,
    pub row_hits: u64,
    pub row_misses: u64,
    pub row_conflicts: u64,
    pub activates: u64,
    pub refreshes: u64,
}

impl DramReport {
    /// The columns of `dram.csv`, in order.
    pub const COLUMNS: [&'static str; 13] = [
        "requests",
        "reads",
        "writes",
        "cycles",
        "bandwidth_gbps",
        "pct_of_peak",
        "avg_read_latency_cycles",
        "avg_read_latency_ns",
        "row_hits",
        "row_misses",
        "row_conflicts",
        "activates",
        "refreshes",
    ];

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        reads: u64,
        writes: u64,
        cycles: Cycle,
        burst_bytes: u64,
        cycle_ns: f64,
        peak_bytes_per_second: f64,
        read_latency_sum: u64,
        counters: &ChannelCounters,
    ) -> Self {
        let requests = reads + writes;
        let seconds = cycles as f64 * cycle_ns * 1e-9;
        let bytes_per_second = if cycles == 0 {
            0.0
        } else {
            (requests * burst_bytes) as f64 / seconds
        };
        let avg_read_latency_cycles = if reads == 0 {
            0.0
        } else {
            read_latency_sum as f64 / reads as f64
        };
        DramReport {
            requests,
            reads,
            writes,
            cycles,
            bandwidth_gbps: bytes_per_second / 1e9,
            pct_of_peak: 100.0 * bytes_per_second / peak_bytes_per_second,
            avg_read_latency_cycles,
            avg_read_latency_ns: avg_read_latency_cycles * cycle_ns,
            row_hits: counters.row_hits,
            row_misses: counters.row_misses,
            row_conflicts: counters.row_conflicts,
            activates: counters.activates,
            refreshes: counters.refreshes,
        }
    }

    /// The values of [`DramReport::COLUMNS`], in order (counts are exact in f64).
    pub fn values(&self) -> [f64; 13] {
        [
            self.requests as f64,
            self.reads as f64,
            self.writes as f64,
            self.cycles as f64,
            self.bandwidth_gbps,
            self.pct_of_peak,
            self.avg_read_latency_cycles,
            self.avg_read_latency_ns,
            self.row_hits as f64,
            self.row_misses as f64,
            self.row_conflicts as f64,
            self.activates as f64,
            self.refreshes as f64,
        ]
    }
}

/// One line per column, fractions to three decimals.
impl fmt::Display for DramReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = Self::COLUMNS.iter().map(|c| c.len()).max().unwrap_or(0);
        for (name, value) in Self::COLUMNS.iter().zip(self.values()) {
            if value.fract() == 0.0 {
                writeln!(f, "{name:<width$}  {value}")?;
            } else {
                writeln!(f, "{name:<width$}  {value:.3}")?;
            }
        }
        Ok(())
    }
}
