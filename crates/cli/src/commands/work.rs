//! `--max-cycles`: the work limit. Before a plan is simulated, the compiler's
//! estimate of its simulated cycles is compared with the limit, so a run that
//! would take days is refused in milliseconds; the simulator also gives up
//! at the limit, in case the estimate was low.

use crate::error::{CliError, CliResult};
use compiler::{Plan, Workload};
use dram::MemoryPort;
use hwconfig::{DramModel, HwConfig};

/// Default `--max-cycles`: 10¹³ simulated cycles (hours of simulation at
/// the simulator's usual speed).
pub const DEFAULT_MAX_CYCLES: u64 = 10_000_000_000_000;

/// `--max-cycles N`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct WorkLimitArgs {
    /// Refuse (exit 2) a run whose estimated or simulated time exceeds this many cycles
    #[arg(long, default_value_t = DEFAULT_MAX_CYCLES, value_name = "CYCLES")]
    pub max_cycles: u64,
}

impl Default for WorkLimitArgs {
    fn default() -> Self {
        WorkLimitArgs {
            max_cycles: DEFAULT_MAX_CYCLES,
        }
    }
}

impl WorkLimitArgs {
    /// Refuses `estimate_cycles` of `what` above the limit.
    pub fn check(&self, what: &str, estimate_cycles: u64, detail: &str) -> CliResult {
        if estimate_cycles > self.max_cycles {
            return Err(CliError::bad_input(anyhow::anyhow!(
                "{what}: the estimate is {estimate_cycles} simulated cycles ({detail}), above --max-cycles {}; raise --max-cycles or simulate a smaller problem",
                self.max_cycles
            )));
        }
        Ok(())
    }

    /// The error of a run of `plan` the simulator stopped at the limit.
    pub fn passed(&self, plan: &Plan, cycle: u64) -> CliError {
        CliError::bad_input(anyhow::anyhow!(
            "plan `{}`: stopped at cycle {cycle}, past --max-cycles {} (the estimate was lower); raise --max-cycles or simulate a smaller problem",
            plan.label(),
            self.max_cycles
        ))
    }

    /// The estimate of `plan` (checked against the limit): the compiler's
    /// ranking estimate, or, when more, the time its DRAM requests take one
    /// latency each, `dma.max_outstanding` at a time (the bandwidth model;
    /// the ranking ignores latency).
    pub fn check_plan(&self, hw: &HwConfig, w: &Workload, plan: &Plan) -> CliResult<u64> {
        let estimate = compiler::estimate(hw, w, plan);
        let dram_bytes = estimate.dram_bytes;
        let latency_cycles = match hw.dram.model {
            DramModel::Bandwidth => {
                let model = dram::BandwidthModel::from_config(hw);
                let requests = dram_bytes.div_ceil(model.burst_bytes()) as f64;
                let latency = model.latency_cycles() as f64;
                (requests * latency / hw.dma.max_outstanding as f64).ceil() as u64
            }
            DramModel::Cycle => 0,
        };
        let cycles = estimate.cycles.max(latency_cycles);
        self.check(
            &format!("plan `{}`", plan.label()),
            cycles,
            &format!("{dram_bytes} DRAM bytes"),
        )?;
        Ok(cycles)
    }
}
