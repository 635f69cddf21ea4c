//! Reference attention: what a program's O must hold, computed in f64
//! straight from the DRAM inputs. Q and O are `[B, H, queries, d]`, K and V
//! `[B, H_kv, keys, d]`; query head h reads KV head h / (H / H_kv), and
//! query row i sits at position `keys − queries + i` (0 in prefill, after
//! the cache in decode), which is what a causal mask and a window compare
//! key positions with.

use crate::{masked, ProgramHeader, TensorRole};

/// Which keys each query sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttentionMask {
    /// Keys at or before the query's position only.
    pub causal: bool,
    /// With `causal`: only the `window` latest of them (the query's own included).
    pub window: Option<u64>,
}

/// Largest |O − softmax(Q·Kᵀ)·V| over every batch, head, row and column
/// (scores not scaled, as the ISA's dataflows compute them); infinity when
/// the layout lacks a tensor.
pub fn max_abs_error(header: &ProgramHeader, dram: &[f64]) -> f64 {
    let eb = header.element_bytes;
    let (Some(q), Some(k), Some(v), Some(o)) = (
        header.dram.by_role(TensorRole::Q),
        header.dram.by_role(TensorRole::K),
        header.dram.by_role(TensorRole::V),
        header.dram.by_role(TensorRole::O),
    ) else {
        return f64::INFINITY;
    };
    let at = |t: &crate::DramTensor, idx: [u64; 4]| dram[(t.address(idx, eb) / eb) as usize];
    let [batch, heads, queries, d] = q.dims;
    let [_, kv_heads, keys, _] = k.dims;
    let group = heads / kv_heads;
    let offset = keys - queries;
    let mask = header.mask;
    let mut worst: f64 = 0.0;
    for b in 0..batch {
        for h in 0..heads {
            let kh = h / group;
            for i in 0..queries {
                // Masked keys score −∞ and weigh exp(−∞) = 0.
                let scores: Vec<f64> = (0..keys)
                    .map(|j| {
                        if mask.causal && masked(offset + i, j, mask.window) {
                            return f64::NEG_INFINITY;
                        }
                        (0..d)
                            .map(|x| at(q, [b, h, i, x]) * at(k, [b, kh, j, x]))
                            .sum()
                    })
                    .collect();
                let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = weights.iter().sum();
                for x in 0..d {
                    let reference: f64 = (0..keys)
                        .map(|j| weights[j as usize] * at(v, [b, kh, j, x]))
                        .sum::<f64>()
                        / total;
                    worst = worst.max((at(o, [b, h, i, x]) - reference).abs());
                }
            }
        }
    }
    worst
}
