use simkit::Cycle;

/// Address → bank interleaving at bank-width granularity, and the per-cycle
/// use of each bank's ports.
///
/// Port use is kept as bit sets over the banks, one per port: `taken[d][k]`
/// holds the banks with more than `k` ports of direction `d` taken in cycle
/// `stamp`. A request whose chunks lie in distinct banks (any request within
/// one SRAM line) is granted with a few word operations, whatever its size;
/// a new cycle clears the sets, so nothing is done per bank per cycle.
#[derive(Debug, Clone)]
pub(crate) struct Banks {
    chunk_shift: u32,
    banks: u64,
    ports: [usize; 2],
    stamp: Cycle,
    /// Per direction (read, write), per port, `words` words of bank bits.
    taken: [Vec<u128>; 2],
    words: usize,
}

const WORD: u64 = u128::BITS as u64;

impl Banks {
    /// `banks` and `bank_width_bytes` are powers of two (hwconfig checks it).
    pub(crate) fn new(
        banks: u64,
        bank_width_bytes: u64,
        read_ports: u64,
        write_ports: u64,
    ) -> Self {
        assert!(banks.is_power_of_two() && bank_width_bytes.is_power_of_two());
        let words = banks.div_ceil(WORD) as usize;
        let ports = [read_ports, write_ports].map(|p| usize::try_from(p).unwrap_or(usize::MAX));
        Banks {
            chunk_shift: bank_width_bytes.trailing_zeros(),
            banks,
            ports,
            // No cycle is stamped yet: MAX never equals a simulated cycle.
            stamp: Cycle::MAX,
            taken: ports.map(|p| vec![0; p * words]),
            words,
        }
    }

    /// Number of banks.
    pub(crate) fn count(&self) -> u64 {
        self.banks
    }

    /// Index of the bank-width chunk holding `addr`.
    pub(crate) fn chunk_of(&self, addr: u64) -> u64 {
        addr >> self.chunk_shift
    }

    fn bank_of(&self, chunk: u64) -> u64 {
        chunk & (self.banks - 1)
    }

    fn new_cycle(&mut self, now: Cycle) {
        if self.stamp != now {
            self.stamp = now;
            for layers in &mut self.taken {
                layers.fill(0);
            }
        }
    }

    /// Grants ports in cycle `now` to the chunks `first_chunk + i` for the
    /// bits `i` of `chunks` whose bank still has a free port of the
    /// direction, in ascending order of `i`; returns the granted bits.
    pub(crate) fn grant(
        &mut self,
        now: Cycle,
        first_chunk: u64,
        chunks: u128,
        is_write: bool,
    ) -> u128 {
        self.new_cycle(now);
        let dir = usize::from(is_write);
        if self.ports[dir] == 0 {
            return 0;
        }
        if self.banks >= WORD {
            // At most 128 chunks: distinct banks.
            return self.grant_distinct(dir, first_chunk, chunks);
        }
        // Runs of `banks` chunks fall in distinct banks; a later run sees
        // the ports the earlier ones took.
        let n = self.banks as u32;
        let run_mask = (1u128 << n) - 1;
        let mut granted = 0;
        let mut shift = 0;
        while shift < WORD as u32 && chunks >> shift != 0 {
            let run = (chunks >> shift) & run_mask;
            if run != 0 {
                granted |= self.grant_distinct(dir, first_chunk + u64::from(shift), run) << shift;
            }
            shift += n;
        }
        granted
    }

    /// Chunks of one request that fall in distinct banks: the free ones
    /// are granted in one pass, and counted up the port layers (a unary
    /// counter per bank).
    fn grant_distinct(&mut self, dir: usize, first_chunk: u64, chunks: u128) -> u128 {
        let offset = self.bank_of(first_chunk);
        if self.words == 1 {
            let n = self.banks as u32;
            let want = rotate_left(chunks, offset as u32, n);
            let layers = &mut self.taken[dir];
            let granted = want & !layers[layers.len() - 1];
            let mut carry = granted;
            for layer in layers.iter_mut() {
                if carry == 0 {
                    break;
                }
                let fresh = carry & !*layer;
                *layer |= fresh;
                carry &= !fresh;
            }
            return rotate_left(granted, n - offset as u32, n);
        }
        let ports = self.ports[dir];
        let granted = chunks & !self.window(dir, ports - 1, offset);
        let mut carry = granted;
        for layer in 0..ports {
            if carry == 0 {
                break;
            }
            let fresh = carry & !self.window(dir, layer, offset);
            self.set_window(dir, layer, offset, fresh);
            carry &= !fresh;
        }
        granted
    }

    /// The bits of banks `offset..offset + 128` of layer `layer` of
    /// direction `dir`, bank `offset + i` at bit `i` (several words of banks).
    fn window(&self, dir: usize, layer: usize, offset: u64) -> u128 {
        let words = &self.taken[dir][layer * self.words..(layer + 1) * self.words];
        let (w, s) = ((offset / WORD) as usize, (offset % WORD) as u32);
        let lo = words[w];
        if s == 0 {
            lo
        } else {
            (lo >> s) | (words[(w + 1) % self.words] << (WORD as u32 - s))
        }
    }

    /// Sets `bits`, laid out as by [`Banks::window`].
    fn set_window(&mut self, dir: usize, layer: usize, offset: u64, bits: u128) {
        let words = self.words;
        let slot = &mut self.taken[dir][layer * words..(layer + 1) * words];
        let (w, s) = ((offset / WORD) as usize, (offset % WORD) as u32);
        slot[w] |= bits << s;
        if s != 0 {
            slot[(w + 1) % words] |= bits >> (WORD as u32 - s);
        }
    }
}

/// Rotates the low `n` bits of `x` left by `r` (`r ≤ n ≤ 128`).
fn rotate_left(x: u128, r: u32, n: u32) -> u128 {
    if n == WORD as u32 {
        return x.rotate_left(r);
    }
    let mask = (1u128 << n) - 1;
    let x = x & mask;
    if r == 0 {
        x
    } else {
        ((x << r) | (x >> (n - r))) & mask
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
        assert_eq!(banks.grant(7, 1, 1, false), 1);
        assert_eq!(banks.grant(7, 5, 1, false), 1);
        assert_eq!(banks.grant(7, 9, 1, false), 0);
        assert_eq!(banks.grant(7, 1, 1, true), 1);
        assert_eq!(banks.grant(7, 5, 1, true), 0);
        assert_eq!(banks.grant(7, 2, 1, false), 1);
        assert_eq!(banks.grant(8, 9, 1, false), 1);
    }

    /// Grants one chunk at a time with explicit per-bank counters.
    fn reference(banks: u64, ports: u32, requests: &[(u64, u128)]) -> Vec<u128> {
        let mut used = vec![0u32; banks as usize];
        requests
            .iter()
            .map(|&(first, chunks)| {
                let mut granted = 0;
                for i in 0..128 {
                    if chunks >> i & 1 == 1 {
                        let bank = ((first + i) % banks) as usize;
                        if used[bank] < ports {
                            used[bank] += 1;
                            granted |= 1u128 << i;
                        }
                    }
                }
                granted
            })
            .collect()
    }

    #[test]
    fn wide_grants_match_chunk_by_chunk_grants() {
        // Deterministic pseudo-random requests over small, word-sized and
        // multi-word bank counts, one to three ports.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for banks in [1u64, 4, 32, 128, 256, 512] {
            for ports in 1..=3u32 {
                for cycle in 0..200 {
                    let requests: Vec<(u64, u128)> = (0..6)
                        .map(|_| {
                            let span = next() % 128 + 1;
                            let mask = if span == 128 {
                                u128::MAX
                            } else {
                                (1u128 << span) - 1
                            };
                            let bits = (u128::from(next()) << 64 | u128::from(next())) & mask;
                            (next() % 10_000, bits | 1)
                        })
                        .collect();
                    let mut model = Banks::new(banks, 64, u64::from(ports), 1);
                    let got: Vec<u128> = requests
                        .iter()
                        .map(|&(first, chunks)| model.grant(cycle, first, chunks, false))
                        .collect();
                    assert_eq!(
                        got,
                        reference(banks, ports, &requests),
                        "{banks} banks, {ports} ports"
                    );
                }
            }
        }
    }
}
