//! The PE array as a cycle-level component: runs one GEMM at a time on the
//! schedule of [`GemmTiming`], stalls while its operands are not ready, and
//! accounts every cycle.

use crate::{ArrayShape, GemmShape, GemmTiming, OperandDemand, PeDataflow};
use simkit::{Component, Cycle, CycleAccount, CycleState, StallReason, StatDecl, StatValue};

/// One GEMM for the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmJob {
    /// Chosen by the issuer; returned on completion.
    pub id: u64,
    pub shape: GemmShape,
    pub dataflow: PeDataflow,
}

#[derive(Clone, Copy, Debug)]
struct Running {
    job: GemmJob,
    timing: GemmTiming,
    /// Schedule cycles already executed (stalled cycles do not count).
    progress_cycles: u64,
}

/// A rows × cols systolic array.
#[derive(Debug, Clone)]
pub struct PeArray {
    shape: ArrayShape,
    fold_overlap: bool,
    running: Option<Running>,
    /// Why the running GEMM cannot advance, if it cannot.
    stall: Option<StallReason>,
    /// Why the array is without a GEMM, when the driver knows (e.g. the next
    /// instruction waits on a token); plain idle otherwise.
    idle_reason: Option<StallReason>,
    completed: Option<u64>,
    /// Cycles before this one are charged.
    accounted_through: Cycle,
    account: CycleAccount,
    macs: u64,
    traffic: OperandDemand,
    gemms: u64,
}

pub static STAT_MACS: StatDecl = StatDecl {
    name: "macs",
    unit: "MACs",
    description: "Useful multiply-accumulates performed",
};
pub static STAT_GEMMS: StatDecl = StatDecl {
    name: "gemms",
    unit: "GEMMs",
    description: "GEMMs completed",
};
pub static STAT_A_ELEMENTS: StatDecl = StatDecl {
    name: "a_elements_read",
    unit: "elements",
    description: "Elements of the left operand entering the array",
};
pub static STAT_B_ELEMENTS: StatDecl = StatDecl {
    name: "b_elements_read",
    unit: "elements",
    description: "Elements of the right operand entering the array",
};
pub static STAT_C_ELEMENTS: StatDecl = StatDecl {
    name: "c_elements_written",
    unit: "elements",
    description: "Output (or partial-sum) elements leaving the array",
};

impl PeArray {
    pub fn new(shape: ArrayShape, fold_overlap: bool) -> Self {
        PeArray {
            shape,
            fold_overlap,
            running: None,
            stall: None,
            idle_reason: None,
            completed: None,
            accounted_through: 0,
            account: CycleAccount::default(),
            macs: 0,
            traffic: OperandDemand::default(),
            gemms: 0,
        }
    }

    pub fn from_config(hw: &hwconfig::HwConfig) -> Self {
        let shape = ArrayShape {
            rows: hw.pe_array.rows,
            cols: hw.pe_array.cols,
        };
        PeArray::new(shape, hw.pe_array.fold_overlap)
    }

    pub fn shape(&self) -> ArrayShape {
        self.shape
    }

    pub fn timing(&self, shape: GemmShape, dataflow: PeDataflow) -> GemmTiming {
        GemmTiming::new(self.shape, dataflow, self.fold_overlap, shape)
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_none()
    }

    /// Schedule cycles the running GEMM has executed (all cycles before the
    /// last tick are settled), or `None` when idle.
    pub fn progress_cycles(&self) -> Option<u64> {
        self.running.as_ref().map(|r| r.progress_cycles)
    }

    /// Charges the cycles from `now` on without a GEMM to `reason` (or to
    /// idle with `None`).
    pub fn set_idle_reason(&mut self, now: Cycle, reason: Option<StallReason>) {
        self.settle(now);
        self.idle_reason = reason;
    }

    /// Whether the array is held, and why.
    pub fn stall(&self) -> Option<StallReason> {
        self.stall
    }

    /// Starts `job` in cycle `now`; it runs from this cycle on.
    ///
    /// # Panics
    /// If a GEMM is already running (the driver issues one at a time).
    pub fn start(&mut self, now: Cycle, job: GemmJob) {
        assert!(
            self.running.is_none(),
            "the PE array runs one GEMM at a time"
        );
        self.settle(now);
        self.running = Some(Running {
            job,
            timing: self.timing(job.shape, job.dataflow),
            progress_cycles: 0,
        });
    }

    /// Holds the running GEMM from cycle `now` on, charging `reason` (e.g.
    /// `operand_not_ready`, `sram_bank_conflict`), or lets it run with `None`.
    pub fn set_stall(&mut self, now: Cycle, reason: Option<StallReason>) {
        self.settle(now);
        self.stall = reason;
    }

    /// The id of the GEMM that finished in the last ticked cycle.
    pub fn take_completed(&mut self) -> Option<u64> {
        self.completed.take()
    }

    /// Operand traffic of the running GEMM in the cycle about to execute.
    pub fn current_demand(&self) -> OperandDemand {
        match &self.running {
            Some(r) if self.stall.is_none() => r.timing.demand_at(r.progress_cycles),
            _ => OperandDemand::default(),
        }
    }

    fn state(&self) -> CycleState {
        match (self.running, self.stall) {
            (None, _) => self
                .idle_reason
                .map_or(CycleState::Idle, CycleState::Stalled),
            (Some(_), Some(reason)) => CycleState::Stalled(reason),
            (Some(_), None) => CycleState::Busy,
        }
    }

    /// Charges cycles `accounted_through..until` to the current state and
    /// advances the running GEMM through the busy ones. The driver only skips
    /// cycles in which nothing changes, so the state is constant over them.
    fn settle(&mut self, until: Cycle) {
        if until <= self.accounted_through {
            return;
        }
        let cycles = until - self.accounted_through;
        let state = self.state();
        self.account.charge(state, cycles);
        self.accounted_through = until;
        if state == CycleState::Busy {
            if let Some(running) = &mut self.running {
                running.progress_cycles += cycles;
                debug_assert!(running.progress_cycles <= running.timing.total_cycles);
            }
        }
    }

    /// Charges every cycle before `end` and returns the account.
    pub fn account_until(&mut self, end: Cycle) -> &CycleAccount {
        self.settle(end);
        &self.account
    }

    /// Useful MACs / (PEs · `total_cycles`).
    pub fn utilization(&self, total_cycles: Cycle) -> f64 {
        if total_cycles == 0 {
            return 0.0;
        }
        self.macs as f64 / (self.shape.rows * self.shape.cols * total_cycles) as f64
    }

    pub fn macs(&self) -> u64 {
        self.macs
    }

    pub fn stats(&self) -> Vec<StatValue> {
        vec![
            STAT_MACS.value(self.macs as f64),
            STAT_GEMMS.value(self.gemms as f64),
            STAT_A_ELEMENTS.value(self.traffic.a_elements as f64),
            STAT_B_ELEMENTS.value(self.traffic.b_elements as f64),
            STAT_C_ELEMENTS.value(self.traffic.c_elements as f64),
        ]
    }
}

impl Component for PeArray {
    fn tick(&mut self, now: Cycle) {
        self.settle(now + 1);
        let finished =
            matches!(&self.running, Some(r) if r.progress_cycles == r.timing.total_cycles);
        if finished {
            if let Some(r) = self.running.take() {
                self.macs += r.job.shape.macs();
                self.traffic += r.timing.total_traffic();
                self.gemms += 1;
                self.completed = Some(r.job.id);
            }
        }
    }

    fn next_event(&self, now: Cycle) -> Option<Cycle> {
        match &self.running {
            // The last busy cycle of the GEMM, after which it completes.
            Some(r) if self.stall.is_none() => Some(
                now.max(self.accounted_through)
                    + (r.timing.total_cycles - r.progress_cycles).max(1)
                    - 1,
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, m: u64, k: u64, n: u64) -> GemmJob {
        GemmJob {
            id,
            shape: GemmShape { m, k, n },
            dataflow: PeDataflow::Os,
        }
    }

    /// Runs the array cycle by cycle (or by next events) until `job` completes.
    fn run(array: &mut PeArray, job: GemmJob, fast_forward: bool) -> Cycle {
        array.start(0, job);
        let mut now = 0;
        loop {
            array.tick(now);
            if array.take_completed() == Some(job.id) {
                return now;
            }
            now = if fast_forward {
                array.next_event(now + 1).unwrap()
            } else {
                now + 1
            };
        }
    }

    #[test]
    fn gemm_takes_its_scheduled_cycles() {
        for fast_forward in [false, true] {
            let mut array = PeArray::new(ArrayShape { rows: 4, cols: 4 }, true);
            let end = run(&mut array, job(1, 8, 16, 4), fast_forward);
            assert_eq!(end + 1, 38, "fast_forward = {fast_forward}");
            assert_eq!(array.macs(), 8 * 16 * 4);
            let account = array.account_until(end + 1).clone();
            assert_eq!(account.busy_cycles(), 38);
            assert!(account.check(end + 1).is_ok());
        }
    }

    #[test]
    fn stalls_while_operands_are_missing() {
        let mut array = PeArray::new(ArrayShape { rows: 2, cols: 2 }, false);
        array.start(0, job(7, 2, 5, 2)); // one fold of 5 + 2 + 2 − 2 = 7 cycles
        array.set_stall(0, Some(StallReason::OperandNotReady));
        for now in 0..10 {
            array.tick(now);
        }
        assert_eq!(
            array.next_event(10),
            None,
            "a stalled array waits for input"
        );
        array.set_stall(10, None);
        let mut now = 10;
        loop {
            array.tick(now);
            if array.take_completed() == Some(7) {
                break;
            }
            now += 1;
        }
        assert_eq!(now, 16);
        let account = array.account_until(20).clone();
        assert_eq!(account.stall_cycles(StallReason::OperandNotReady), 10);
        assert_eq!(account.busy_cycles(), 7);
        assert_eq!(account.idle_cycles(), 3);
        assert!(account.check(20).is_ok());
    }

    #[test]
    fn demand_is_zero_when_stalled() {
        let mut array = PeArray::new(ArrayShape { rows: 2, cols: 2 }, false);
        array.start(0, job(1, 2, 5, 2));
        assert_eq!(array.current_demand().a_elements, 1);
        array.set_stall(0, Some(StallReason::SramBankConflict));
        assert_eq!(array.current_demand(), OperandDemand::default());
    }
}
