use crate::{Cycle, CycleAccount, CycleState, StallReason, StatDecl, StatValue};

/// A unit's [`CycleAccount`] kept in step with a driver that may skip cycles.
///
/// A unit records the state of every cycle it is ticked in, together with the
/// state it stays in if nothing reaches it (`then`). Cycles the driver skips
/// (fast-forward) are charged to that `then` state when the unit is next
/// ticked or settled, so a run with fast-forward charges exactly what a run
/// ticking every cycle would — provided the unit's `next_event` reports every
/// cycle at which its state could change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    account: CycleAccount,
    /// First cycle not yet charged.
    next_cycle: Cycle,
    /// State of the cycles from `next_cycle` until the unit is ticked again.
    then: CycleState,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            account: CycleAccount::default(),
            next_cycle: 0,
            then: CycleState::Idle,
        }
    }
}

impl Ledger {
    /// Charges the skipped cycles before `now` to the previous `then` state,
    /// cycle `now` to `state`, and remembers `then` for later skipped cycles.
    ///
    /// # Panics
    /// If `now` was already charged: ticking a cycle twice is a driver bug.
    pub fn record(&mut self, now: Cycle, state: CycleState, then: CycleState) {
        assert!(
            now >= self.next_cycle,
            "cycle {now} charged twice (next uncharged cycle is {})",
            self.next_cycle
        );
        self.account.charge(self.then, now - self.next_cycle);
        self.account.charge(state, 1);
        self.next_cycle = now + 1;
        self.then = then;
    }

    /// Charges the cycles before `end` that were not charged yet to the
    /// current `then` state and returns the account, which then covers
    /// exactly `0..end` (or more, if cycles at or after `end` were ticked).
    pub fn settle(&mut self, end: Cycle) -> &CycleAccount {
        if end > self.next_cycle {
            self.account.charge(self.then, end - self.next_cycle);
            self.next_cycle = end;
        }
        &self.account
    }

    /// The account of the cycles charged so far.
    pub fn account(&self) -> &CycleAccount {
        &self.account
    }

    /// The first cycle not yet charged.
    pub fn next_cycle(&self) -> Cycle {
        self.next_cycle
    }
}

/// Declarations of the cycle-account statistics every unit reports (design
/// §6): total, busy, idle and one stall counter per [`StallReason`].
pub const ACCOUNT_STATS: [StatDecl; 3 + StallReason::ALL.len()] = [
    StatDecl {
        name: "total_cycles",
        unit: "cycles",
        description: "Cycles simulated.",
    },
    StatDecl {
        name: "busy_cycles",
        unit: "cycles",
        description: "Cycles the unit did work.",
    },
    StatDecl {
        name: "idle_cycles",
        unit: "cycles",
        description: "Cycles the unit had nothing to do.",
    },
    StatDecl {
        name: "stall_wait_token_cycles",
        unit: "cycles",
        description: "Cycles stalled waiting for a sync token of another unit.",
    },
    StatDecl {
        name: "stall_sram_bank_conflict_cycles",
        unit: "cycles",
        description: "Cycles stalled because SRAM bank ports were taken.",
    },
    StatDecl {
        name: "stall_dram_bandwidth_cycles",
        unit: "cycles",
        description: "Cycles stalled waiting for DRAM data.",
    },
    StatDecl {
        name: "stall_dram_queue_full_cycles",
        unit: "cycles",
        description: "Cycles stalled because the DRAM request queue was full.",
    },
    StatDecl {
        name: "stall_operand_not_ready_cycles",
        unit: "cycles",
        description: "Cycles stalled because an operand was not ready.",
    },
    StatDecl {
        name: "stall_output_backpressure_cycles",
        unit: "cycles",
        description: "Cycles stalled because the output could not be accepted.",
    },
];

/// The values of [`ACCOUNT_STATS`] for `account`, which covers `total_cycles`.
pub fn account_stats(account: &CycleAccount, total_cycles: Cycle) -> Vec<StatValue> {
    let [total, busy, idle, stalls @ ..] = &ACCOUNT_STATS;
    let mut values = vec![
        total.value(total_cycles as f64),
        busy.value(account.busy_cycles() as f64),
        idle.value(account.idle_cycles() as f64),
    ];
    values.extend(
        stalls
            .iter()
            .zip(StallReason::ALL)
            .map(|(decl, reason)| decl.value(account.stall_cycles(reason) as f64)),
    );
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_cycles_take_the_then_state() {
        let mut ledger = Ledger::default();
        let wait = CycleState::Stalled(StallReason::DramBandwidth);
        ledger.record(3, CycleState::Busy, wait);
        ledger.record(10, CycleState::Busy, CycleState::Idle);
        let account = ledger.settle(20).clone();
        assert_eq!(account.idle_cycles(), 3 + 9);
        assert_eq!(account.busy_cycles(), 2);
        assert_eq!(account.stall_cycles(StallReason::DramBandwidth), 6);
        assert!(account.check(20).is_ok());
    }

    #[test]
    fn stall_declarations_follow_reason_names() {
        for (decl, reason) in ACCOUNT_STATS[3..].iter().zip(StallReason::ALL) {
            assert_eq!(decl.name, format!("stall_{}_cycles", reason.name()));
        }
        let mut account = CycleAccount::default();
        account.charge(CycleState::Stalled(StallReason::OutputBackpressure), 4);
        let values = account_stats(&account, 4);
        assert_eq!(values.len(), ACCOUNT_STATS.len());
        assert_eq!(values.last().map(|v| v.value), Some(4.0));
    }

    #[test]
    #[should_panic(expected = "charged twice")]
    fn ticking_a_cycle_twice_is_a_bug() {
        let mut ledger = Ledger::default();
        ledger.record(5, CycleState::Busy, CycleState::Idle);
        ledger.record(5, CycleState::Busy, CycleState::Idle);
    }
}
