//! Builds the loop nest of each dataflow from a [`Plan`]: one file per
//! dataflow ([`flat`], [`flash`], [`unfused`]), with the pieces they share
//! here — buffers, operand views, per-head loops, the three-pass softmax.
//! Head grouping (GQA) is in the IR's [`Heads`]: a tile's query-side
//! buffers hold the query heads of one KV head, stacked.

mod flash;
mod flat;
mod unfused;

use crate::ir::*;
use crate::plan::{Dataflow, Plan};
use hwconfig::{PeDataflow, Sram};

/// Collects buffers and hands out their ids.
pub(super) struct Buffers(pub(super) Vec<Buffer>);

impl Buffers {
    #[allow(clippy::too_many_arguments)] // one line per buffer reads like a table
    pub(super) fn add(
        &mut self,
        name: &'static str,
        what: &'static str,
        heads: Heads,
        rows: Span,
        cols: Span,
        slots: u32,
        key_depth: usize,
        extra: bool,
    ) -> BufId {
        self.0.push(Buffer {
            name,
            what,
            heads,
            rows,
            cols,
            slots,
            key_depth,
            extra,
            extra_slots: 0,
            row_pad: 0,
            kv: false,
        });
        BufId(self.0.len() - 1)
    }

    /// Marks `id` as holding K or V: one copy per KV head.
    pub(super) fn set_kv(&mut self, id: BufId) {
        self.0[id.0].kv = true;
    }

    /// Lists the last `n` slots of `id` apart from Table 2.
    pub(super) fn set_extra_slots(&mut self, id: BufId, n: u32) {
        self.0[id.0].extra_slots = n;
    }

    /// Pads the rows of `id` so they spread over the banks (see [`bank_spread_pad`]).
    pub(super) fn spread_rows(&mut self, id: BufId, p: &Problem, sram: &Sram) {
        let b = &mut self.0[id.0];
        b.row_pad = bank_spread_pad(b.cols.max_len(), p.element_bytes, sram);
    }
}

/// Padding, in elements, after rows of `row_elements`. Rows of an even
/// number of bank words start in the same few banks (every row in the same
/// ones when the row is a multiple of the whole stripe), so the PE array,
/// which writes one output row per array row together, queues on those
/// banks' ports and holds up the vector unit working beside it. One bank
/// word of padding makes the row an odd number of words, co-prime with the
/// power-of-two bank count: consecutive rows start in different banks.
fn bank_spread_pad(row_elements: u64, element_bytes: u64, sram: &Sram) -> u64 {
    let word = sram.bank_width_bytes;
    let even_words = (row_elements * element_bytes).is_multiple_of(2 * word);
    if sram.banks > 1 && word.is_multiple_of(element_bytes) && even_words {
        word / element_bytes
    } else {
        0
    }
}

pub(super) fn block(var: Var, size: u64, total: u64) -> Span {
    Span::Block(Block {
        var,
        size,
        total,
        modulo: None,
    })
}

pub(super) fn view(buf: BufId, rows: Span, cols: Span) -> Operand {
    Operand {
        buf,
        per_head: true,
        rows,
        cols,
    }
}

pub(super) fn whole(buf: BufId, n_rows: u64, n_cols: u64) -> Operand {
    view(buf, Span::All(n_rows), Span::All(n_cols))
}

/// All heads of a buffer stacked (vector operations over every row).
pub(super) fn stacked(buf: BufId, n_rows: u64, n_cols: u64) -> Operand {
    Operand {
        per_head: false,
        ..whole(buf, n_rows, n_cols)
    }
}

pub(super) fn when(var: Var, test: Test, body: Vec<Stmt>) -> Stmt {
    Stmt::When {
        cond: Cond { var, test },
        body,
    }
}

pub(super) fn load(buf: BufId, slice: Slice, when: LoadWhen) -> Stmt {
    Stmt::Load(Load { buf, slice, when })
}

/// The first instance of every load in `body`, for the prologue.
pub(super) fn prologue_of(body: &[Stmt]) -> Vec<Stmt> {
    body.iter()
        .filter_map(|s| match s {
            Stmt::Load(l) => Some(Stmt::Load(Load {
                when: LoadWhen::Now,
                ..*l
            })),
            _ => None,
        })
        .collect()
}

/// Wraps per-head statements in the inner loops over the KV heads a tile
/// spans (each step's query-side operands stack that KV head's query heads).
pub(super) fn per_head(heads: Heads, p: &Problem, body: Vec<Stmt>) -> Vec<Stmt> {
    match heads {
        Heads::One => body,
        Heads::Batch => vec![Stmt::For {
            var: Var::H,
            extent: p.kv_heads,
            body,
        }],
        Heads::All => vec![Stmt::For {
            var: Var::B,
            extent: p.batch,
            body: vec![Stmt::For {
                var: Var::H,
                extent: p.kv_heads,
                body,
            }],
        }],
    }
}

/// Masks the scores `x` of a tile of query rows `rows` and keys `keys`
/// under a causal mask (the lowering emits it only where the mask cuts
/// into the tile); nothing without one.
pub(super) fn mask(p: &Problem, x: Operand, rows: Span, keys: Span) -> Vec<Stmt> {
    if !p.mask.causal {
        return Vec::new();
    }
    vec![Stmt::Vector(VectorStmt {
        kind: VectorKind::Mask { rows, keys },
        x,
        max: None,
        sum: None,
        factor: None,
    })]
}

/// Three-pass softmax over every row of `l`.
pub(super) fn three_pass(l: Operand, max: BufId, sum: BufId) -> Vec<Stmt> {
    let v = |kind| {
        Stmt::Vector(VectorStmt {
            kind,
            x: l,
            max: Some(max),
            sum: Some(sum),
            factor: None,
        })
    };
    vec![
        v(VectorKind::RowMax),
        v(VectorKind::ExpSum { rescale: false }),
        v(VectorKind::Divide),
    ]
}

pub(super) fn gemm(
    what: &'static str,
    out: Operand,
    a: Operand,
    b: Operand,
    b_transposed: bool,
    accumulate: Accumulate,
    dataflow: PeDataflow,
) -> Stmt {
    Stmt::Gemm(Gemm {
        what,
        out,
        a,
        b,
        b_transposed,
        accumulate,
        dataflow,
    })
}

/// The loop nest of `plan` for `p`, with buffers laid out for the banks of `sram`.
pub fn loop_nest(p: &Problem, plan: &Plan, sram: &Sram) -> LoopNest {
    let (buffers, phases) = match plan.dataflow {
        Dataflow::Flat => flat::build(p, plan, sram),
        Dataflow::Flash => flash::build(p, plan),
        Dataflow::Unfused => unfused::build(p, plan),
    };
    LoopNest {
        title: plan.label(),
        problem: *p,
        buffers: buffers.0,
        phases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sram(banks: u64, width: u64) -> Sram {
        let hw = hwconfig::HwConfig::parse(
            "<edge>",
            hwconfig::builtin_preset("edge").unwrap(),
            &[
                format!("sram.banks={banks}"),
                format!("sram.bank_width_bytes={width}"),
            ],
        )
        .unwrap();
        hw.sram
    }

    #[test]
    fn rows_of_an_even_number_of_bank_words_get_one_word_of_padding() {
        let s = sram(256, 64);
        // 4096 two-byte elements: 128 words, every other row in the same banks.
        assert_eq!(bank_spread_pad(4096, 2, &s), 32);
        // 64 elements: 2 words.
        assert_eq!(bank_spread_pad(64, 2, &s), 32);
        // An odd number of words, or less than a word: already spread.
        assert_eq!(bank_spread_pad(96, 2, &s), 0);
        assert_eq!(bank_spread_pad(16, 2, &s), 0);
        // One bank: nothing to spread.
        assert_eq!(bank_spread_pad(4096, 2, &sram(1, 64)), 0);
    }
}
