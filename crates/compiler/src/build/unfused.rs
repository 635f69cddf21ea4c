//! Unfused attention: L for every tile, then softmax, then A, with the
//! scores in SRAM when they fit and in DRAM otherwise.

use super::*;
use crate::ir::*;
use crate::plan::Plan;

pub(super) fn build(p: &Problem, plan: &Plan) -> (Buffers, Vec<Phase>) {
    // Keys n, query rows nq (equal in prefill).
    let (n, nq, d) = (p.seq_len, p.queries, p.head_dim);
    let one = Heads::One;
    let (nr, nc) = (nq.div_ceil(plan.rows), n.div_ceil(plan.cols));
    let tiles = vec![
        (Var::B, p.batch),
        (Var::H, p.kv_heads),
        (Var::R, nr),
        (Var::C, nc),
    ];
    let rows = block(Var::R, plan.rows, nq);
    let keys = block(Var::C, plan.cols, n);
    let mut b = Buffers(Vec::new());
    let q = b.add("q", "Q row tile", one, rows, Span::All(d), 2, 3, false);
    let k = b.add("k", "K block", one, keys, Span::All(d), 2, 4, false);
    let v = b.add("v", "V block", one, keys, Span::All(d), 2, 4, false);
    b.set_kv(k);
    b.set_kv(v);
    let o = b.add(
        "o",
        "O row tile (accumulated over key blocks)",
        one,
        rows,
        Span::All(d),
        2,
        3,
        false,
    );
    let scores = |rows, cols| Slice {
        tensor: Tensor::Scores,
        heads: one,
        rows,
        cols,
    };
    let mut phases = Vec::new();

    // Phase 1: L = Q·Kᵀ for every tile.
    let mut l_body = vec![
        load(
            q,
            Slice {
                tensor: Tensor::Q,
                heads: one,
                rows,
                cols: Span::All(d),
            },
            LoadWhen::Next,
        ),
        load(
            k,
            Slice {
                tensor: Tensor::K,
                heads: one,
                rows: keys,
                cols: Span::All(d),
            },
            LoadWhen::Next,
        ),
    ];
    let l_prologue = prologue_of(&l_body);
    // Phase 3's P operand, and phase 2.
    let (p_operand, softmax_phase, a_loads);
    if plan.scores_in_sram {
        let all = b.add(
            "scores",
            "every head's N×N scores",
            Heads::All,
            Span::All(nq),
            Span::All(n),
            1,
            0,
            false,
        );
        let tile = view(all, rows, keys);
        l_body.push(gemm(
            "L",
            tile,
            whole(q, n, d),
            whole(k, n, d),
            true,
            Accumulate::Never,
            plan.l_dataflow,
        ));
        let m = b.add(
            "m",
            "row maxima",
            one,
            Span::All(nq),
            Span::All(1),
            1,
            0,
            true,
        );
        let s = b.add(
            "s",
            "row sums",
            one,
            Span::All(nq),
            Span::All(1),
            1,
            0,
            true,
        );
        softmax_phase = Phase::new(
            "softmax",
            vec![(Var::B, p.batch), (Var::H, p.kv_heads)],
            vec![],
            [
                mask(p, whole(all, n, n), Span::All(nq), Span::All(n)),
                three_pass(whole(all, n, n), m, s),
            ]
            .concat(),
        );
        p_operand = tile;
        a_loads = vec![];
    } else {
        let st = b.add(
            "st",
            "score tile on its way to DRAM",
            one,
            rows,
            keys,
            2,
            4,
            false,
        );
        l_body.push(gemm(
            "L",
            whole(st, n, n),
            whole(q, n, d),
            whole(k, n, d),
            true,
            Accumulate::Never,
            plan.l_dataflow,
        ));
        l_body.push(Stmt::Store(Store {
            buf: st,
            slice: scores(rows, keys),
        }));
        let srows = block(Var::R, plan.softmax_rows, nq);
        let sr = b.add(
            "sr",
            "score rows for softmax",
            one,
            srows,
            Span::All(n),
            2,
            3,
            false,
        );
        let m = b.add("m", "row maxima", one, srows, Span::All(1), 1, 0, true);
        let s = b.add("s", "row sums", one, srows, Span::All(1), 1, 0, true);
        let mut body = vec![load(sr, scores(srows, Span::All(n)), LoadWhen::Next)];
        let prologue = prologue_of(&body);
        // Skipped tiles left their scores unwritten: mask whole rows.
        body.extend(mask(p, whole(sr, n, n), srows, Span::All(n)));
        body.extend(three_pass(whole(sr, n, n), m, s));
        body.push(Stmt::Store(Store {
            buf: sr,
            slice: scores(srows, Span::All(n)),
        }));
        softmax_phase = Phase::new(
            "softmax",
            vec![
                (Var::B, p.batch),
                (Var::H, p.kv_heads),
                (Var::R, nq.div_ceil(plan.softmax_rows)),
            ],
            prologue,
            body,
        );
        let pt = b.add(
            "p",
            "probability tile from DRAM",
            one,
            rows,
            keys,
            2,
            4,
            false,
        );
        p_operand = whole(pt, n, n);
        a_loads = vec![load(pt, scores(rows, keys), LoadWhen::Next)];
    }
    phases.push(
        Phase::new("scores L = Q·Kᵀ", tiles.clone(), l_prologue, l_body)
            .masked(p, plan.rows, plan.cols),
    );
    phases.push(softmax_phase);

    // Phase 3: O = P·V, accumulated over key blocks.
    let mut a_body = a_loads;
    a_body.push(load(
        v,
        Slice {
            tensor: Tensor::V,
            heads: one,
            rows: keys,
            cols: Span::All(d),
        },
        LoadWhen::Next,
    ));
    let a_prologue = prologue_of(&a_body);
    a_body.push(gemm(
        "A",
        whole(o, n, d),
        p_operand,
        whole(v, n, d),
        false,
        Accumulate::UnlessFirstOf(Var::C),
        plan.a_dataflow,
    ));
    a_body.push(when(
        Var::C,
        Test::Last,
        vec![Stmt::Store(Store {
            buf: o,
            slice: Slice {
                tensor: Tensor::O,
                heads: one,
                rows,
                cols: Span::All(d),
            },
        })],
    ));
    phases.push(
        Phase::new("context A = P·V", tiles, a_prologue, a_body).masked(p, plan.rows, plan.cols),
    );
    (b, phases)
}
