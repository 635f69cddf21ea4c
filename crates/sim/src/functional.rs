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

    /// The largest |O − reference| a correct run may show: f64 rounding
    /// over the reductions of one output element (d products per score, the
    /// N-term softmax sum, N weighted values), with a margin of 64 ulps per
    /// term. A correct run is about 1e-15 off; one wrong key moves O by far more.
    pub fn error_limit(header: &ProgramHeader) -> f64 {
        let terms = header
            .dram
            .by_role(TensorRole::K)
            .map_or(1, |k| k.dims[2] + k.dims[3]);
        64.0 * terms as f64 * f64::EPSILON
    }

    /// max |O − reference attention| (`isa::reference`).
    pub fn max_abs_error(&self, header: &ProgramHeader) -> f64 {
        isa::reference::max_abs_error(header, &self.machine.dram)
    }
}
