//! The attention dataflow compiler: workload + dataflow + mapping + hardware
//! → [`isa::Program`].
//!
//! Pipeline: [`Workload`] and [`DataflowSpec`] → [`resolve_plan`] (fixed
//! tiling, or the ranked search of `--mapping auto`, see [`rank_plans`]) →
//! [`loop_nest`] (the printable loop-nest IR of [`ir`]) → [`compile`]
//! (regions placed, tokens declared, streams produced lazily by
//! [`lower`]). [`footprint`] reports live SRAM bytes per tensor against
//! FLAT's Table 2; [`report`] formats the `--emit` outputs.
//!
//! The compiler does not know the simulator: it depends on `isa`,
//! `hwconfig` and `pe-array` (closed-form GEMM timing for ranking) only.

mod build;
pub mod estimate;
pub mod footprint;
mod hf;
pub mod ir;
pub mod lower;
mod mapping;
mod plan;
mod program;
pub mod report;
mod workload;

pub use footprint::{table2_elements, Footprint, TensorBytes};
pub use mapping::Ranked;
pub use plan::{Dataflow, DataflowSpec, Gran, Mapping, Plan};
pub use program::dram_layout;
pub use workload::{
    Mask, Phase, Workload, WorkloadFile, WorkloadFlags, BUILTIN_WORKLOADS, MAX_ATTENTION_MACS,
};

use hwconfig::HwConfig;

/// Why a plan cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("{flag}: {reason}")]
    Flag { flag: String, reason: String },
    #[error("plan `{plan}` does not fit: it needs {required_bytes} bytes of SRAM, {capacity_bytes} are available; {detail}")]
    DoesNotFit {
        plan: String,
        required_bytes: u64,
        capacity_bytes: u64,
        detail: String,
    },
    #[error("no {dataflow} plan fits {capacity}: the smallest needs {smallest_bytes} bytes ({smallest}); {ways_out}")]
    NothingFits {
        dataflow: String,
        capacity: String,
        smallest_bytes: u64,
        smallest: String,
        ways_out: String,
    },
}

/// The attention problem of `w` on `hw`, in elements.
pub fn problem(hw: &HwConfig, w: &Workload) -> ir::Problem {
    mapping::problem(hw, w)
}

/// The plan the flags ask for (see [`mapping`](crate::rank_plans) for `--mapping auto`).
pub fn resolve_plan(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
) -> Result<Plan, CompileError> {
    mapping::resolve(hw, w, spec)
}

/// The plans worth simulating for the flags, best first: the fixed plan,
/// or the best plan of each of the `k` best-ranked tilings of `--mapping
/// auto`. The one place every command resolves its plans.
pub fn shortlist(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
    k: usize,
) -> Result<Vec<Plan>, CompileError> {
    mapping::shortlist(hw, w, spec, k)
}

/// The fixed-mapping plan of the flags with its footprint, without refusing
/// a plan that does not fit (for `--emit footprint`).
pub fn plan_with_footprint(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
) -> Result<(Plan, Footprint), CompileError> {
    mapping::candidate(hw, w, spec)
}

/// Every candidate of the search, fitting plans first, fastest first.
pub fn rank_plans(
    hw: &HwConfig,
    w: &Workload,
    spec: &DataflowSpec,
) -> Result<Vec<Ranked>, CompileError> {
    mapping::rank(hw, w, spec)
}

/// The loop nest of `plan` (printable with `Display`).
pub fn loop_nest(hw: &HwConfig, w: &Workload, plan: &Plan) -> ir::LoopNest {
    build::loop_nest(&problem(hw, w), plan, &hw.sram)
}

/// Live SRAM bytes per tensor of `plan`, and whether it fits.
pub fn footprint(hw: &HwConfig, w: &Workload, plan: &Plan) -> Footprint {
    Footprint::of(&loop_nest(hw, w, plan), &hw.sram)
}

/// The program of `plan`; refuses a plan that does not fit.
pub fn compile(hw: &HwConfig, w: &Workload, plan: &Plan) -> Result<isa::Program, CompileError> {
    let nest = loop_nest(hw, w, plan);
    match program::allocate(&nest, &hw.sram) {
        Ok(regions) => Ok(program::assemble(nest, regions, hw.sram.capacity_bytes)),
        Err(e) => {
            let fp = Footprint::of(&nest, &hw.sram);
            Err(CompileError::DoesNotFit {
                plan: plan.label(),
                required_bytes: fp.total_bytes(),
                capacity_bytes: hw.sram.capacity_bytes,
                detail: e.to_string(),
            })
        }
    }
}

/// Totals of `plan` computed from its loop nest without enumerating it.
pub fn census(hw: &HwConfig, w: &Workload, plan: &Plan) -> lower::Census {
    let nest = loop_nest(hw, w, plan);
    lower::census(&nest, &lower::TokenPlan::new(&nest))
}

/// The ranking estimate of `plan` (its phases' times summed), as the
/// search computes it.
pub fn estimate(hw: &HwConfig, w: &Workload, plan: &Plan) -> estimate::Estimate {
    let nest = loop_nest(hw, w, plan);
    let phases = estimate::phase_censuses(&nest, |n| lower::census(n, &lower::TokenPlan::new(n)));
    estimate::estimate(hw, &phases, plan)
}
