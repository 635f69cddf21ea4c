//! Statistics of the cycle-level DRAM, each declared once.

use crate::CycleDram;
use simkit::{Cycle, StallReason, StatDecl, StatValue};

pub static READS: StatDecl = StatDecl {
    name: "reads",
    unit: "requests",
    description:
        "Read requests completed or scheduled, including reads answered from the write queue.",
};
pub static WRITES: StatDecl = StatDecl {
    name: "writes",
    unit: "requests",
    description: "Write requests performed or merged into a queued write.",
};
pub static FORWARDED_READS: StatDecl = StatDecl {
    name: "forwarded_reads",
    unit: "requests",
    description: "Reads answered from a queued write to the same burst, without a DRAM access.",
};
pub static MERGED_WRITES: StatDecl = StatDecl {
    name: "merged_writes",
    unit: "requests",
    description: "Writes merged into a queued write to the same burst.",
};
pub static ROW_HITS: StatDecl = StatDecl {
    name: "row_hits",
    unit: "requests",
    description: "Requests whose row was open when the controller first acted for them.",
};
pub static ROW_MISSES: StatDecl = StatDecl {
    name: "row_misses",
    unit: "requests",
    description: "Requests that needed an ACT to a closed bank.",
};
pub static ROW_CONFLICTS: StatDecl = StatDecl {
    name: "row_conflicts",
    unit: "requests",
    description: "Requests that needed a PRE of another open row, then an ACT.",
};
pub static ACTIVATES: StatDecl = StatDecl {
    name: "activates",
    unit: "commands",
    description: "ACT commands.",
};
pub static PRECHARGES: StatDecl = StatDecl {
    name: "precharges",
    unit: "commands",
    description: "PRE and PREA commands.",
};
pub static REFRESHES: StatDecl = StatDecl {
    name: "refreshes",
    unit: "commands",
    description: "All-bank REF commands.",
};
pub static AVG_READ_LATENCY: StatDecl = StatDecl {
    name: "avg_read_latency_cycles",
    unit: "memory cycles",
    description: "Mean cycles from accepting a read to its data reaching the requester.",
};
pub static TOTAL_CYCLES: StatDecl = StatDecl {
    name: "total_cycles",
    unit: "channel-cycles",
    description: "Memory cycles simulated, summed over channels.",
};
pub static BUSY_CYCLES: StatDecl = StatDecl {
    name: "busy_cycles",
    unit: "channel-cycles",
    description: "Cycles a channel's data bus moved a burst.",
};
pub static IDLE_CYCLES: StatDecl = StatDecl {
    name: "idle_cycles",
    unit: "channel-cycles",
    description: "Cycles a channel had no request queued or in flight.",
};
pub static STALL_DRAM_BANDWIDTH_CYCLES: StatDecl = StatDecl {
    name: "stall_dram_bandwidth_cycles",
    unit: "channel-cycles",
    description: "Cycles a channel had requests but its data bus was idle (bank timing, refresh, turnarounds).",
};

/// Every declared statistic of the cycle-level DRAM.
pub static ALL: [&StatDecl; 15] = [
    &READS,
    &WRITES,
    &FORWARDED_READS,
    &MERGED_WRITES,
    &ROW_HITS,
    &ROW_MISSES,
    &ROW_CONFLICTS,
    &ACTIVATES,
    &PRECHARGES,
    &REFRESHES,
    &AVG_READ_LATENCY,
    &TOTAL_CYCLES,
    &BUSY_CYCLES,
    &IDLE_CYCLES,
    &STALL_DRAM_BANDWIDTH_CYCLES,
];

impl CycleDram {
    /// Values of [`ALL`] for memory cycles `0..end`.
    pub fn stats(&self, end: Cycle) -> Vec<StatValue> {
        let c = self.counters();
        let accounts = self.accounts(end);
        let sum =
            |f: &dyn Fn(&simkit::CycleAccount) -> u64| accounts.iter().map(f).sum::<u64>() as f64;
        let avg_latency = if c.reads == 0 {
            0.0
        } else {
            c.read_latency_cycles as f64 / c.reads as f64
        };
        vec![
            READS.value(c.reads as f64),
            WRITES.value(c.writes as f64),
            FORWARDED_READS.value(c.forwarded_reads as f64),
            MERGED_WRITES.value(c.merged_writes as f64),
            ROW_HITS.value(c.row_hits as f64),
            ROW_MISSES.value(c.row_misses as f64),
            ROW_CONFLICTS.value(c.row_conflicts as f64),
            ACTIVATES.value(c.activates as f64),
            PRECHARGES.value(c.precharges as f64),
            REFRESHES.value(c.refreshes as f64),
            AVG_READ_LATENCY.value(avg_latency),
            TOTAL_CYCLES.value((end * accounts.len() as u64) as f64),
            BUSY_CYCLES.value(sum(&|a| a.busy_cycles())),
            IDLE_CYCLES.value(sum(&|a| a.idle_cycles())),
            STALL_DRAM_BANDWIDTH_CYCLES.value(sum(&|a| a.stall_cycles(StallReason::DramBandwidth))),
        ]
    }
}
