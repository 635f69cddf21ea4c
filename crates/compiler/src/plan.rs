//! What to compile: the dataflow request from the command line
//! ([`DataflowSpec`]) and the fully resolved [`Plan`].

use hwconfig::{config_enum, HwConfig, PeDataflow};

config_enum! {
    /// How L = Q·Kᵀ, softmax and A = P·V are scheduled.
    pub enum Dataflow {
        /// Three separate phases; the scores live in SRAM if they fit, else in DRAM.
        Unfused = "unfused",
        /// FLAT: fused L → three-pass softmax → A per tile of rows.
        Flat = "flat",
        /// One-pass online softmax over R×C blocks.
        Flash = "flash",
    }
}

config_enum! {
    /// FLAT's fusion granularity: the rows one fused tile covers.
    pub enum Gran {
        /// Every batch and head at once.
        M = "m",
        /// One batch element, every head.
        B = "b",
        /// One head.
        H = "h",
        /// R rows of one head.
        R = "r",
    }
}

/// Whether the tiling is fixed by flags/defaults or searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    Fixed,
    Auto,
}

/// The dataflow flags of `flatsim compile` / `run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataflowSpec {
    pub dataflow: Dataflow,
    pub gran: Option<Gran>,
    pub rows: Option<u64>,
    pub cols: Option<u64>,
    pub mapping: Mapping,
    /// Whether plans may stream K and V from DRAM (`--spill`); `None`
    /// leaves it to the workload file, which allows it unless it says
    /// `spill = false`.
    pub spill: Option<bool>,
}

impl DataflowSpec {
    pub fn new(dataflow: Dataflow) -> Self {
        DataflowSpec {
            dataflow,
            gran: None,
            rows: None,
            cols: None,
            mapping: Mapping::Fixed,
            spill: None,
        }
    }
}

/// A fully resolved plan: everything lowering needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub dataflow: Dataflow,
    /// FLAT's granularity; `None` for `unfused` and `flash`.
    pub gran: Option<Gran>,
    /// Rows per tile R (query rows); N for flat m/b/h.
    pub rows: u64,
    /// Keys per block C (flash, unfused, and flat's K/V chunk when spilling); N otherwise.
    pub cols: u64,
    /// PE dataflow of L = Q·Kᵀ.
    pub l_dataflow: PeDataflow,
    /// PE dataflow of A = P·V.
    pub a_dataflow: PeDataflow,
    /// flat: K and V are streamed in chunks of `cols` rows instead of kept resident.
    pub spill: bool,
    /// unfused: the N×N scores of every head stay in SRAM (else they go to DRAM).
    pub scores_in_sram: bool,
    /// unfused: rows per softmax block when the scores are in DRAM.
    pub softmax_rows: u64,
    /// flat: slots of the score buffer `l`. With 2, tile i+1's L (and tile
    /// i−1's A) run on the PE array while the vector unit runs tile i's
    /// softmax; with 1, the two units take turns. 1 for the other dataflows.
    pub score_slots: u32,
}

impl Plan {
    /// A short label, e.g. `flat gran=r rows=64 cols=512 l=os a=os slots=2`.
    pub fn label(&self) -> String {
        let mut s = format!("{}", self.dataflow);
        if let Some(g) = self.gran {
            s.push_str(&format!(" gran={g}"));
        }
        s.push_str(&format!(
            " rows={} cols={} l={} a={}",
            self.rows, self.cols, self.l_dataflow, self.a_dataflow
        ));
        if self.dataflow == Dataflow::Flat {
            s.push_str(&format!(" slots={}", self.score_slots));
        }
        if self.spill {
            s.push_str(" spill");
        }
        if self.dataflow == Dataflow::Unfused {
            if self.scores_in_sram {
                s.push_str(" scores=sram");
            } else {
                s.push_str(&format!(" scores=dram softmax_rows={}", self.softmax_rows));
            }
        }
        s
    }

    /// Whether the PE array and the vector unit work at the same time: flash
    /// (the P·V GEMM is delayed one block) and flat with two score slots.
    /// Flat with one score slot makes them take turns; unfused runs L,
    /// softmax and A as separate phases over every head, wherever its
    /// scores live.
    pub fn overlaps_pe_and_vector(&self) -> bool {
        match self.dataflow {
            Dataflow::Flat => self.score_slots > 1,
            Dataflow::Flash => true,
            Dataflow::Unfused => false,
        }
    }

    /// Default tile edge: the PE array's rows, at most `n`.
    pub fn default_tile(hw: &HwConfig, n: u64) -> u64 {
        hw.pe_array.rows.min(n)
    }
}
