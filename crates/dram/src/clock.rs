use simkit::Cycle;

/// Exact conversion between the core clock and the memory clock: integer
/// frequencies in Hz and integer arithmetic, so no rounding error accumulates
/// however long the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockCrossing {
    core_hz: u64,
    memory_hz: u64,
}

impl ClockCrossing {
    /// # Panics
    /// If either frequency is zero (configs are validated before this).
    pub fn new(core_hz: u64, memory_hz: u64) -> Self {
        assert!(
            core_hz > 0 && memory_hz > 0,
            "clock frequencies must be positive"
        );
        ClockCrossing { core_hz, memory_hz }
    }

    /// Memory cycles that have started by the end of core cycle `core`:
    /// ⌊(core + 1) · f_mem / f_core⌋.
    pub fn memory_cycles_through(&self, core: Cycle) -> Cycle {
        ((core as u128 + 1) * self.memory_hz as u128 / self.core_hz as u128) as Cycle
    }

    /// The first core cycle during which memory cycle `memory` has completed:
    /// ⌈(memory + 1) · f_core / f_mem⌉ − 1, the smallest core cycle `c` with
    /// `memory_cycles_through(c) > memory`.
    pub fn core_cycle_of(&self, memory: Cycle) -> Cycle {
        let numerator = (memory as u128 + 1) * self.core_hz as u128;
        (numerator.div_ceil(self.memory_hz as u128) as Cycle).saturating_sub(1)
    }

    pub fn core_hz(&self) -> u64 {
        self.core_hz
    }

    pub fn memory_hz(&self) -> u64 {
        self.memory_hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ddr4_3200_against_940_mhz() {
        let x = ClockCrossing::new(940_000_000, 1_600_000_000);
        // 1.6/0.94 = 1.702... memory cycles per core cycle.
        assert_eq!(x.memory_cycles_through(0), 1);
        assert_eq!(x.memory_cycles_through(939_999_999), 1_600_000_000);
        assert_eq!(x.core_cycle_of(1_599_999_999), 939_999_999);
    }

    proptest! {
        #[test]
        fn conversions_are_inverse(core_mhz in 1u64..5000, mem_mhz in 1u64..5000, m in 0u64..1_000_000) {
            let x = ClockCrossing::new(core_mhz * 1_000_000, mem_mhz * 1_000_000);
            let c = x.core_cycle_of(m);
            prop_assert!(x.memory_cycles_through(c) > m);
            prop_assert!(c == 0 || x.memory_cycles_through(c - 1) <= m);
        }
    }
}
