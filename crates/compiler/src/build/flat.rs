//! FLAT: fused L → three-pass softmax → A per tile of rows, at granularity
//! m, b, h or r, with K and V resident or streamed in chunks (spill).

use super::*;
use crate::ir::*;
use crate::plan::{Gran, Plan};
use hwconfig::Sram;

pub(super) fn build(p: &Problem, plan: &Plan, sram: &Sram) -> (Buffers, Vec<Phase>) {
    // Keys n, query rows nq (equal in prefill).
    let (n, nq, d) = (p.seq_len, p.queries, p.head_dim);
    let gran = plan.gran.unwrap_or(Gran::R);
    let (heads, mut loops) = match gran {
        Gran::M => (Heads::All, vec![]),
        Gran::B => (Heads::Batch, vec![(Var::B, p.batch)]),
        Gran::H => (Heads::One, vec![(Var::B, p.batch), (Var::H, p.kv_heads)]),
        Gran::R => (
            Heads::One,
            vec![
                (Var::B, p.batch),
                (Var::H, p.kv_heads),
                (Var::R, nq.div_ceil(plan.rows)),
            ],
        ),
    };
    let rows = if gran == Gran::R {
        block(Var::R, plan.rows, nq)
    } else {
        Span::All(nq)
    };
    let tile_depth = loops.len();
    // Two score slots: the PE array computes the next tile's L while the
    // vector unit works on this tile's scores, and A runs one tile late
    // (software pipelining along the tile loops, so across row tiles, heads
    // and batches alike).
    let pipelined = plan.score_slots > 1;
    let mut b = Buffers(Vec::new());
    let q = b.add(
        "q",
        "Q rows of the tile",
        heads,
        rows,
        Span::All(d),
        2,
        tile_depth,
        false,
    );
    let q_slice = Slice {
        tensor: Tensor::Q,
        heads,
        rows,
        cols: Span::All(d),
    };
    // K and V: resident per tile (per head at R granularity), or streamed
    // in chunks of C rows through one double-buffered `kv` (spill).
    let chunked = plan.spill.then(|| {
        let chunks = n.div_ceil(plan.cols);
        let chunk = Block {
            var: Var::C,
            size: plan.cols,
            total: n,
            modulo: Some(chunks),
        };
        (chunks, chunk)
    });
    let (k, v) = match chunked {
        Some((chunks, chunk)) => {
            loops.push((Var::C, 2 * chunks));
            let kv = b.add(
                "kv",
                "K chunks, then V chunks, streamed from DRAM (spill)",
                heads,
                Span::Block(chunk),
                Span::All(d),
                2,
                tile_depth + 1,
                false,
            );
            b.set_kv(kv);
            (kv, kv)
        }
        None => {
            // R granularity keeps a head's K and V across its row tiles and
            // loads the next head's in parts alongside them (FLAT's 4Nd).
            let kv_depth = if gran == Gran::R { 2 } else { tile_depth };
            let mut add = |name, what| {
                b.add(
                    name,
                    what,
                    heads,
                    Span::All(n),
                    Span::All(d),
                    2,
                    kv_depth,
                    false,
                )
            };
            let (k, v) = (
                add("k", "K of the tile's heads"),
                add("v", "V of the tile's heads"),
            );
            b.set_kv(k);
            b.set_kv(v);
            (k, v)
        }
    };
    let l = b.add(
        "l",
        "scores L, then probabilities P, of the tile",
        heads,
        rows,
        Span::All(n),
        plan.score_slots,
        if pipelined { tile_depth } else { 0 },
        false,
    );
    b.set_extra_slots(l, plan.score_slots - 1);
    b.spread_rows(l, p, sram);
    let o = b.add(
        "o",
        "O rows of the tile",
        heads,
        rows,
        Span::All(d),
        2,
        tile_depth,
        false,
    );
    let m = b.add("m", "row maxima", heads, rows, Span::All(1), 1, 0, true);
    let s = b.add("s", "row sums", heads, rows, Span::All(1), 1, 0, true);
    // Under a causal mask a row tile with resident K and V computes only the
    // keys it sees (from its first query's earliest key to its last query);
    // the mask hides the rest of that range. Whole rows otherwise.
    let seen = if p.mask.causal && gran == Gran::R && chunked.is_none() {
        Span::Visible {
            rows: plan.rows,
            keys: n,
        }
    } else {
        Span::All(n)
    };
    let scores = Operand {
        cols: seen,
        ..stacked(l, n, n)
    };
    let mut softmax = mask(p, scores, rows, seen);
    softmax.extend(three_pass(scores, m, s));
    let store = Stmt::Store(Store {
        buf: o,
        slice: Slice {
            tensor: Tensor::O,
            heads,
            rows,
            cols: Span::All(d),
        },
    });
    // The L and A GEMMs of every head of the tile, on the keys `l_cols` of
    // the scores and the rows `kv_rows` of K and V.
    let gemms = |l_cols: Span, kv_rows: Span, accumulate| {
        let l_view = view(l, Span::All(n), l_cols);
        let l_gemm = per_head(
            heads,
            p,
            vec![gemm(
                "L",
                l_view,
                whole(q, n, d),
                view(k, kv_rows, Span::All(d)),
                true,
                Accumulate::Never,
                plan.l_dataflow,
            )],
        );
        let a_gemm = per_head(
            heads,
            p,
            vec![gemm(
                "A",
                whole(o, n, d),
                l_view,
                view(v, kv_rows, Span::All(d)),
                false,
                accumulate,
                plan.a_dataflow,
            )],
        );
        (l_gemm, a_gemm)
    };
    let (prologue, body, delay_depth) = match chunked {
        None => {
            let when_kv = if gran == Gran::R {
                LoadWhen::NextSpread
            } else {
                LoadWhen::Next
            };
            let kv_load = |buf, tensor| {
                let slice = Slice {
                    tensor,
                    heads,
                    rows: Span::All(n),
                    cols: Span::All(d),
                };
                load(buf, slice, when_kv)
            };
            let (load_k, load_v) = (kv_load(k, Tensor::K), kv_load(v, Tensor::V));
            let load_q = load(q, q_slice, LoadWhen::Next);
            let (l_gemm, mut a_and_store) = gemms(seen, seen, Accumulate::Never);
            a_and_store.push(store);
            let mut body = if pipelined {
                // A reads V one step late: the next V goes in after that read.
                vec![load_k, load_q]
            } else {
                vec![load_k, load_v.clone(), load_q]
            };
            body.extend(l_gemm);
            body.extend(softmax);
            if pipelined {
                body.push(Stmt::Delayed(a_and_store));
                body.push(load_v);
            } else {
                body.extend(a_and_store);
            }
            (prologue_of(&body), body, loops.len())
        }
        Some((chunks, chunk)) => {
            // Chunk c's columns of the score rows (c − chunks for V's).
            let (l_gemm, a_gemm) = gemms(
                Span::Block(chunk),
                Span::All(n),
                Accumulate::UnlessFirst(Var::C, chunks),
            );
            let chunk_of = |tensor, when_| {
                let slice = Slice {
                    tensor,
                    heads,
                    rows: Span::Block(chunk),
                    cols: Span::All(d),
                };
                load(k, slice, when_)
            };
            let mut body = vec![load(q, q_slice, LoadWhen::Next)];
            let a_and_store = vec![
                when(Var::C, Test::Ge(chunks), a_gemm),
                when(Var::C, Test::Eq(2 * chunks - 1), vec![store]),
            ];
            if pipelined {
                // Tile i streams its K chunks for L(i), then tile i−1's V
                // chunks for A(i−1): each step prefetches the next step's chunk.
                let next_k = chunk_of(Tensor::K, LoadWhen::Next);
                body.push(when(Var::C, Test::Lt(chunks - 1), vec![next_k.clone()]));
                body.push(when(Var::C, Test::Ge(2 * chunks - 1), vec![next_k]));
                body.push(when(Var::C, Test::Lt(chunks), l_gemm));
                body.push(when(Var::C, Test::Eq(chunks - 1), softmax));
                let next_v = when(
                    Var::C,
                    Test::Ge(chunks - 1),
                    vec![when(
                        Var::C,
                        Test::Lt(2 * chunks - 1),
                        vec![chunk_of(Tensor::V, LoadWhen::Next)],
                    )],
                );
                body.push(Stmt::Delayed([vec![next_v], a_and_store].concat()));
                let prologue = vec![
                    load(q, q_slice, LoadWhen::Now),
                    chunk_of(Tensor::K, LoadWhen::Now),
                ];
                (prologue, body, tile_depth)
            } else {
                body.push(chunk_of(Tensor::KeysThenValues { chunks }, LoadWhen::Next));
                body.push(when(Var::C, Test::Lt(chunks), l_gemm));
                body.push(when(Var::C, Test::Eq(chunks - 1), softmax));
                body.extend(a_and_store);
                (prologue_of(&body), body, loops.len())
            }
        }
    };
    (
        b,
        vec![Phase {
            name: "fused attention",
            loops,
            prologue,
            body,
            delay_depth,
            key_range: None,
        }],
    )
}
