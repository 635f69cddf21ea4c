//! Compiling small attention problems for the driver's tests.
#![allow(dead_code)] // each test binary uses a subset

use compiler::{Dataflow, DataflowSpec, Gran, Workload};
use hwconfig::HwConfig;

pub fn hw(preset: &str, overrides: &[&str]) -> HwConfig {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    HwConfig::parse(
        preset,
        hwconfig::builtin_preset(preset).unwrap(),
        &overrides,
    )
    .unwrap()
}

pub fn spec(
    dataflow: Dataflow,
    gran: Option<Gran>,
    rows: Option<u64>,
    cols: Option<u64>,
) -> DataflowSpec {
    DataflowSpec {
        gran,
        rows,
        cols,
        ..DataflowSpec::new(dataflow)
    }
}

pub fn program(hw: &HwConfig, w: &Workload, spec: &DataflowSpec) -> isa::Program {
    let plan = compiler::resolve_plan(hw, w, spec).unwrap();
    compiler::compile(hw, w, &plan).unwrap()
}

pub fn run(
    hw: &HwConfig,
    program: &isa::Program,
    fast_forward: bool,
    seed: Option<u64>,
) -> Result<sim::RunReport, sim::SimError> {
    sim::simulate(
        hw,
        program,
        sim::RunOptions {
            fast_forward,
            functional_seed: seed,
            ..Default::default()
        },
    )
}
