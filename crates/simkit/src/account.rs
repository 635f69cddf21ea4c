use crate::Cycle;
use std::fmt;

/// Why a unit could not make progress in a cycle. The set is closed: the
/// statistics and CSV columns are derived from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StallReason {
    /// Waiting for a sync token that another unit has not signalled yet.
    WaitToken,
    /// More requests to one SRAM bank in a cycle than the bank has ports.
    SramBankConflict,
    /// DRAM could not deliver data faster.
    DramBandwidth,
    /// The DRAM controller's request queue was full.
    DramQueueFull,
    /// An operand is not (yet) present where the unit reads it.
    OperandNotReady,
    /// The unit's output could not be accepted downstream.
    OutputBackpressure,
}

impl StallReason {
    /// Every reason, in the order used for statistics and CSV columns.
    pub const ALL: [StallReason; 6] = [
        StallReason::WaitToken,
        StallReason::SramBankConflict,
        StallReason::DramBandwidth,
        StallReason::DramQueueFull,
        StallReason::OperandNotReady,
        StallReason::OutputBackpressure,
    ];

    /// The snake_case name used in statistics (`stall_<name>_cycles`).
    pub const fn name(self) -> &'static str {
        match self {
            StallReason::WaitToken => "wait_token",
            StallReason::SramBankConflict => "sram_bank_conflict",
            StallReason::DramBandwidth => "dram_bandwidth",
            StallReason::DramQueueFull => "dram_queue_full",
            StallReason::OperandNotReady => "operand_not_ready",
            StallReason::OutputBackpressure => "output_backpressure",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for StallReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a unit did in one cycle: exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CycleState {
    Busy,
    Idle,
    Stalled(StallReason),
}

/// Exact per-unit cycle accounting: every cycle is charged to one state, so
/// busy + Σ stalls + idle always equals the cycles charged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleAccount {
    busy_cycles: u64,
    idle_cycles: u64,
    stall_cycles: [u64; StallReason::ALL.len()],
}

/// The account does not add up to the total the driver simulated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountError {
    pub charged_cycles: u64,
    pub total_cycles: u64,
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cycle accounting broken: busy + stalls + idle = {} but total = {}",
            self.charged_cycles, self.total_cycles
        )
    }
}

impl std::error::Error for AccountError {}

impl CycleAccount {
    /// Charges `cycles` cycles to `state`.
    pub fn charge(&mut self, state: CycleState, cycles: Cycle) {
        match state {
            CycleState::Busy => self.busy_cycles += cycles,
            CycleState::Idle => self.idle_cycles += cycles,
            CycleState::Stalled(reason) => self.stall_cycles[reason.index()] += cycles,
        }
    }

    pub fn busy_cycles(&self) -> u64 {
        self.busy_cycles
    }

    pub fn idle_cycles(&self) -> u64 {
        self.idle_cycles
    }

    pub fn stall_cycles(&self, reason: StallReason) -> u64 {
        self.stall_cycles[reason.index()]
    }

    pub fn total_stall_cycles(&self) -> u64 {
        self.stall_cycles.iter().sum()
    }

    /// The cycles charged to each state since `earlier`, an earlier copy of
    /// this account.
    pub fn since(&self, earlier: &CycleAccount) -> CycleAccount {
        CycleAccount {
            busy_cycles: self.busy_cycles - earlier.busy_cycles,
            idle_cycles: self.idle_cycles - earlier.idle_cycles,
            stall_cycles: std::array::from_fn(|i| self.stall_cycles[i] - earlier.stall_cycles[i]),
        }
    }

    /// Every state with the cycles charged to it (zero included): busy,
    /// idle, then the stalls in [`StallReason::ALL`] order.
    pub fn states(&self) -> impl Iterator<Item = (CycleState, u64)> + '_ {
        [
            (CycleState::Busy, self.busy_cycles),
            (CycleState::Idle, self.idle_cycles),
        ]
        .into_iter()
        .chain(
            StallReason::ALL
                .iter()
                .map(|&r| (CycleState::Stalled(r), self.stall_cycles[r.index()])),
        )
    }

    /// busy + Σ stalls + idle.
    pub fn charged_cycles(&self) -> u64 {
        self.busy_cycles + self.idle_cycles + self.total_stall_cycles()
    }

    /// Checks that the account covers exactly `total_cycles`.
    pub fn check(&self, total_cycles: u64) -> Result<(), AccountError> {
        let charged_cycles = self.charged_cycles();
        if charged_cycles == total_cycles {
            Ok(())
        } else {
            Err(AccountError {
                charged_cycles,
                total_cycles,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state_strategy() -> impl Strategy<Value = CycleState> {
        prop_oneof![
            Just(CycleState::Busy),
            Just(CycleState::Idle),
            (0..StallReason::ALL.len()).prop_map(|i| CycleState::Stalled(StallReason::ALL[i])),
        ]
    }

    proptest! {
        #[test]
        fn charges_add_up(charges in proptest::collection::vec((state_strategy(), 0u64..1000), 0..50)) {
            let mut account = CycleAccount::default();
            let mut total = 0;
            for (state, cycles) in &charges {
                account.charge(*state, *cycles);
                total += cycles;
            }
            prop_assert!(account.check(total).is_ok());
            prop_assert!(total == 0 || account.check(total - 1).is_err());
        }
    }

    #[test]
    fn stall_names_are_unique_snake_case() {
        let names: std::collections::BTreeSet<_> =
            StallReason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), StallReason::ALL.len());
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }

    #[test]
    fn reasons_are_charged_separately() {
        let mut account = CycleAccount::default();
        account.charge(CycleState::Stalled(StallReason::DramBandwidth), 3);
        account.charge(CycleState::Stalled(StallReason::WaitToken), 4);
        account.charge(CycleState::Busy, 5);
        assert_eq!(account.stall_cycles(StallReason::DramBandwidth), 3);
        assert_eq!(account.stall_cycles(StallReason::WaitToken), 4);
        assert_eq!(account.stall_cycles(StallReason::SramBankConflict), 0);
        assert_eq!(account.total_stall_cycles(), 7);
        assert_eq!(account.charged_cycles(), 12);
        let earlier = account.clone();
        account.charge(CycleState::Busy, 2);
        let delta = account.since(&earlier);
        assert_eq!(delta.charged_cycles(), 2);
        let charged: Vec<_> = delta.states().filter(|&(_, c)| c > 0).collect();
        assert_eq!(charged, [(CycleState::Busy, 2)]);
        assert_eq!(account.states().map(|(_, c)| c).sum::<u64>(), 14);
    }
}
