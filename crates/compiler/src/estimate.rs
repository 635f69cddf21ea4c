//! Analytical time of a plan, for ranking. When the plan overlaps the PE
//! array and the vector unit ([`Plan::overlaps_pe_and_vector`]) it is the
//! maximum of PE-array time (closed-form GEMM timing, real fold
//! efficiency), vector time (element ops × op cycles / lanes) and DRAM time
//! (bytes / bandwidth); when they take turns, PE and vector time add up
//! before the maximum with DRAM time.

use crate::lower::Census;
use crate::plan::Plan;
use hwconfig::{DramModel, HwConfig};
use pe_array::{ArrayShape, GemmShape, GemmTiming};

/// Which resource bounds the estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Pe,
    Vector,
    /// PE array and vector unit in turn (a plan that does not overlap them).
    PeThenVector,
    Dram,
}

impl Bound {
    pub const fn as_str(self) -> &'static str {
        match self {
            Bound::Pe => "pe",
            Bound::Vector => "vector",
            Bound::PeThenVector => "pe+vector",
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
    hw.dram.preset.channel_peak_gb_per_s() * 1e9 * hw.dram.channels as f64
}

/// The estimate of a census for `plan` (its GEMM dataflows, and whether it
/// overlaps the PE array and the vector unit).
pub fn estimate(hw: &HwConfig, census: &Census, plan: &Plan) -> Estimate {
    let array = ArrayShape {
        rows: hw.pe_array.rows,
        cols: hw.pe_array.cols,
    };
    let pe_cycles = census
        .gemms
        .iter()
        .map(|(&(m, k, n, is_l), &count)| {
            let df = if is_l {
                plan.l_dataflow
            } else {
                plan.a_dataflow
            };
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
    let compute = if plan.overlaps_pe_and_vector() {
        vec![(pe_cycles, Bound::Pe), (vector_cycles, Bound::Vector)]
    } else if vector_cycles == 0 {
        vec![(pe_cycles, Bound::Pe)]
    } else {
        vec![(pe_cycles + vector_cycles, Bound::PeThenVector)]
    };
    let (cycles, bound) = compute
        .into_iter()
        .chain([(dram_cycles, Bound::Dram)])
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
