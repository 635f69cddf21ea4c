use simkit::Cycle;

/// Address → bank interleaving at bank-width granularity, and the per-cycle
/// use of each bank's ports.
///
/// Port use is stamped with the cycle it belongs to, so a new cycle needs no
/// reset pass over all banks: the cost of a cycle is O(chunks touched).
#[derive(Debug, Clone)]
pub(crate) struct Banks {
    chunk_shift: u32,
    bank_mask: u64,
    read_ports: u32,
    write_ports: u32,
    used: Vec<PortUse>,
}

/// Ports of one bank taken in cycle `stamp` (one cache line per bank access).
#[derive(Debug, Clone, Copy)]
struct PortUse {
    stamp: Cycle,
    reads: u32,
    writes: u32,
}

impl Banks {
    /// `banks` and `bank_width_bytes` are powers of two (hwconfig checks it).
    pub(crate) fn new(
        banks: u64,
        bank_width_bytes: u64,
        read_ports: u64,
        write_ports: u64,
    ) -> Self {
        assert!(banks.is_power_of_two() && bank_width_bytes.is_power_of_two());
        let n = banks as usize;
        Banks {
            chunk_shift: bank_width_bytes.trailing_zeros(),
            bank_mask: banks - 1,
            read_ports: u32::try_from(read_ports).unwrap_or(u32::MAX),
            write_ports: u32::try_from(write_ports).unwrap_or(u32::MAX),
            // No cycle is stamped yet: MAX never equals a simulated cycle.
            used: vec![
                PortUse {
                    stamp: Cycle::MAX,
                    reads: 0,
                    writes: 0
                };
                n
            ],
        }
    }

    /// Index of the bank-width chunk holding `addr`.
    pub(crate) fn chunk_of(&self, addr: u64) -> u64 {
        addr >> self.chunk_shift
    }

    /// Takes a port of the bank holding chunk `chunk` in cycle `now`, if one is free.
    pub(crate) fn try_take(&mut self, chunk: u64, now: Cycle, is_write: bool) -> bool {
        let bank = &mut self.used[(chunk & self.bank_mask) as usize];
        if bank.stamp != now {
            *bank = PortUse {
                stamp: now,
                reads: 0,
                writes: 0,
            };
        }
        let (used, ports) = if is_write {
            (&mut bank.writes, self.write_ports)
        } else {
            (&mut bank.reads, self.read_ports)
        };
        if *used < ports {
            *used += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_interleave_and_ports_reset_each_cycle() {
        let mut banks = Banks::new(4, 64, 2, 1);
        assert_eq!(banks.chunk_of(0), 0);
        assert_eq!(banks.chunk_of(63), 0);
        assert_eq!(banks.chunk_of(64 * 5), 5);
        // Chunks 1 and 5 share bank 1: two read ports, one write port.
        assert!(banks.try_take(1, 7, false));
        assert!(banks.try_take(5, 7, false));
        assert!(!banks.try_take(9, 7, false));
        assert!(banks.try_take(1, 7, true));
        assert!(!banks.try_take(5, 7, true));
        assert!(banks.try_take(2, 7, false));
        assert!(banks.try_take(9, 8, false));
    }
}
