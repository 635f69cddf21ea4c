//! What a run reports (design §6, §8), free of any file format.

use crate::root::RootAccount;
use simkit::{Cycle, CycleAccount, StatDecl, StatValue};

/// One unit's cycle account and statistics.
#[derive(Debug, Clone)]
pub struct UnitReport {
    /// `pe_array`, `vector`, `dma`, `sram` or `dram`.
    pub name: &'static str,
    pub account: CycleAccount,
    /// Its stall cycles split by root cause (`root_<resource>_cycles` at the
    /// end of `stats`).
    pub roots: RootAccount,
    pub stats: Vec<StatValue>,
}

/// Activity within one epoch of `--epoch-cycles`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    pub cycle_start: Cycle,
    pub cycle_end: Cycle,
    pub pe_util: f64,
    pub vector_util: f64,
    pub dram_bw_util: f64,
    pub sram_bytes_live: u64,
}

/// Receives the timeline's epochs in order, as the run produces them, so
/// that no run keeps its timeline in memory (it grows with simulated time).
pub trait EpochSink {
    fn record(&mut self, epoch: &Epoch);
}

/// Energy by source, from the `[energy]` table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Energy {
    pub mac_pj: f64,
    pub sram_pj: f64,
    pub dram_pj: f64,
    pub vector_pj: f64,
}

impl Energy {
    pub fn total_pj(&self) -> f64 {
        self.mac_pj + self.sram_pj + self.dram_pj + self.vector_pj
    }
}

pub static STAT_ENERGY: [StatDecl; 5] = [
    StatDecl {
        name: "mac_energy",
        unit: "pJ",
        description: "Energy of the PE array's MACs",
    },
    StatDecl {
        name: "sram_energy",
        unit: "pJ",
        description: "Energy of scratchpad reads and writes",
    },
    StatDecl {
        name: "dram_energy",
        unit: "pJ",
        description: "Energy of DRAM traffic",
    },
    StatDecl {
        name: "vector_energy",
        unit: "pJ",
        description: "Energy of vector element operations",
    },
    StatDecl {
        name: "total_energy",
        unit: "pJ",
        description: "Sum of all energy",
    },
];

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub cycles: Cycle,
    pub seconds: f64,
    pub units: Vec<UnitReport>,
    /// Useful MACs / (PEs · cycles).
    pub pe_util: f64,
    /// Lane operations / (lanes · cycles).
    pub vector_util: f64,
    pub dram_read_bytes: u64,
    pub dram_write_bytes: u64,
    /// DRAM bytes / (peak bandwidth · seconds).
    pub dram_bw_util: f64,
    pub sram_peak_bytes: u64,
    pub energy: Energy,
    /// With functional simulation: max |O − reference|.
    pub max_abs_error: Option<f64>,
    /// Instructions executed per unit (dma, pe, vector).
    pub instructions: [u64; 3],
}

impl RunReport {
    pub fn unit(&self, name: &str) -> Option<&UnitReport> {
        self.units.iter().find(|u| u.name == name)
    }

    /// The energy breakdown as statistics.
    pub fn energy_stats(&self) -> Vec<StatValue> {
        let e = &self.energy;
        [e.mac_pj, e.sram_pj, e.dram_pj, e.vector_pj, e.total_pj()]
            .into_iter()
            .zip(&STAT_ENERGY)
            .map(|(value, decl)| decl.value(value))
            .collect()
    }
}
