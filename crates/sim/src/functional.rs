//! Functional simulation: values move exactly as the instructions move and
//! compute them. An instruction reads its inputs when it issues and its
//! writes land when it completes (`isa::exec::Machine::effect` / `apply`),
//! so a consumer started before its producer finished sees stale data and
//! a missing or wrong sync token shows up as a wrong result.

use isa::exec::{Effect, Machine};
use isa::{Instr, ProgramHeader, TensorRole};

#[derive(Debug)]
pub struct Functional {
    machine: Machine,
}

/// splitmix64: a small, fixed generator, so a seed gives the same inputs everywhere.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Functional {
    /// Zeroed SRAM and DRAM, with Q, K and V uniform in [−1, 1) from `seed`.
    pub fn new(header: &ProgramHeader, seed: u64) -> Self {
        let mut machine = Machine::new(header);
        let eb = header.element_bytes;
        let mut state = seed;
        for role in [TensorRole::Q, TensorRole::K, TensorRole::V] {
            if let Some(tensor) = header.dram.by_role(role) {
                let first = (tensor.base_bytes / eb) as usize;
                for cell in &mut machine.dram[first..first + tensor.elements() as usize] {
                    // 53 random bits → [0, 1) → [−1, 1), rounded to f32 precision.
                    let unit = (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                    *cell = f64::from((2.0 * unit - 1.0) as f32);
                }
            }
        }
        Functional { machine }
    }

    /// The writes `instr` will make, from the values at its issue.
    pub fn issue(&mut self, instr: &Instr) -> Effect {
        self.machine.effect(instr)
    }

    /// Lands the writes of a completed instruction.
    pub fn complete(&mut self, effect: &Effect) {
        self.machine.apply(effect);
    }

    /// max |O − softmax(Q·Kᵀ)·V| over every batch, head and row, the
    /// reference computed in f64 from the DRAM inputs.
    /// The largest |O − reference| a correct run may show: f64 rounding
    /// over the reductions of one output element (d products per score, the
    /// N-term softmax sum, N weighted values), with a margin of 64 ulps per
    /// term. A correct run is about 1e-15 off; one wrong element of a
    /// 64-key row moves O by ~1e-2, far above this.
    pub fn error_limit(header: &ProgramHeader) -> f64 {
        let terms = header
            .dram
            .by_role(TensorRole::K)
            .map_or(1, |k| k.dims[2] + k.dims[3]);
        64.0 * terms as f64 * f64::EPSILON
    }

    pub fn max_abs_error(&self, header: &ProgramHeader) -> f64 {
        let eb = header.element_bytes;
        let (Some(q), Some(k), Some(v), Some(o)) = (
            header.dram.by_role(TensorRole::Q),
            header.dram.by_role(TensorRole::K),
            header.dram.by_role(TensorRole::V),
            header.dram.by_role(TensorRole::O),
        ) else {
            return f64::INFINITY;
        };
        let dram = &self.machine.dram;
        let at = |t: &isa::DramTensor, idx: [u64; 4]| dram[(t.address(idx, eb) / eb) as usize];
        let [batch, heads, n, d] = q.dims;
        let mut worst: f64 = 0.0;
        for b in 0..batch {
            for h in 0..heads {
                for i in 0..n {
                    let scores: Vec<f64> = (0..n)
                        .map(|j| {
                            (0..d)
                                .map(|x| at(q, [b, h, i, x]) * at(k, [b, h, j, x]))
                                .sum()
                        })
                        .collect();
                    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for x in 0..d {
                        let reference: f64 = (0..n)
                            .map(|j| weights[j as usize] * at(v, [b, h, j, x]))
                            .sum::<f64>()
                            / total;
                        worst = worst.max((at(o, [b, h, i, x]) - reference).abs());
                    }
                }
            }
        }
        worst
    }
}
