use simkit::Cycle;

/// Exact conversion between the core clock and the memory clock: integer
/// frequencies in Hz and integer arithmetic, so no rounding error accumulates
/// however long the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockCrossing {
    core_hz: u64,
    memory_hz: u64,
    /// The frequencies divided by their greatest common divisor: the same
    /// ratio in small numbers, so conversions fit 64-bit arithmetic (the
    /// simulator converts on every DRAM tick; 128-bit division is slow).
    core_part: u64,
    memory_part: u64,
}

impl ClockCrossing {
    /// # Panics
    /// If either frequency is zero (configs are validated before this).
    pub fn new(core_hz: u64, memory_hz: u64) -> Self {
        assert!(
            core_hz > 0 && memory_hz > 0,
            "clock frequencies must be positive"
        );
        let divisor = gcd(core_hz, memory_hz);
        ClockCrossing {
            core_hz,
            memory_hz,
            core_part: core_hz / divisor,
            memory_part: memory_hz / divisor,
        }
    }

    /// Memory cycles that have started by the end of core cycle `core`:
    /// ⌊(core + 1) · f_mem / f_core⌋.
    pub fn memory_cycles_through(&self, core: Cycle) -> Cycle {
        match core
            .checked_add(1)
            .and_then(|c| c.checked_mul(self.memory_part))
        {
            Some(numerator) => numerator / self.core_part,
            None => {
                ((core as u128 + 1) * self.memory_part as u128 / self.core_part as u128) as Cycle
            }
        }
    }

    /// The first core cycle during which memory cycle `memory` has completed:
    /// ⌈(memory + 1) · f_core / f_mem⌉ − 1, the smallest core cycle `c` with
    /// `memory_cycles_through(c) > memory`.
    pub fn core_cycle_of(&self, memory: Cycle) -> Cycle {
        let cycles = match memory
            .checked_add(1)
            .and_then(|m| m.checked_mul(self.core_part))
        {
            Some(numerator) => numerator.div_ceil(self.memory_part),
            None => ((memory as u128 + 1) * self.core_part as u128)
                .div_ceil(self.memory_part as u128) as Cycle,
        };
        cycles.saturating_sub(1)
    }

    pub fn core_hz(&self) -> u64 {
        self.core_hz
    }

    pub fn memory_hz(&self) -> u64 {
        self.memory_hz
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
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
        /// The reduced 64-bit arithmetic gives what 128-bit arithmetic on
        /// the frequencies gives, also where it falls back near 2^64.
        #[test]
        fn reduced_ratio_equals_the_frequencies(
            core_hz in 1u64..6_000_000_000, mem_hz in 1u64..6_000_000_000,
            cycle in prop_oneof![0u64..1u64 << 40, (u64::MAX >> 8)..=u64::MAX],
        ) {
            let x = ClockCrossing::new(core_hz, mem_hz);
            let through = (cycle as u128 + 1) * mem_hz as u128 / core_hz as u128;
            if through <= u64::MAX as u128 {
                prop_assert_eq!(x.memory_cycles_through(cycle) as u128, through);
            }
            let core = ((cycle as u128 + 1) * core_hz as u128).div_ceil(mem_hz as u128) - 1;
            if core <= u64::MAX as u128 {
                prop_assert_eq!(x.core_cycle_of(cycle) as u128, core);
            }
        }

        #[test]
        fn conversions_are_inverse(core_mhz in 1u64..5000, mem_mhz in 1u64..5000, m in 0u64..1_000_000) {
            let x = ClockCrossing::new(core_mhz * 1_000_000, mem_mhz * 1_000_000);
            let c = x.core_cycle_of(m);
            prop_assert!(x.memory_cycles_through(c) > m);
            prop_assert!(c == 0 || x.memory_cycles_through(c - 1) <= m);
        }
    }
}
