//! Root-cause attribution names the resource that limits a run: a token
//! wait is charged to what its producer was doing.

mod common;

use common::{hw, program, run, spec};
use compiler::{Dataflow, Workload};
use sim::{Resource, RunReport, UnitReport};

fn unit<'r>(report: &'r RunReport, name: &str) -> &'r UnitReport {
    report.unit(name).unwrap()
}

/// The resource charged with most of `unit`'s stall cycles, after checking
/// that its roots split exactly its stalls.
fn main_root(u: &UnitReport) -> Resource {
    assert_eq!(u.roots.total_cycles(), u.account.total_stall_cycles());
    assert!(u.roots.total_cycles() > 0, "{} never stalled", u.name);
    let main = Resource::ALL
        .into_iter()
        .max_by_key(|&r| u.roots.cycles(r))
        .unwrap();
    assert!(
        2 * u.roots.cycles(main) > u.roots.total_cycles(),
        "{}: no majority root in {:?}",
        u.name,
        u.roots
    );
    main
}

fn simulate(dataflow: Dataflow, overrides: &[&str]) -> RunReport {
    let hw = hw("edge", overrides);
    let w = Workload::new("p", 1, 2, 256, 64);
    let program = program(&hw, &w, &spec(dataflow, None, None, None));
    run(&hw, &program, true, None).unwrap()
}

#[test]
fn a_slow_dram_is_the_root_of_the_pe_arrays_waits() {
    let r = simulate(Dataflow::Unfused, &["dram.bandwidth_gib_per_s=1"]);
    let pe = unit(&r, "pe_array");
    assert_eq!(
        pe.account.stall_cycles(simkit::StallReason::DramBandwidth),
        0
    );
    assert_eq!(main_root(pe), Resource::Dram);
}

#[test]
fn a_narrow_vector_unit_is_the_root_of_the_pe_arrays_waits() {
    let r = simulate(
        Dataflow::Flat,
        &["vector.lanes=1", "dram.bandwidth_gib_per_s=1000"],
    );
    assert_eq!(main_root(unit(&r, "pe_array")), Resource::Vector);
}

#[test]
fn a_small_pe_array_is_the_root_of_the_others_waits() {
    let r = simulate(
        Dataflow::Flat,
        &[
            "pe_array.rows=4",
            "pe_array.cols=4",
            "vector.ideal=true",
            "dram.bandwidth_gib_per_s=1000",
        ],
    );
    assert_eq!(main_root(unit(&r, "dma")), Resource::Pe);
    assert_eq!(main_root(unit(&r, "vector")), Resource::Pe);
}
