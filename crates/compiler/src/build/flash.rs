//! Flash attention: one-pass online softmax over R×C blocks, the P·V GEMM
//! one block late so the PE array and the vector unit overlap.

use super::*;
use crate::ir::*;
use crate::plan::Plan;

pub(super) fn build(p: &Problem, plan: &Plan) -> (Buffers, Vec<Phase>) {
    // Keys n, query rows nq (equal in prefill).
    let (n, nq, d) = (p.seq_len, p.queries, p.head_dim);
    let chunks = n.div_ceil(plan.cols);
    let loops = vec![
        (Var::B, p.batch),
        (Var::H, p.kv_heads),
        (Var::R, nq.div_ceil(plan.rows)),
        (Var::C, chunks),
    ];
    let rows = block(Var::R, plan.rows, nq);
    let keys = block(Var::C, plan.cols, n);
    let one = Heads::One;
    let mut b = Buffers(Vec::new());
    let q = b.add(
        "q",
        "Q rows of the block",
        one,
        rows,
        Span::All(d),
        2,
        3,
        false,
    );
    let k = b.add("k", "K block", one, keys, Span::All(d), 2, 4, false);
    let v = b.add("v", "V block", one, keys, Span::All(d), 2, 4, false);
    b.set_kv(k);
    b.set_kv(v);
    let s = b.add(
        "s",
        "scores S, then P, of the block",
        one,
        rows,
        keys,
        2,
        4,
        false,
    );
    let o = b.add(
        "o",
        "running output of the row block",
        one,
        rows,
        Span::All(d),
        2,
        3,
        false,
    );
    let m = b.add(
        "m",
        "running row maxima",
        one,
        rows,
        Span::All(1),
        2,
        3,
        true,
    );
    let l = b.add("l", "running row sums", one, rows, Span::All(1), 2, 3, true);
    let f = b.add(
        "f",
        "rescale factors exp(m_old − m_new)",
        one,
        rows,
        Span::All(1),
        2,
        3,
        true,
    );
    let load_v = load(
        v,
        Slice {
            tensor: Tensor::V,
            heads: one,
            rows: keys,
            cols: Span::All(d),
        },
        LoadWhen::Next,
    );
    let mut body = vec![
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
    let prologue = prologue_of(&[body.clone(), vec![load_v.clone()]].concat());
    let sv = stacked(s, n, n);
    let ov = stacked(o, n, d);
    let vec_op = |kind, x, max, sum, factor| {
        Stmt::Vector(VectorStmt {
            kind,
            x,
            max,
            sum,
            factor,
        })
    };
    body.push(gemm(
        "L",
        whole(s, n, n),
        whole(q, n, d),
        whole(k, n, d),
        true,
        Accumulate::Never,
        plan.l_dataflow,
    ));
    body.extend(mask(p, sv, rows, keys));
    body.push(when(
        Var::C,
        Test::First,
        vec![
            vec_op(VectorKind::RowMax, sv, Some(m), None, None),
            vec_op(
                VectorKind::ExpSum { rescale: false },
                sv,
                Some(m),
                Some(l),
                None,
            ),
        ],
    ));
    body.push(when(
        Var::C,
        Test::Later,
        vec![
            vec_op(VectorKind::RunningMax, sv, Some(m), None, Some(f)),
            vec_op(
                VectorKind::ExpSum { rescale: true },
                sv,
                Some(m),
                Some(l),
                Some(f),
            ),
        ],
    ));
    body.push(Stmt::Delayed(vec![gemm(
        "A",
        whole(o, n, d),
        whole(s, n, n),
        whole(v, n, d),
        false,
        Accumulate::UnlessFirstOf(Var::C),
        plan.a_dataflow,
    )]));
    // V is read one step late (by the delayed P·V), so its next block is
    // fetched only after that read, into the slot it just freed.
    body.push(load_v);
    body.push(when(
        Var::C,
        Test::Later,
        vec![vec_op(VectorKind::Rescale, ov, None, None, Some(f))],
    ));
    body.push(Stmt::Delayed(vec![when(
        Var::C,
        Test::Last,
        vec![
            vec_op(VectorKind::Divide, ov, None, Some(l), None),
            Stmt::Store(Store {
                buf: o,
                slice: Slice {
                    tensor: Tensor::O,
                    heads: one,
                    rows,
                    cols: Span::All(d),
                },
            }),
        ],
    )]));
    (
        b,
        vec![Phase::new("flash attention", loops, prologue, body).masked(p, plan.rows, plan.cols)],
    )
}
