//! Analytical time of a plan, for ranking: the maximum of PE-array time
//! (closed-form GEMM timing, real fold efficiency), vector time (element
//! ops × op cycles / lanes) and DRAM time (bytes / bandwidth).

use crate::lower::Census;
use hwconfig::{DramModel, DramPreset, HwConfig, PeDataflow};
use pe_array::{ArrayShape, GemmShape, GemmTiming};

/// Which resource bounds the estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Pe,
    Vector,
    Dram,
}

impl Bound {
    pub const fn as_str(self) -> &'static str {
        match self {
            Bound::Pe => "pe",
            Bound::Vector => "vector",
            Bound::Dram => "dram",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub pe_cycles: u64,
    pub vector_cycles: u64,
    pub dram_cycles: u64,
    pub cycles: u64,
    pub bound: Bound,
}

/// Sustained DRAM bytes per second: the bandwidth model's setting, or for
/// the cycle model the preset's nominal peak × channels (ranking only; the
/// `dram` crate owns the real timing).
pub fn dram_bytes_per_s(hw: &HwConfig) -> f64 {
    if let (DramModel::Bandwidth, Some(gib)) = (hw.dram.model, hw.dram.bandwidth_gib_per_s) {
        return gib * (1u64 << 30) as f64;
    }
    let per_channel_gb_s = match hw.dram.preset {
        DramPreset::Ddr4_3200 => 25.6,
        DramPreset::Ddr4_2400 => 19.2,
        DramPreset::Lpddr4_3200 => 12.8,
        DramPreset::Hbm2 => 32.0,
    };
    per_channel_gb_s * 1e9 * hw.dram.channels as f64
}

/// The estimate of a census with the given GEMM dataflows.
pub fn estimate(
    hw: &HwConfig,
    census: &Census,
    l_dataflow: PeDataflow,
    a_dataflow: PeDataflow,
) -> Estimate {
    let array = ArrayShape {
        rows: hw.pe_array.rows,
        cols: hw.pe_array.cols,
    };
    let pe_cycles = census
        .gemms
        .iter()
        .map(|(&(m, k, n, is_l), &count)| {
            let df = if is_l { l_dataflow } else { a_dataflow };
            GemmTiming::new(array, df, hw.pe_array.fold_overlap, GemmShape { m, k, n }).total_cycles
                * count
        })
        .sum();
    let vector_cycles = if hw.vector.ideal {
        0
    } else {
        throughput_cycles(&census.vector_ops, hw.vector.lanes, &hw.vector.op_cycles)
    };
    let bytes = (census.dram_read_bytes + census.dram_write_bytes) as f64;
    let dram_cycles = (bytes / dram_bytes_per_s(hw) * hw.clock_hz()).ceil() as u64;
    let (cycles, bound) = [
        (pe_cycles, Bound::Pe),
        (vector_cycles, Bound::Vector),
        (dram_cycles, Bound::Dram),
    ]
    .into_iter()
    .fold(
        (0, Bound::Pe),
        |best, x| if x.0 > best.0 { x } else { best },
    );
    Estimate {
        pe_cycles,
        vector_cycles,
        dram_cycles,
        cycles,
        bound,
    }
}

/// The vector unit's throughput bound: every kind's operations at
/// `op_cycles` per element per lane, rounded up per kind.
fn throughput_cycles(ops: &isa::ElementOps, lanes: u64, op_cycles: &hwconfig::OpCycles) -> u64 {
    [
        (ops.max, op_cycles.max),
        (ops.sub, op_cycles.sub),
        (ops.exp, op_cycles.exp),
        (ops.add, op_cycles.add),
        (ops.mul, op_cycles.mul),
        (ops.div, op_cycles.div),
    ]
    .iter()
    .map(|&(count, cost)| (count * cost).div_ceil(lanes))
    .sum()
}
