//! Builds the loop nest of each dataflow from a [`Plan`].

use crate::ir::*;
use crate::plan::{Dataflow, Gran, Plan};
use hwconfig::{PeDataflow, Sram};

/// Collects buffers and hands out their ids.
struct Buffers(Vec<Buffer>);

impl Buffers {
    #[allow(clippy::too_many_arguments)] // one line per buffer reads like a table
    fn add(
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
        });
        BufId(self.0.len() - 1)
    }

    /// Lists the last `n` slots of `id` apart from Table 2.
    fn set_extra_slots(&mut self, id: BufId, n: u32) {
        self.0[id.0].extra_slots = n;
    }

    /// Pads the rows of `id` so they spread over the banks (see [`bank_spread_pad`]).
    fn spread_rows(&mut self, id: BufId, p: &Problem, sram: &Sram) {
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

fn block(var: Var, size: u64, total: u64) -> Span {
    Span::Block(Block {
        var,
        size,
        total,
        modulo: None,
    })
}

fn view(buf: BufId, rows: Span, cols: Span) -> Operand {
    Operand {
        buf,
        per_head: true,
        rows,
        cols,
    }
}

fn whole(buf: BufId, n_rows: u64, n_cols: u64) -> Operand {
    view(buf, Span::All(n_rows), Span::All(n_cols))
}

/// All heads of a buffer stacked (vector operations over every row).
fn stacked(buf: BufId, n_rows: u64, n_cols: u64) -> Operand {
    Operand {
        per_head: false,
        ..whole(buf, n_rows, n_cols)
    }
}

fn when(var: Var, test: Test, body: Vec<Stmt>) -> Stmt {
    Stmt::When {
        cond: Cond { var, test },
        body,
    }
}

fn load(buf: BufId, slice: Slice, when: LoadWhen) -> Stmt {
    Stmt::Load(Load { buf, slice, when })
}

/// The first instance of every load in `body`, for the prologue.
fn prologue_of(body: &[Stmt]) -> Vec<Stmt> {
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

/// Wraps per-head statements in the inner loops over the heads a tile spans.
fn per_head(heads: Heads, p: &Problem, body: Vec<Stmt>) -> Vec<Stmt> {
    match heads {
        Heads::One => body,
        Heads::Batch => vec![Stmt::For {
            var: Var::H,
            extent: p.heads,
            body,
        }],
        Heads::All => vec![Stmt::For {
            var: Var::B,
            extent: p.batch,
            body: vec![Stmt::For {
                var: Var::H,
                extent: p.heads,
                body,
            }],
        }],
    }
}

/// Three-pass softmax over every row of `l`.
fn three_pass(l: Operand, max: BufId, sum: BufId) -> Vec<Stmt> {
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

fn gemm(
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
        Dataflow::Flat => flat(p, plan, sram),
        Dataflow::Flash => flash(p, plan),
        Dataflow::Unfused => unfused(p, plan),
    };
    LoopNest {
        title: plan.label(),
        problem: *p,
        buffers: buffers.0,
        phases,
    }
}

fn flat(p: &Problem, plan: &Plan, sram: &Sram) -> (Buffers, Vec<Phase>) {
    let (n, d) = (p.seq_len, p.head_dim);
    let gran = plan.gran.unwrap_or(Gran::R);
    let (heads, mut loops) = match gran {
        Gran::M => (Heads::All, vec![]),
        Gran::B => (Heads::Batch, vec![(Var::B, p.batch)]),
        Gran::H => (Heads::One, vec![(Var::B, p.batch), (Var::H, p.heads)]),
        Gran::R => (
            Heads::One,
            vec![
                (Var::B, p.batch),
                (Var::H, p.heads),
                (Var::R, n.div_ceil(plan.rows)),
            ],
        ),
    };
    let rows = if gran == Gran::R {
        block(Var::R, plan.rows, n)
    } else {
        Span::All(n)
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
            (
                add("k", "K of the tile's heads"),
                add("v", "V of the tile's heads"),
            )
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
    let softmax = three_pass(stacked(l, n, n), m, s);
    let store = Stmt::Store(Store {
        buf: o,
        slice: Slice {
            tensor: Tensor::O,
            heads,
            rows,
            cols: Span::All(d),
        },
    });
    // The L and A GEMMs of every head of the tile, on the keys `l_cols` of the scores.
    let gemms = |l_cols: Span, accumulate| {
        let l_view = view(l, Span::All(n), l_cols);
        let l_gemm = per_head(
            heads,
            p,
            vec![gemm(
                "L",
                l_view,
                whole(q, n, d),
                whole(k, n, d),
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
                whole(v, n, d),
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
            let (l_gemm, mut a_and_store) = gemms(Span::All(n), Accumulate::Never);
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
            let (l_gemm, a_gemm) =
                gemms(Span::Block(chunk), Accumulate::UnlessFirst(Var::C, chunks));
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
        }],
    )
}

fn flash(p: &Problem, plan: &Plan) -> (Buffers, Vec<Phase>) {
    let (n, d) = (p.seq_len, p.head_dim);
    let chunks = n.div_ceil(plan.cols);
    let loops = vec![
        (Var::B, p.batch),
        (Var::H, p.heads),
        (Var::R, n.div_ceil(plan.rows)),
        (Var::C, chunks),
    ];
    let rows = block(Var::R, plan.rows, n);
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
    body.push(when(
        Var::C,
        Test::Eq(0),
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
        Test::Ge(1),
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
        Accumulate::UnlessFirst(Var::C, 0),
        plan.a_dataflow,
    )]));
    // V is read one step late (by the delayed P·V), so its next block is
    // fetched only after that read, into the slot it just freed.
    body.push(load_v);
    body.push(when(
        Var::C,
        Test::Ge(1),
        vec![vec_op(VectorKind::Rescale, ov, None, None, Some(f))],
    ));
    body.push(Stmt::Delayed(vec![when(
        Var::C,
        Test::Eq(chunks - 1),
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
        vec![Phase::new("flash attention", loops, prologue, body)],
    )
}

fn unfused(p: &Problem, plan: &Plan) -> (Buffers, Vec<Phase>) {
    let (n, d) = (p.seq_len, p.head_dim);
    let one = Heads::One;
    let (nr, nc) = (n.div_ceil(plan.rows), n.div_ceil(plan.cols));
    let tiles = vec![
        (Var::B, p.batch),
        (Var::H, p.heads),
        (Var::R, nr),
        (Var::C, nc),
    ];
    let rows = block(Var::R, plan.rows, n);
    let keys = block(Var::C, plan.cols, n);
    let mut b = Buffers(Vec::new());
    let q = b.add("q", "Q row tile", one, rows, Span::All(d), 2, 3, false);
    let k = b.add("k", "K block", one, keys, Span::All(d), 2, 4, false);
    let v = b.add("v", "V block", one, keys, Span::All(d), 2, 4, false);
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
            Span::All(n),
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
            Span::All(n),
            Span::All(1),
            1,
            0,
            true,
        );
        let s = b.add("s", "row sums", one, Span::All(n), Span::All(1), 1, 0, true);
        softmax_phase = Phase::new(
            "softmax",
            vec![(Var::B, p.batch), (Var::H, p.heads)],
            vec![],
            three_pass(whole(all, n, n), m, s),
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
        let srows = block(Var::R, plan.softmax_rows, n);
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
        body.extend(three_pass(whole(sr, n, n), m, s));
        body.push(Stmt::Store(Store {
            buf: sr,
            slice: scores(srows, Span::All(n)),
        }));
        softmax_phase = Phase::new(
            "softmax",
            vec![
                (Var::B, p.batch),
                (Var::H, p.heads),
                (Var::R, n.div_ceil(plan.softmax_rows)),
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
    phases.push(Phase::new(
        "scores L = Q·Kᵀ",
        tiles.clone(),
        l_prologue,
        l_body,
    ));
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
        Accumulate::UnlessFirst(Var::C, 0),
        plan.a_dataflow,
    ));
    a_body.push(when(
        Var::C,
        Test::Eq(nc - 1),
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
    phases.push(Phase::new("context A = P·V", tiles, a_prologue, a_body));
    (b, phases)
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
