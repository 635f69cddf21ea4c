//! The loop-nest IR: each dataflow is first a printable loop nest — outer
//! *tile loops* shared by L and A (batch, head, row tile, key block), a body
//! of loads, GEMMs and softmax operations per tile, and inner loops where a
//! tile spans several heads. `--emit loops` prints it (FLAT's figure, in
//! text); [`crate::lower`] turns it into instruction streams.

use hwconfig::PeDataflow;
use std::fmt;

/// A loop variable. Tile loops and inner loops bind them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Var {
    /// Batch element.
    B = 0,
    /// Head.
    H = 1,
    /// Row tile (query rows).
    R = 2,
    /// Key block (or chunk).
    C = 3,
}

impl Var {
    pub const fn name(self) -> &'static str {
        match self {
            Var::B => "b",
            Var::H => "h",
            Var::R => "r",
            Var::C => "c",
        }
    }
}

/// The attention problem in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub batch: u64,
    /// Query heads H.
    pub heads: u64,
    /// KV heads H_kv (divides H); the tile loop `h` runs over them.
    pub kv_heads: u64,
    /// Keys per head (N in prefill, kv_len + query_len in decode).
    pub seq_len: u64,
    /// Query rows per head (N in prefill, query_len in decode).
    pub queries: u64,
    pub head_dim: u64,
    pub element_bytes: u64,
    /// Which keys each query sees; query row i sits at position
    /// `seq_len − queries + i`.
    pub mask: isa::reference::AttentionMask,
}

impl Problem {
    /// Query heads per KV head g.
    pub fn group(&self) -> u64 {
        self.heads / self.kv_heads
    }

    /// Position of query row 0 (0 in prefill, kv_len in decode).
    pub fn query_offset(&self) -> u64 {
        self.seq_len - self.queries
    }

    /// Whether some query of rows `[q_start, +q_len)` cannot see some key of
    /// `[k_start, +k_len)` (the tile needs masking).
    pub fn partly_masked(&self, q_start: u64, q_len: u64, k_start: u64, k_len: u64) -> bool {
        let (q0, q1) = (
            self.query_offset() + q_start,
            self.query_offset() + q_start + q_len - 1,
        );
        let (k0, k1) = (k_start, k_start + k_len - 1);
        self.mask.causal && (k1 > q0 || self.mask.window.is_some_and(|w| k0 + w <= q1))
    }

    /// `(first, count)` of the keys row tile `tile` of `rows` query rows
    /// sees: from its first query's earliest key to its last query.
    pub fn visible_keys(&self, tile: u64, rows: u64) -> (u64, u64) {
        if !self.mask.causal {
            return (0, self.seq_len);
        }
        let q0 = self.query_offset() + tile * rows;
        let q1 = self.query_offset() + ((tile + 1) * rows).min(self.queries) - 1;
        let lo = match self.mask.window {
            Some(w) if q0 + 1 > w => q0 + 1 - w,
            _ => 0,
        };
        (lo, q1 + 1 - lo)
    }

    /// Key blocks `[lo, hi)` of `r.cols` keys that row tile `tile` sees at
    /// least in part; the others are masked entirely and skipped.
    pub fn visible_blocks(&self, r: KeyRange, tile: u64) -> (u64, u64) {
        let blocks = self.seq_len.div_ceil(r.cols);
        if !self.mask.causal {
            return (0, blocks);
        }
        let q0 = self.query_offset() + tile * r.rows;
        let q1 = self.query_offset() + ((tile + 1) * r.rows).min(self.queries) - 1;
        let hi = (q1 / r.cols + 1).min(blocks);
        // Query q0's earliest key is q0 − W + 1.
        let lo = match self.mask.window {
            Some(w) if q0 + 1 > w => (q0 + 1 - w) / r.cols,
            _ => 0,
        };
        (lo, hi)
    }
}

/// A causal mask restricts a phase's key-block loop `c` to the blocks the
/// row tile `r` (of `rows` query rows per head) sees: [`Problem::visible_blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRange {
    pub rows: u64,
    pub cols: u64,
}

/// Which heads a buffer slot or a DRAM slice holds, counted in KV heads:
/// a K or V buffer (or slice) holds that many heads, a query-side one
/// (Q, O, scores) the g query heads of each, stacked (head-major), so that
/// one GEMM serves the whole group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heads {
    /// All B·H_kv KV heads.
    All,
    /// The H_kv KV heads of batch element `b`.
    Batch,
    /// KV head `(b, h)`.
    One,
}

impl Heads {
    /// KV heads covered.
    pub fn kv_count(self, p: &Problem) -> u64 {
        match self {
            Heads::All => p.batch * p.kv_heads,
            Heads::Batch => p.kv_heads,
            Heads::One => 1,
        }
    }

    /// Heads held by a buffer or slice: KV heads on the `kv` side, else query heads.
    pub fn count(self, p: &Problem, kv: bool) -> u64 {
        self.kv_count(p) * if kv { 1 } else { p.group() }
    }
}

/// Rows or columns `[i·size, min((i+1)·size, total))` where `i` is the
/// variable's value (modulo `modulo` when set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub var: Var,
    pub size: u64,
    pub total: u64,
    pub modulo: Option<u64>,
}

/// A length along one dimension: everything, or one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// The whole dimension (`n` elements).
    All(u64),
    Block(Block),
    /// The keys row tile `r` of `rows` query rows per head sees under a
    /// causal mask, from its first query's earliest key to its last query
    /// (all `keys` without a mask): [`Problem::visible_keys`].
    Visible {
        rows: u64,
        keys: u64,
    },
}

impl Span {
    /// The largest length this span takes.
    pub fn max_len(&self) -> u64 {
        match self {
            Span::All(n) => *n,
            Span::Block(b) => b.size.min(b.total),
            Span::Visible { keys, .. } => *keys,
        }
    }
}

/// A DRAM tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tensor {
    Q,
    K,
    V,
    O,
    /// The spilled scores `[B, H, N, N]`.
    Scores,
    /// Keys in blocks while `c < chunks`, then values: K chunk `c`, then V chunk `c − chunks`.
    KeysThenValues {
        chunks: u64,
    },
}

impl Tensor {
    /// Whether the tensor is indexed by KV head (K and V) rather than query head.
    pub fn kv(self) -> bool {
        matches!(self, Tensor::K | Tensor::V | Tensor::KeysThenValues { .. })
    }
}

/// A tile of a DRAM tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub tensor: Tensor,
    pub heads: Heads,
    pub rows: Span,
    pub cols: Span,
}

/// Index into [`LoopNest::buffers`]; also the region id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BufId(pub usize);

/// An SRAM buffer: `slots` slots, each holding `heads` heads of
/// `rows × cols` elements (row-major, heads one after another). The slot in
/// use is the linear index of the first `key_depth` tile loops modulo
/// `slots`, so a double-buffered tile alternates with each new key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub name: &'static str,
    pub what: &'static str,
    pub heads: Heads,
    pub rows: Span,
    pub cols: Span,
    pub slots: u32,
    pub key_depth: usize,
    /// Listed apart from FLAT's Table 2 (per-row softmax statistics).
    pub extra: bool,
    /// Slots beyond Table 2's count, listed apart as extras (the score
    /// buffer's second slot, which lets the PE array and the vector unit overlap).
    pub extra_slots: u32,
    /// Elements of padding after each row in SRAM, so that rows whose
    /// length is an even number of bank words start in different banks
    /// (a GEMM writes one row per array row at once). Never moved by DMA.
    pub row_pad: u64,
    /// Holds K or V (one copy per KV head, shared by its query heads).
    pub kv: bool,
}

impl Buffer {
    /// Heads one slot holds.
    pub fn head_count(&self, p: &Problem) -> u64 {
        self.heads.count(p, self.kv)
    }

    /// Elements of one slot, as FLAT's Table 2 counts them (no padding).
    pub fn slot_elements(&self, p: &Problem) -> u64 {
        self.head_count(p) * self.rows.max_len() * self.cols.max_len()
    }

    /// Bytes one slot takes in SRAM, row padding included.
    pub fn slot_bytes_placed(&self, p: &Problem) -> u64 {
        self.head_count(p)
            * self.rows.max_len()
            * (self.cols.max_len() + self.row_pad)
            * p.element_bytes
    }
}

/// When a load is issued relative to its use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadWhen {
    /// For the current tile (the prologue's first loads).
    Now,
    /// At the first step of the current key, for the next key (prefetch).
    Next,
    /// For the next key, in equal parts over the steps of the current key.
    NextSpread,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    pub buf: BufId,
    pub slice: Slice,
    pub when: LoadWhen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Store {
    pub buf: BufId,
    pub slice: Slice,
}

/// A matrix view of a buffer: the current KV head's heads (`per_head`:
/// that head of a K/V buffer, its g query heads stacked in a query-side
/// one) or all heads stacked, restricted to `rows` and `cols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operand {
    pub buf: BufId,
    pub per_head: bool,
    pub rows: Span,
    pub cols: Span,
}

/// Whether a GEMM adds to its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    Never,
    /// Accumulate except when `var == value` (the first block).
    UnlessFirst(Var, u64),
    /// Accumulate except at the first value `var` takes (the first visible key block).
    UnlessFirstOf(Var),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gemm {
    /// `L` (scores) or `A` (context).
    pub what: &'static str,
    pub out: Operand,
    pub a: Operand,
    pub b: Operand,
    pub b_transposed: bool,
    pub accumulate: Accumulate,
    pub dataflow: PeDataflow,
}

/// The softmax operations (see `isa::VectorOp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    RowMax,
    RunningMax,
    ExpSum {
        rescale: bool,
    },
    Rescale,
    Divide,
    /// Sets the scores a causal mask hides to −∞; `rows` and `keys` are the
    /// tile's query rows (per head) and keys. Lowered only where the tile
    /// is partly masked.
    Mask {
        rows: Span,
        keys: Span,
    },
}

/// A vector operation over all rows of `x`; statistics in `max`, `sum`, `factor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VectorStmt {
    pub kind: VectorKind,
    pub x: Operand,
    pub max: Option<BufId>,
    pub sum: Option<BufId>,
    pub factor: Option<BufId>,
}

/// A test on a loop variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    Eq(u64),
    Lt(u64),
    Ge(u64),
    /// The variable's first value (0, or a masked phase's first visible key block).
    First,
    /// Its last value.
    Last,
    /// Any value but the first.
    Later,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cond {
    pub var: Var,
    pub test: Test,
}

impl Cond {
    /// Whether the test holds for `value` of a loop running over `[lo, hi)`.
    pub fn holds(&self, value: u64, (lo, hi): (u64, u64)) -> bool {
        match self.test {
            Test::Eq(k) => value == k,
            Test::Lt(k) => value < k,
            Test::Ge(k) => value >= k,
            Test::First => value == lo,
            Test::Last => value + 1 == hi,
            Test::Later => value > lo,
        }
    }
}

/// A statement of a tile body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// An inner loop (over the heads a tile spans).
    For {
        var: Var,
        extent: u64,
        body: Vec<Stmt>,
    },
    When {
        cond: Cond,
        body: Vec<Stmt>,
    },
    /// Runs one iteration of the phase's first `delay_depth` tile loops
    /// late, with that iteration's indices and the inner loops' own
    /// (software pipelining: the PE array computes the next block's or
    /// tile's scores before this one's P·V). After the last iteration it
    /// runs once more, at every step of the inner loops.
    Delayed(Vec<Stmt>),
    Load(Load),
    Store(Store),
    Gemm(Gemm),
    Vector(VectorStmt),
}

/// A loop nest over tile loops (outermost first) with a body per step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub name: &'static str,
    pub loops: Vec<(Var, u64)>,
    /// Runs once, at the first step's indices, before the loops.
    pub prologue: Vec<Stmt>,
    pub body: Vec<Stmt>,
    /// How many outer tile loops `Delayed` statements lag by one iteration
    /// (all of them: one step late).
    pub delay_depth: usize,
    /// Under a causal mask: the key-block loop `c` runs over the blocks row tile `r` sees.
    pub key_range: Option<KeyRange>,
}

impl Phase {
    /// A phase whose `Delayed` statements (if any) run one step late.
    pub fn new(
        name: &'static str,
        loops: Vec<(Var, u64)>,
        prologue: Vec<Stmt>,
        body: Vec<Stmt>,
    ) -> Self {
        Phase {
            name,
            delay_depth: loops.len(),
            loops,
            prologue,
            body,
            key_range: None,
        }
    }

    /// The phase with its key-block loop restricted to visible blocks when `p` is masked.
    pub fn masked(mut self, p: &Problem, rows: u64, cols: u64) -> Self {
        if p.mask.causal {
            self.key_range = Some(KeyRange { rows, cols });
        }
        self
    }

    /// Indices `Delayed` statements run with, in words.
    fn delayed_indices(&self) -> String {
        let names = |loops: &[(Var, u64)]| -> String {
            loops
                .iter()
                .map(|(v, _)| v.name())
                .collect::<Vec<_>>()
                .join(",")
        };
        if self.delay_depth >= self.loops.len() {
            "previous step's indices".to_string()
        } else {
            format!(
                "previous ({}) step's indices, this {}",
                names(&self.loops[..self.delay_depth]),
                names(&self.loops[self.delay_depth..])
            )
        }
    }
}

/// A dataflow's whole program as loop nests, in phase order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopNest {
    pub title: String,
    pub problem: Problem,
    pub buffers: Vec<Buffer>,
    pub phases: Vec<Phase>,
}

impl LoopNest {
    pub fn buffer(&self, id: BufId) -> &Buffer {
        &self.buffers[id.0]
    }
}

// ---------------------------------------------------------------- printing

fn span(f: &mut fmt::Formatter<'_>, s: &Span) -> fmt::Result {
    match s {
        Span::All(_) => f.write_str(":"),
        Span::Visible { .. } => f.write_str("seen by r"),
        Span::Block(b) => match b.modulo {
            Some(m) => write!(f, "({}%{m})*{}..+{}", b.var.name(), b.size, b.size),
            None => write!(f, "{}*{}..+{}", b.var.name(), b.size, b.size),
        },
    }
}

fn heads(h: Heads) -> &'static str {
    match h {
        Heads::All => "*,*",
        Heads::Batch => "b,*",
        Heads::One => "b,h",
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tensor {
            Tensor::Q => f.write_str("Q")?,
            Tensor::K => f.write_str("K")?,
            Tensor::V => f.write_str("V")?,
            Tensor::O => f.write_str("O")?,
            Tensor::Scores => f.write_str("S")?,
            Tensor::KeysThenValues { chunks } => write!(f, "(c<{chunks} ? K : V)")?,
        }
        write!(f, "[{}][", heads(self.heads))?;
        span(f, &self.rows)?;
        f.write_str("][")?;
        span(f, &self.cols)?;
        f.write_str("]")
    }
}

struct Show<'a, T>(&'a LoopNest, T);

impl fmt::Display for Show<'_, &Operand> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.1;
        let b = self.0.buffer(o.buf);
        write!(f, "{}[{}][", b.name, if o.per_head { "b,h" } else { "*" })?;
        span(f, &o.rows)?;
        f.write_str("][")?;
        span(f, &o.cols)?;
        f.write_str("]")
    }
}

fn indent(f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
    write!(f, "{:width$}", "", width = 2 * depth)
}

fn test(t: &Test) -> String {
    match t {
        Test::Eq(k) => format!("== {k}"),
        Test::Lt(k) => format!("< {k}"),
        Test::Ge(k) => format!(">= {k}"),
        Test::First => "first".to_string(),
        Test::Last => "last".to_string(),
        Test::Later => "> first".to_string(),
    }
}

impl LoopNest {
    fn stmts(
        &self,
        f: &mut fmt::Formatter<'_>,
        phase: &Phase,
        body: &[Stmt],
        depth: usize,
    ) -> fmt::Result {
        for s in body {
            indent(f, depth)?;
            match s {
                Stmt::For { var, extent, body } => {
                    writeln!(f, "for {} in 0..{extent}:", var.name())?;
                    self.stmts(f, phase, body, depth + 1)?;
                }
                Stmt::When { cond, body } => {
                    writeln!(f, "when {} {}:", cond.var.name(), test(&cond.test))?;
                    self.stmts(f, phase, body, depth + 1)?;
                }
                Stmt::Delayed(body) => {
                    writeln!(f, "delayed ({}):", phase.delayed_indices())?;
                    self.stmts(f, phase, body, depth + 1)?;
                }
                Stmt::Load(l) => {
                    let word = match l.when {
                        LoadWhen::Now => "load",
                        LoadWhen::Next => "prefetch next",
                        LoadWhen::NextSpread => "prefetch next (spread over the key's steps)",
                    };
                    writeln!(f, "{word} {} -> {}", l.slice, self.buffer(l.buf).name)?;
                }
                Stmt::Store(st) => {
                    writeln!(f, "store {} -> {}", self.buffer(st.buf).name, st.slice)?
                }
                Stmt::Gemm(g) => {
                    let op = match g.accumulate {
                        Accumulate::Never => "=".to_string(),
                        Accumulate::UnlessFirst(v, k) => format!("(+{}!={k})=", v.name()),
                        Accumulate::UnlessFirstOf(v) => format!("(+{}!=first)=", v.name()),
                    };
                    writeln!(
                        f,
                        "gemm {}: {} {op} {} · {}{}  pe={}",
                        g.what,
                        Show(self, &g.out),
                        Show(self, &g.a),
                        Show(self, &g.b),
                        if g.b_transposed { "ᵀ" } else { "" },
                        g.dataflow
                    )?;
                }
                Stmt::Vector(v) => {
                    let name = |b: Option<BufId>| b.map(|b| self.buffer(b).name).unwrap_or("-");
                    let x = Show(self, &v.x);
                    match v.kind {
                        VectorKind::RowMax => writeln!(f, "vector {} = rowmax {x}", name(v.max))?,
                        VectorKind::RunningMax => writeln!(
                            f,
                            "vector {m}, {fa} = running max {m}, rowmax {x}; {fa} = exp(old {m} − new {m})",
                            m = name(v.max),
                            fa = name(v.factor)
                        )?,
                        VectorKind::ExpSum { rescale } => {
                            let s = name(v.sum);
                            write!(f, "vector {x} = exp({x} − {}); {s} = ", name(v.max))?;
                            if rescale {
                                writeln!(f, "{s}·{} + rowsum", name(v.factor))?
                            } else {
                                writeln!(f, "rowsum")?
                            }
                        }
                        VectorKind::Rescale => writeln!(f, "vector {x} *= {}", name(v.factor))?,
                        VectorKind::Divide => writeln!(f, "vector {x} /= {}", name(v.sum))?,
                        VectorKind::Mask { .. } => {
                            writeln!(f, "vector {x} = −∞ where the causal mask hides a key")?
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for LoopNest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.problem;
        writeln!(f, "# {}", self.title)?;
        writeln!(
            f,
            "# B={} H={} N={} d={}, {}-byte elements",
            p.batch, p.heads, p.seq_len, p.head_dim, p.element_bytes
        )?;
        if p.kv_heads != p.heads || p.queries != p.seq_len {
            writeln!(
                f,
                "# H_kv={} (g={} query heads per KV head), {} queries per head",
                p.kv_heads,
                p.group(),
                p.queries
            )?;
        }
        for b in &self.buffers {
            let key: Vec<&str> = self
                .phases
                .iter()
                .find(|ph| ph.loops.len() >= b.key_depth)
                .map(|ph| {
                    ph.loops[..b.key_depth]
                        .iter()
                        .map(|(v, _)| v.name())
                        .collect()
                })
                .unwrap_or_default();
            let extra_slots = match b.extra_slots {
                0 => String::new(),
                n => format!(" ({n} extra)"),
            };
            let pad = match b.row_pad {
                0 => String::new(),
                n => format!(" (rows padded by {n})"),
            };
            writeln!(
                f,
                "buffer {}: {} slot(s){extra_slots} × {} head(s) × {}×{}{pad}, {} bytes/slot, slot key ({}){} — {}",
                b.name,
                b.slots,
                b.head_count(p),
                b.rows.max_len(),
                b.cols.max_len(),
                b.slot_bytes_placed(p),
                key.join(","),
                if b.extra { ", extra" } else { "" },
                b.what
            )?;
        }
        for phase in &self.phases {
            writeln!(f, "phase {}:", phase.name)?;
            if phase.key_range.is_some() {
                indent(f, 1)?;
                writeln!(
                    f,
                    "# c runs over the key blocks row tile r sees; masked blocks are skipped"
                )?;
            }
            self.stmts(f, phase, &phase.prologue, 1)?;
            for (depth, (var, extent)) in phase.loops.iter().enumerate() {
                indent(f, depth + 1)?;
                writeln!(f, "for {} in 0..{extent}:", var.name())?;
            }
            self.stmts(f, phase, &phase.body, phase.loops.len() + 1)?;
        }
        Ok(())
    }
}
