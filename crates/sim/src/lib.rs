//! The simulator driver: wires the units (PE array, scratchpad, vector
//! unit, DMA engine, DRAM), executes a compiled [`isa::Program`] cycle by
//! cycle with exact fast-forward, checks that every unit's cycles add up,
//! and reports utilization, stalls, traffic and energy.
//!
//! Each simulated cycle has two phases. In the *link phase* the driver takes
//! the completions visible now (signalling their tokens; DMA instructions
//! retire in order), moves requests and responses between the units and the
//! scratchpad (`sram::exchange`), issues at most one instruction per unit
//! whose tokens are satisfied, and tells idle units whether they wait on a
//! token. In the *tick phase* every unit advances one cycle; since every
//! queue has a latency of at least one cycle, tick order does not matter.
//! With fast-forward the driver then jumps to the earliest cycle at which
//! any unit can change state (`Component::next_event`), which gives
//! byte-identical results to stepping every cycle.
//!
//! `sim` does not know files or the command line.

mod functional;
mod machine;
mod memory;
mod pe_unit;
mod report;
mod root;
mod stall_trace;
mod tokens;
mod translate;

pub use memory::MemoryModel;
pub use pe_unit::{LOOKAHEAD_FOLDS, MAX_PENDING_WRITE_FOLDS};
pub use report::{Energy, Epoch, EpochSink, RunReport, UnitReport};
pub use root::{Resource, RootAccount, ROOT_STATS};

use simkit::{Cycle, TraceSink};

/// How to run.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Jump over cycles in which nothing can change (same results, faster).
    pub fast_forward: bool,
    /// Functional simulation with Q, K, V drawn from this seed.
    pub functional_seed: Option<u64>,
    /// Timeline epochs of this many cycles, sent to `timeline`.
    pub epoch_cycles: Option<Cycle>,
    /// Receives each epoch of `epoch_cycles` as soon as it ends.
    pub timeline: Option<Box<dyn EpochSink + Send>>,
    /// Receives one event per executed instruction.
    pub trace: Option<&'a mut dyn TraceSink>,
    /// Called with the current cycle now and then (for progress bars).
    pub progress: Option<&'a mut dyn FnMut(Cycle)>,
    /// Receives every command of a cycle-level DRAM (`dram.model = "cycle"`).
    pub dram_commands: Option<Box<dyn dram::spec::CommandSink + Send>>,
    /// Give up (`SimError::GaveUp`) once this cycle has passed without the
    /// run finishing: it would take more cycles than that. Comparing
    /// candidate plans needs no more of a run than that.
    pub give_up_after: Option<Cycle>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("fast_forward", &self.fast_forward)
            .field("functional_seed", &self.functional_seed)
            .field("epoch_cycles", &self.epoch_cycles)
            .field("give_up_after", &self.give_up_after)
            .finish_non_exhaustive()
    }
}

/// A run that could not finish or whose results are wrong.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("deadlock at cycle {cycle}: no unit can make progress ({detail})")]
    Deadlock { cycle: Cycle, detail: String },
    #[error("simulator bug: cycle accounting of `{unit}` does not add up: {source}")]
    Accounting {
        unit: &'static str,
        source: simkit::AccountError,
    },
    #[error("simulator bug: the root causes of `{unit}` cover {root_cycles} cycles but it stalled {stall_cycles}")]
    RootAccounting {
        unit: &'static str,
        root_cycles: u64,
        stall_cycles: u64,
    },
    #[error("functional check failed: max |O − reference| = {error} exceeds {limit}")]
    Functional { error: f64, limit: f64 },
    #[error("{0}")]
    Mismatch(String),
    #[error("gave up at cycle {cycle}: the run takes longer than the {limit} cycles allowed")]
    GaveUp { cycle: Cycle, limit: Cycle },
}

/// Runs `program` on the hardware `hw`.
pub fn simulate(
    hw: &hwconfig::HwConfig,
    program: &isa::Program,
    mut options: RunOptions<'_>,
) -> Result<RunReport, SimError> {
    let mut memory = dram::MemoryModel::from_config(hw)
        .map_err(|e| SimError::Mismatch(format!("key `{}`: {}", e.key, e.reason)))?;
    if let Some(sink) = options.dram_commands.take() {
        match &mut memory {
            dram::MemoryModel::Cycle(device) => device.set_command_sink(sink),
            dram::MemoryModel::Bandwidth(_) => {
                return Err(SimError::Mismatch(
                    "DRAM command traces need dram.model = \"cycle\"".into(),
                ))
            }
        }
    }
    machine::Machine::new(hw, program, memory, options.functional_seed).run(options)
}
