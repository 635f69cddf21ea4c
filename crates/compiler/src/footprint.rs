//! Live SRAM bytes of a plan, per tensor, against FLAT's Table 2.

use crate::ir::{LoopNest, Problem};
use crate::plan::Gran;

/// One buffer's bytes (or the bytes of its slots beyond Table 2's count,
/// listed as a separate extra).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorBytes {
    pub name: &'static str,
    pub what: &'static str,
    pub slots: u32,
    /// All slots, without alignment padding.
    pub bytes: u64,
    /// Listed apart from Table 2 (per-row statistics, extra slots).
    pub extra: bool,
}

/// A plan's SRAM requirement and whether it fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub tensors: Vec<TensorBytes>,
    pub capacity_bytes: u64,
    /// Bytes placed including bank-alignment padding; `None` when refused.
    pub allocated_bytes: Option<u64>,
    /// The allocator's refusal, with its numbers.
    pub refusal: Option<isa::AllocError>,
}

impl Footprint {
    pub fn of(nest: &LoopNest, sram: &hwconfig::Sram) -> Self {
        let p = &nest.problem;
        let mut tensors = Vec::new();
        for b in &nest.buffers {
            let slot_bytes = b.slot_elements(p) * p.element_bytes;
            let table2_slots = b.slots - b.extra_slots;
            tensors.push(TensorBytes {
                name: b.name,
                what: b.what,
                slots: table2_slots,
                bytes: slot_bytes * u64::from(table2_slots),
                extra: b.extra,
            });
            if b.extra_slots > 0 {
                tensors.push(TensorBytes {
                    name: b.name,
                    what: "further slots, beyond Table 2 (PE array and vector unit overlap)",
                    slots: b.extra_slots,
                    bytes: slot_bytes * u64::from(b.extra_slots),
                    extra: true,
                });
            }
        }
        let (allocated_bytes, refusal) = match crate::program::allocate(nest, sram) {
            Ok(table) => (Some(table.allocated_bytes()), None),
            Err(e) => (None, Some(e)),
        };
        Footprint {
            tensors,
            capacity_bytes: sram.capacity_bytes,
            allocated_bytes,
            refusal,
        }
    }

    /// Bytes of the tensors Table 2 counts.
    pub fn main_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .filter(|t| !t.extra)
            .map(|t| t.bytes)
            .sum()
    }

    /// Bytes of the extras (softmax statistics, the second score slot).
    pub fn extra_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .filter(|t| t.extra)
            .map(|t| t.bytes)
            .sum()
    }

    /// Everything live: Table 2's tensors plus extras.
    pub fn total_bytes(&self) -> u64 {
        self.main_bytes() + self.extra_bytes()
    }

    pub fn fits(&self) -> bool {
        self.refusal.is_none()
    }
}

/// FLAT's Table 2 buffer requirement in elements (×2 = double buffering):
/// M `8BDN + BHN²`, B `8DN + HN²`, H `8Nd + N²`, R `4Rd + 4Nd + RN`,
/// generalized to grouped KV heads (K and V held once per KV head, a tile
/// holding its g query heads) and to decode (queries ≠ keys).
pub fn table2_elements(p: &Problem, gran: Gran, rows: u64) -> u64 {
    let (b, h, hkv, g, d) = (p.batch, p.heads, p.kv_heads, p.group(), p.head_dim);
    let (nq, n) = (p.queries, p.seq_len);
    match gran {
        Gran::M => 2 * b * d * (2 * h * nq + 2 * hkv * n) + b * h * nq * n,
        Gran::B => 2 * d * (2 * h * nq + 2 * hkv * n) + h * nq * n,
        Gran::H => 2 * d * (2 * g * nq + 2 * n) + g * nq * n,
        Gran::R => {
            let r = rows.min(nq);
            4 * g * r * d + 4 * n * d + g * r * n
        }
    }
}
