//! `flatsim gemm`: one GEMM on the PE array, stall-free (operands always ready).

use super::common::{HwArgs, OutArgs};
use super::work::WorkLimitArgs;
use crate::error::{CliError, CliResult};
use crate::output::{csv_bytes, number, write_atomic, SummaryRow, SUMMARY_COLUMNS};
use pe_array::{GemmJob, GemmShape, PeArray, PeDataflow};
use simkit::Component;

#[derive(Debug, clap::Args)]
pub struct GemmArgs {
    #[command(flatten)]
    hw: HwArgs,
    /// Rows of A and C
    #[arg(long)]
    m: u64,
    /// Columns of A, rows of B (the reduction)
    #[arg(long)]
    k: u64,
    /// Columns of B and C
    #[arg(long)]
    n: u64,
    /// PE-array dataflow (default: pe_array.dataflow of the config)
    #[arg(long, value_parser = parse_dataflow)]
    pe_dataflow: Option<PeDataflow>,
    #[command(flatten)]
    out: OutArgs,
    #[command(flatten)]
    limit: WorkLimitArgs,
}

/// The largest GEMM: 2⁵⁶ multiply-accumulates, as for attention
/// ([`compiler::MAX_ATTENTION_MACS`]), so its fold and cycle counts fit 64 bits.
const MAX_GEMM_MACS: u128 = compiler::MAX_ATTENTION_MACS;

fn parse_dataflow(text: &str) -> Result<PeDataflow, String> {
    PeDataflow::parse(text)
}

pub fn run(args: &GemmArgs, overrides: &[String]) -> CliResult {
    let out_dir = args.out.prepare()?;
    let (row, description) = simulate(args, overrides)?;
    say!("{description}");
    if let Some(dir) = out_dir {
        let bytes = csv_bytes(SUMMARY_COLUMNS, &[row.cells()]).map_err(CliError::failure)?;
        write_atomic(&dir.join("summary.csv"), &bytes).map_err(CliError::failure)?;
    }
    Ok(())
}

impl GemmArgs {
    /// The checks of the hardware and the sizes, without simulating.
    pub fn check_input(&self, overrides: &[String]) -> CliResult {
        let hw = self.hw.load(overrides)?;
        self.check_sizes(&hw)
    }

    fn check_sizes(&self, hw: &hwconfig::HwConfig) -> CliResult {
        for (flag, value) in [("--m", self.m), ("--k", self.k), ("--n", self.n)] {
            if value == 0 {
                return Err(CliError::bad_input(anyhow::anyhow!(
                    "{flag} must be positive, found 0"
                )));
            }
        }
        let macs = u128::from(self.m) * u128::from(self.k) * u128::from(self.n);
        if macs > MAX_GEMM_MACS {
            return Err(CliError::bad_input(anyhow::anyhow!(
                "--m × --k × --n = {} × {} × {} = {macs} multiply-accumulates, above the largest GEMM flatsim counts exactly (2^{})",
                self.m,
                self.k,
                self.n,
                MAX_GEMM_MACS.ilog2()
            )));
        }
        let dataflow = self.pe_dataflow.unwrap_or(hw.pe_array.dataflow);
        let estimate = PeArray::from_config(hw).timing(self.shape(), dataflow);
        self.limit.check(
            &format!("gemm {}x{}x{}", self.m, self.k, self.n),
            estimate.total_cycles,
            &format!("{} folds", estimate.folds),
        )
    }

    fn shape(&self) -> GemmShape {
        GemmShape {
            m: self.m,
            k: self.k,
            n: self.n,
        }
    }
}

/// Runs the GEMM: its summary row and a one-line description.
pub fn simulate(args: &GemmArgs, overrides: &[String]) -> CliResult<(SummaryRow, String)> {
    let hw = args.hw.load(overrides)?;
    args.check_sizes(&hw)?;
    let dataflow = args.pe_dataflow.unwrap_or(hw.pe_array.dataflow);
    let shape = args.shape();

    // Drive the cycle-level array; with operands always ready it jumps from
    // start to completion, so even huge GEMMs take no time.
    let mut array = PeArray::from_config(&hw);
    array.start(
        0,
        GemmJob {
            id: 0,
            shape,
            dataflow,
        },
    );
    let mut now = 0;
    let cycles = loop {
        array.tick(now);
        if array.take_completed().is_some() {
            break now + 1;
        }
        now = array.next_event(now + 1).ok_or_else(|| {
            CliError::failure(anyhow::anyhow!(
                "PE array stopped before finishing the GEMM"
            ))
        })?;
    };
    let account = array.account_until(cycles).clone();
    account.check(cycles).map_err(CliError::failure)?;
    let timing = array.timing(shape, dataflow);
    let traffic = timing.total_traffic();
    let element_bytes = hw.core.element_bytes as f64;
    let energy_pj = shape.macs() as f64 * hw.energy.mac_pj
        + (traffic.a_elements + traffic.b_elements) as f64
            * element_bytes
            * hw.energy.sram_read_pj_per_byte
        + traffic.c_elements as f64 * element_bytes * hw.energy.sram_write_pj_per_byte;
    let row = SummaryRow {
        hw: hw.name.clone(),
        dataflow: format!("gemm-{dataflow}"),
        cycles,
        seconds: cycles as f64 / hw.clock_hz(),
        pe_util: array.utilization(cycles),
        energy_pj,
        ..SummaryRow::default()
    };

    let description = format!(
        "gemm {}x{}x{} on {}x{} {} ({}): {} cycles, {} folds, pe_util {}, mapping efficiency {}",
        shape.m,
        shape.k,
        shape.n,
        hw.pe_array.rows,
        hw.pe_array.cols,
        dataflow,
        if hw.pe_array.fold_overlap {
            "fold overlap"
        } else {
            "no fold overlap"
        },
        cycles,
        timing.folds,
        number(row.pe_util),
        number(timing.mapping_efficiency()),
    );
    Ok((row, description))
}
