//! Analytical time of a plan, for ranking. Phases run one after another
//! (unfused: L, softmax, A over every head), so a plan's time is the sum of
//! its phases' times. Within a phase, when the plan overlaps the PE array
//! and the vector unit ([`Plan::overlaps_pe_and_vector`]) the time is the
//! maximum of PE-array time (closed-form GEMM timing, real fold
//! efficiency), vector time (element ops × op cycles / lanes) and DRAM time
//! (bytes / bandwidth); when they take turns, PE and vector time add up
//! before the maximum with DRAM time. Sums and products saturate: a plan
//! whose time does not fit 64 bits ranks last and is refused by the work
//! limit (`--max-cycles`), never wrapped or a panic.

use crate::ir::LoopNest;
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
    /// DRAM bytes read and written.
    pub dram_bytes: u64,
    /// Instructions of all units (each DMA transfer pays the DRAM latency,
    /// each instruction a synchronisation).
    pub instructions: u64,
    pub cycles: u64,
    /// What bounds the longest phase.
    pub bound: Bound,
}

/// The census of each phase of `nest`, in order (one for a single-phase nest).
pub fn phase_censuses(nest: &LoopNest, census: impl Fn(&LoopNest) -> Census) -> Vec<Census> {
    if nest.phases.len() == 1 {
        return vec![census(nest)];
    }
    nest.phases
        .iter()
        .map(|phase| {
            census(&LoopNest {
                phases: vec![phase.clone()],
                ..nest.clone()
            })
        })
        .collect()
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

/// The estimate of a plan from its phases' censuses (its GEMM dataflows,
/// and whether it overlaps the PE array and the vector unit).
pub fn estimate(hw: &HwConfig, phases: &[Census], plan: &Plan) -> Estimate {
    let mut total = Estimate {
        pe_cycles: 0,
        vector_cycles: 0,
        dram_cycles: 0,
        dram_bytes: 0,
        instructions: 0,
        cycles: 0,
        bound: Bound::Pe,
    };
    let mut longest = 0;
    for census in phases {
        let e = phase_estimate(hw, census, plan);
        total.pe_cycles = total.pe_cycles.saturating_add(e.pe_cycles);
        total.vector_cycles = total.vector_cycles.saturating_add(e.vector_cycles);
        total.dram_cycles = total.dram_cycles.saturating_add(e.dram_cycles);
        total.dram_bytes = total.dram_bytes.saturating_add(e.dram_bytes);
        total.instructions = total.instructions.saturating_add(e.instructions);
        total.cycles = total.cycles.saturating_add(e.cycles);
        if e.cycles > longest {
            longest = e.cycles;
            total.bound = e.bound;
        }
    }
    total
}

fn phase_estimate(hw: &HwConfig, census: &Census, plan: &Plan) -> Estimate {
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
            GemmTiming::new(array, df, hw.pe_array.fold_overlap, GemmShape { m, k, n })
                .total_cycles
                .saturating_mul(count)
        })
        .fold(0, u64::saturating_add);
    let vector_cycles = if hw.vector.ideal {
        0
    } else {
        throughput_cycles(&census.vector_ops, hw.vector.lanes, &hw.vector.op_cycles)
    };
    let dram_bytes = census.dram_read_bytes + census.dram_write_bytes;
    let dram_cycles = (dram_bytes as f64 / dram_bytes_per_s(hw) * hw.clock_hz()).ceil() as u64;
    let compute = if plan.overlaps_pe_and_vector() {
        vec![(pe_cycles, Bound::Pe), (vector_cycles, Bound::Vector)]
    } else if vector_cycles == 0 {
        vec![(pe_cycles, Bound::Pe)]
    } else {
        vec![(pe_cycles.saturating_add(vector_cycles), Bound::PeThenVector)]
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
        dram_bytes,
        instructions: census.instructions.iter().sum(),
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
    .map(|&(count, cost)| count.saturating_mul(cost).div_ceil(lanes))
    .fold(0, u64::saturating_add)
}
