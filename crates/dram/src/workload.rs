//! The synthetic request streams of `../shared/reference/dram-tracegen.py`,
//! regenerated exactly (splitmix64 with seed 42), for tests, benchmarks and
//! trace files. [`fnv1a64`] is the checksum the reference rows carry.

/// The splitmix64 generator.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
}

impl Iterator for SplitMix64 {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Some(z ^ (z >> 31))
    }
}

/// A workload kind of the reference generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    SeqRead,
    RandRead,
    /// Random addresses; every third request a write.
    MixedRand2r1w,
    /// Sequential addresses; every third request a write.
    MixedSeq2r1w,
    /// Request i at i · bank_stride: every request a new row of one bank.
    OnebankStrideRead,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 5] = [
        WorkloadKind::SeqRead,
        WorkloadKind::RandRead,
        WorkloadKind::MixedRand2r1w,
        WorkloadKind::MixedSeq2r1w,
        WorkloadKind::OnebankStrideRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::SeqRead => "seq_read",
            WorkloadKind::RandRead => "rand_read",
            WorkloadKind::MixedRand2r1w => "mixed_rand_2r1w",
            WorkloadKind::MixedSeq2r1w => "mixed_seq_2r1w",
            WorkloadKind::OnebankStrideRead => "onebank_stride_read",
        }
    }

    pub fn parse(text: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|k| k.name() == text)
    }
}

/// Parameters of one generated stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub requests: u64,
    /// Bytes per request.
    pub request_bytes: u64,
    /// Addresses fall in `0..capacity_bytes`.
    pub capacity_bytes: u64,
    /// Bytes between two consecutive rows of one bank (one-bank stream).
    pub bank_stride_bytes: u64,
}

impl Workload {
    /// `(addr, is_write)` of request 0, 1, …, requests − 1.
    pub fn requests(&self) -> impl Iterator<Item = (u64, bool)> {
        let w = *self;
        let lines = w.capacity_bytes / w.request_bytes;
        let mut rng = SplitMix64::new(42);
        (0..w.requests).map(move |i| match w.kind {
            WorkloadKind::SeqRead => (i * w.request_bytes, false),
            WorkloadKind::RandRead => (rng.next().unwrap_or(0) % lines * w.request_bytes, false),
            WorkloadKind::MixedRand2r1w => (
                rng.next().unwrap_or(0) % lines * w.request_bytes,
                i % 3 == 2,
            ),
            WorkloadKind::MixedSeq2r1w => (i * w.request_bytes, i % 3 == 2),
            WorkloadKind::OnebankStrideRead => {
                ((i * w.bank_stride_bytes) % w.capacity_bytes, false)
            }
        })
    }
}

/// FNV-1a over the 8 little-endian bytes of `addr | is_write << 63` of each request.
pub fn fnv1a64(requests: impl IntoIterator<Item = (u64, bool)>) -> u64 {
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    for (addr, is_write) in requests {
        let value = addr | (u64::from(is_write) << 63);
        for byte in value.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_python_selftest() {
        // `dram-tracegen.py --selftest` prints this checksum.
        let w = Workload {
            kind: WorkloadKind::RandRead,
            requests: 100_000,
            request_bytes: 64,
            capacity_bytes: 1 << 34,
            bank_stride_bytes: 1 << 18,
        };
        assert_eq!(fnv1a64(w.requests()), 0xec13_0b2f_6501_7f54);
    }

    #[test]
    fn kinds_round_trip_names() {
        for kind in WorkloadKind::ALL {
            assert_eq!(WorkloadKind::parse(kind.name()), Some(kind));
        }
    }
}
