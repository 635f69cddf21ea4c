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

    /// The values of [`DramReport::COLUMNS`] as CSV fields: integers, and
    /// fractions with a fixed number of decimals so output is byte-stable.
    pub fn csv_values(&self) -> [String; 13] {
        [
            self.requests.to_string(),
            self.reads.to_string(),
            self.writes.to_string(),
            self.cycles.to_string(),
            format!("{:.4}", self.bandwidth_gbps),
            format!("{:.3}", self.pct_of_peak),
            format!("{:.3}", self.avg_read_latency_cycles),
            format!("{:.3}", self.avg_read_latency_ns),
            self.row_hits.to_string(),
            self.row_misses.to_string(),
            self.row_conflicts.to_string(),
            self.activates.to_string(),
            self.refreshes.to_string(),
        ]
    }

    /// Header and one row.
    pub fn to_csv(&self) -> String {
        format!(
            "{}\n{}\n",
            Self::COLUMNS.join(","),
            self.csv_values().join(",")
        )
    }
}

impl fmt::Display for DramReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = Self::COLUMNS.iter().map(|c| c.len()).max().unwrap_or(0);
        for (name, value) in Self::COLUMNS.iter().zip(self.csv_values()) {
            writeln!(f, "{name:<width$}  {value}")?;
        }
        Ok(())
    }
}
