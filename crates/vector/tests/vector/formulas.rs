//! Exact cycle counts of softmax steps at several lane counts and op costs.

use super::common::SoftmaxStep;
use super::common::{run, sram_config, vector_config, Hog};
use simkit::StallReason;
use sram::{Sram, SramSpan};
use vector::{op_counts, ElementOp, StepCost, VectorJob, VectorUnit};

const E: u64 = 2;

/// The operands of `step` on an R×C tile, laid out one after another as the
/// region allocator would, each aligned to a bank word: the tile(s) and the
/// per-row vectors it reads, then those it writes.
pub fn job(id: u64, step: SoftmaxStep, rows: u64, cols: u64) -> VectorJob {
    let tile = rows * cols * E;
    let row = rows * E;
    let (inputs, outputs): (&[u64], &[u64]) = match step {
        SoftmaxStep::RowMax => (&[tile], &[row]),
        SoftmaxStep::ExpSum => (&[tile, row], &[tile, row]),
        SoftmaxStep::Normalize => (&[tile, row], &[tile]),
        SoftmaxStep::OnlineSoftmax => (&[tile, row, row], &[tile, row, row, row]),
        SoftmaxStep::RescaleAccumulate => (&[tile, tile, row], &[tile]),
    };
    let mut addr = 0;
    let mut spans = |sizes: &[u64]| {
        sizes
            .iter()
            .map(|&bytes| {
                let span = SramSpan::new(addr, bytes);
                addr = (addr + bytes).next_multiple_of(super::common::BANK_BYTES);
                span
            })
            .collect::<Vec<_>>()
    };
    let inputs = spans(inputs);
    let outputs = spans(outputs);
    VectorJob {
        id,
        ops: step.mix(),
        rows,
        cols,
        inputs,
        outputs,
    }
}

const COSTS: [[u64; 6]; 3] = [[1; 6], [1, 2, 4, 1, 3, 8], [2, 1, 3, 2, 1, 5]];

#[test]
fn a_step_takes_read_trip_plus_compute_plus_write_trip() {
    for lanes in [8, 32, 128] {
        for costs in COSTS {
            for latency in [1, 3] {
                for step in SoftmaxStep::ALL {
                    for (rows, cols) in [(1, 1), (4, 100), (16, 64), (33, 7), (64, 512)] {
                        let config = vector_config(lanes, false, costs);
                        let mut sram = Sram::new(&sram_config(64, 2, latency), 64);
                        let mut unit = VectorUnit::new(&config, E, sram.link_timing());
                        let mut hog = Hog::new(64, vec![]);
                        let r = run(
                            &mut sram,
                            &mut unit,
                            &mut hog,
                            vec![(0, job(0, step, rows, cols))],
                            false,
                        );
                        let compute =
                            StepCost::new(&step.mix(), rows, cols, lanes, &config.op_cycles, false)
                                .compute_cycles();
                        let read_trip = 1 + latency;
                        let what = format!("{step:?} {rows}x{cols} lanes {lanes} costs {costs:?} latency {latency}");
                        // Submitted at 0, taken at 1; done is visible the cycle after the last ack.
                        assert_eq!(r.done_cycles[0], 1 + read_trip + compute + 2, "{what}");
                        assert_eq!(r.account.busy_cycles(), compute, "{what}");
                        assert_eq!(
                            r.account.stall_cycles(StallReason::OperandNotReady),
                            read_trip,
                            "{what}"
                        );
                        assert_eq!(
                            r.account.stall_cycles(StallReason::OutputBackpressure),
                            2,
                            "{what}"
                        );
                        assert_eq!(r.account.total_stall_cycles(), read_trip + 2, "{what}");
                        assert_eq!(
                            unit.op_counts(),
                            op_counts(&step.mix(), rows, cols),
                            "{what}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn fast_forward_jumps_over_running_steps() {
    // A 64×512 row max: 1024 one-cycle steps on 32 lanes read 64 KiB in
    // 1-KiB requests. Fast-forward visits the cycles where a request moves
    // (issue, grant, data back) and where the schedule changes, not every step.
    let config = vector_config(32, false, [1; 6]);
    let step = SoftmaxStep::RowMax;
    let runs = [false, true].map(|fast_forward| {
        let mut sram = Sram::new(&sram_config(32, 1, 1), 64);
        let mut unit = VectorUnit::new(&config, E, sram.link_timing());
        let mut hog = Hog::new(32, vec![]);
        run(
            &mut sram,
            &mut unit,
            &mut hog,
            vec![(0, job(0, step, 64, 512))],
            fast_forward,
        )
    });
    assert_eq!(runs[0].results(), runs[1].results());
    let compute =
        StepCost::new(&step.mix(), 64, 512, 32, &config.op_cycles, false).compute_cycles();
    let requests = 64 * 512 * E / 1024;
    assert_eq!(runs[0].visited_cycles, runs[0].cycles);
    assert!(
        runs[1].visited_cycles <= 3 * requests + 10,
        "{} visits for {compute} cycles of compute",
        runs[1].visited_cycles
    );
}

#[test]
fn three_pass_softmax_over_rows() {
    // FLAT's softmax of an R×N tile: row max, exp with row sum, normalize,
    // back to back: Σ (read trip + compute + 2) and every op once.
    let (rows, n, lanes, latency) = (8, 512, 32, 1);
    let costs = [1, 1, 4, 1, 1, 6];
    let config = vector_config(lanes, false, costs);
    let mut sram = Sram::new(&sram_config(32, 1, latency), 64);
    let mut unit = VectorUnit::new(&config, E, sram.link_timing());
    let mut hog = Hog::new(32, vec![]);
    let steps = [
        SoftmaxStep::RowMax,
        SoftmaxStep::ExpSum,
        SoftmaxStep::Normalize,
    ];
    let jobs = steps
        .iter()
        .enumerate()
        .map(|(i, &s)| (0, job(i as u64, s, rows, n)))
        .collect();
    let r = run(&mut sram, &mut unit, &mut hog, jobs, false);
    let element_steps = (rows * n).div_ceil(lanes); // 128
    let [max, sub, exp, add, mul, div] = costs;
    let compute = element_steps * max
        + element_steps * (sub + exp + add)
        + element_steps * mul
        + rows.div_ceil(lanes) * div;
    assert_eq!(r.account.busy_cycles(), compute);
    assert_eq!(r.done_cycles[2], 1 + 3 * (1 + latency + 2) + compute);
    let ops = unit.op_counts();
    for op in [
        ElementOp::Max,
        ElementOp::Sub,
        ElementOp::Exp,
        ElementOp::Add,
        ElementOp::Mul,
    ] {
        assert_eq!(ops[op as usize], rows * n, "{op:?}");
    }
    assert_eq!(ops[ElementOp::Div as usize], rows);
    assert_eq!(unit.lane_ops(), 5 * rows * n + rows);
    assert_eq!(
        sram.client_bytes(sram::SramClient::VectorRead),
        (3 * rows * n + 2 * rows) * E
    );
}

#[test]
fn ideal_mode_costs_no_cycles_but_counts_ops() {
    let config = vector_config(32, true, [3; 6]);
    let mut sram = Sram::new(&sram_config(32, 1, 1), 64);
    let mut unit = VectorUnit::new(&config, E, sram.link_timing());
    let mut hog = Hog::new(32, vec![]);
    let jobs = (0..4)
        .map(|i| (0, job(i, SoftmaxStep::OnlineSoftmax, 64, 64)))
        .collect();
    let r = run(&mut sram, &mut unit, &mut hog, jobs, false);
    // The job queue holds two: jobs 0 and 1 are visible at 1 and finish
    // there (done visible at 2); the driver can queue 2 and 3 only at 2, as
    // the queue empties during tick 1.
    assert_eq!(r.done_cycles, vec![2, 2, 4, 4]);
    assert_eq!(r.account.busy_cycles(), 0);
    assert_eq!(r.account.total_stall_cycles(), 0);
    assert_eq!(
        unit.lane_ops(),
        4 * op_counts(&SoftmaxStep::OnlineSoftmax.mix(), 64, 64)
            .iter()
            .sum::<u64>()
    );
    assert_eq!(sram.read_bytes() + sram.write_bytes(), 0);
}

#[test]
fn conflicts_delay_the_step_and_are_charged_as_such() {
    // A higher-priority client takes every read port in cycles 5..80, longer
    // than the input buffer lasts (4 requests of 512 B = 32 one-cycle steps
    // of 64 B): the vector unit's reads wait, the unit runs dry, and the
    // extra time is all sram_bank_conflict.
    let config = vector_config(32, false, [1; 6]);
    let step = SoftmaxStep::RowMax;
    let mut sram = Sram::new(&sram_config(8, 1, 2), 64);
    let mut unit = VectorUnit::new(&config, E, sram.link_timing());
    assert_eq!(unit.buffer_bytes(), 4 * 512);
    let mut hog = Hog::new(8, (5..80).collect());
    let r = run(
        &mut sram,
        &mut unit,
        &mut hog,
        vec![(0, job(0, step, 16, 256))],
        false,
    );
    let compute =
        StepCost::new(&step.mix(), 16, 256, 32, &config.op_cycles, false).compute_cycles();
    let free = 1 + 3 + compute + 2;
    assert!(r.done_cycles[0] > free);
    assert_eq!(r.account.busy_cycles(), compute);
    assert_eq!(
        r.account.stall_cycles(StallReason::SramBankConflict),
        r.done_cycles[0] - free
    );
    // Every hogged cycle from the first blocked read on is a conflict cycle
    // of the vector's reads.
    assert!(sram.conflict_cycles(sram::SramClient::VectorRead) >= 60);
}

#[test]
fn waiting_for_a_token_is_charged_while_without_a_job() {
    let config = vector_config(32, false, [1; 6]);
    let mut sram = Sram::new(&sram_config(32, 1, 1), 64);
    let mut unit = VectorUnit::new(&config, E, sram.link_timing());
    unit.set_idle_reason(Some(StallReason::WaitToken));
    let mut hog = Hog::new(32, vec![]);
    let r = run(
        &mut sram,
        &mut unit,
        &mut hog,
        vec![(100, job(0, SoftmaxStep::RowMax, 1, 32))],
        true,
    );
    // Cycles 0..=100 have no job (it is taken at 101), then 2 + 1 + 2 after it.
    assert_eq!(
        r.account.stall_cycles(StallReason::WaitToken),
        101 + (r.cycles - r.done_cycles[0])
    );
    assert_eq!(r.account.idle_cycles(), 0);
}
