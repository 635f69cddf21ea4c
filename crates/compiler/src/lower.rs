//! Lowering: loop nest → instruction streams.
//!
//! Each statement kind has a pure lowering function of (statement, loop
//! indices) that computes operands and addresses; allocation (buffer →
//! region, slot choice) and token bookkeeping live in the [`Ctx`]. A
//! [`Walker`] steps through the tile loops lazily, so a stream is produced
//! one tile at a time and never held whole.
//!
//! # Tokens
//! One token per (buffer, unit) pair that can conflict: `q.dma` counts the
//! DMA instructions that touched buffer `q`. The context tracks, for every
//! buffer slot (and every head of the spilled scores in DRAM), the last
//! writer and the readers since, and makes each instruction wait for the
//! count its unit's predecessor-in-conflict had reached: read-after-write,
//! write-after-read and write-after-write across units, and within the DMA
//! unit (whose transfers overlap) for the spilled scores. Waits already
//! implied by an earlier wait of the same unit are dropped.

use crate::ir::*;
use isa::{
    DmaDir, DmaInstr, GemmInstr, Instr, RegionId, SramAddr, SramTile, Sync, TokenId, Unit,
    VectorInstr, VectorOp, Wait,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What an access is to, for token bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Buffer(BufId),
    /// The spilled scores in DRAM.
    Scores,
}

/// Loop indices and extents, by [`Var`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    idx: [u64; 4],
}

impl Env {
    fn get(&self, v: Var) -> u64 {
        self.idx[v as usize]
    }
    fn with(mut self, v: Var, value: u64) -> Self {
        self.idx[v as usize] = value;
        self
    }
}

impl Block {
    fn index(&self, env: &Env) -> u64 {
        let i = env.get(self.var);
        self.modulo.map_or(i, |m| i % m)
    }
    fn start(&self, env: &Env) -> u64 {
        self.index(env) * self.size
    }
    fn len(&self, env: &Env) -> u64 {
        self.size.min(self.total.saturating_sub(self.start(env)))
    }
}

/// `(start, len)` of a span of a DRAM tensor dimension.
fn range(span: &Span, env: &Env, p: &Problem) -> (u64, u64) {
    match span {
        Span::All(n) => (0, *n),
        Span::Block(b) => (b.start(env), b.len(env)),
        Span::Visible { rows, .. } => p.visible_keys(env.get(Var::R), *rows),
    }
}

/// Which tokens exist: (target, unit) pairs that can conflict.
#[derive(Clone, Debug, Default)]
pub struct TokenPlan {
    ids: BTreeMap<(Target, Unit), TokenId>,
    pub tokens: Vec<isa::Token>,
}

impl TokenPlan {
    /// Collects every access of every statement and declares a token for
    /// each (target, unit) that another unit, or the DMA unit itself for
    /// DRAM, may conflict with.
    pub fn new(nest: &LoopNest) -> Self {
        let mut uses: BTreeMap<Target, BTreeSet<(Unit, bool)>> = BTreeMap::new();
        fn walk(body: &[Stmt], uses: &mut BTreeMap<Target, BTreeSet<(Unit, bool)>>) {
            for s in body {
                let mut add = |t: Target, u: Unit, w: bool| {
                    uses.entry(t).or_default().insert((u, w));
                };
                match s {
                    Stmt::For { body, .. } | Stmt::When { body, .. } | Stmt::Delayed(body) => {
                        walk(body, uses)
                    }
                    Stmt::Load(l) => {
                        add(Target::Buffer(l.buf), Unit::Dma, true);
                        if l.slice.tensor == Tensor::Scores {
                            add(Target::Scores, Unit::Dma, false);
                        }
                    }
                    Stmt::Store(st) => {
                        add(Target::Buffer(st.buf), Unit::Dma, false);
                        if st.slice.tensor == Tensor::Scores {
                            add(Target::Scores, Unit::Dma, true);
                        }
                    }
                    Stmt::Gemm(g) => {
                        add(Target::Buffer(g.a.buf), Unit::Pe, false);
                        add(Target::Buffer(g.b.buf), Unit::Pe, false);
                        add(Target::Buffer(g.out.buf), Unit::Pe, true);
                    }
                    Stmt::Vector(v) => {
                        add(Target::Buffer(v.x.buf), Unit::Vector, true);
                        for b in [v.max, v.sum, v.factor].into_iter().flatten() {
                            add(Target::Buffer(b), Unit::Vector, true);
                        }
                    }
                }
            }
        }
        for phase in &nest.phases {
            walk(&phase.prologue, &mut uses);
            walk(&phase.body, &mut uses);
        }
        let mut plan = TokenPlan::default();
        for (target, set) in &uses {
            for &(unit, _) in set {
                let (writes, reads) = (set.contains(&(unit, true)), set.contains(&(unit, false)));
                // Another unit waits on this one's writes, or on its reads when it
                // writes; DMA transfers overlap, so a DMA that both reads and writes a
                // target must wait on itself (load after store and back).
                let conflicts = set.iter().any(|&(other, w)| {
                    if other != unit {
                        writes || w
                    } else {
                        unit == Unit::Dma && writes && reads
                    }
                });
                if conflicts && !plan.ids.contains_key(&(*target, unit)) {
                    let name = match target {
                        Target::Buffer(b) => format!("{}.{unit}", nest.buffer(*b).name),
                        Target::Scores => format!("S.{unit}"),
                    };
                    plan.ids
                        .insert((*target, unit), TokenId(plan.tokens.len() as u32));
                    plan.tokens.push(isa::Token { name, unit });
                }
            }
        }
        plan
    }
}

/// Last writer and readers since, of one buffer slot or one DRAM head.
#[derive(Clone, Copy, Debug, Default)]
struct Hazard {
    write: Option<(Unit, u64)>,
    reads: [Option<u64>; 3],
}

/// One access an instruction makes, for token bookkeeping.
#[derive(Clone, Copy, Debug)]
struct Touch {
    target: Target,
    key: u64,
    write: bool,
}

/// Allocation and token bookkeeping shared by the lowering functions.
#[derive(Debug)]
pub struct Ctx<'n> {
    nest: &'n LoopNest,
    tokens: &'n TokenPlan,
    /// Loops of the phase being lowered.
    loops: &'n [(Var, u64)],
    /// Its key range, when masked.
    range: Option<KeyRange>,
    /// Masked phase: visible key blocks of the row tiles before each row
    /// tile (and of all of them, last).
    steps_before: Vec<u64>,
    counts: Vec<u64>,
    waited: [Vec<u64>; 3],
    hazards: BTreeMap<(Target, u64), Hazard>,
    /// Only instructions of this unit are kept (`None`: all).
    keep: Option<Unit>,
    pub out: VecDeque<Instr>,
    /// Census mode: spread loads are emitted whole at their first part.
    census: bool,
    /// DRAM base of each tensor, by `isa::TensorRole`.
    bases: [u64; 5],
}

impl<'n> Ctx<'n> {
    pub fn new(
        nest: &'n LoopNest,
        tokens: &'n TokenPlan,
        keep: Option<Unit>,
        census: bool,
    ) -> Self {
        Ctx {
            nest,
            tokens,
            loops: &[],
            range: None,
            steps_before: Vec::new(),
            counts: vec![0; tokens.tokens.len()],
            waited: std::array::from_fn(|_| vec![0; tokens.tokens.len()]),
            hazards: BTreeMap::new(),
            keep,
            out: VecDeque::new(),
            census,
            bases: crate::program::dram_bases(&nest.problem),
        }
    }

    fn eb(&self) -> u64 {
        self.nest.problem.element_bytes
    }

    /// The loops of the phase being lowered.
    fn nav(&self) -> Loops<'n> {
        Loops {
            loops: self.loops,
            range: self.range,
            problem: &self.nest.problem,
        }
    }

    /// Enters `phase`.
    fn enter(&mut self, phase: &'n Phase) {
        self.loops = &phase.loops;
        self.range = phase.key_range;
        self.steps_before.clear();
        if let Some(r) = phase.key_range {
            let tiles = self.nest.problem.queries.div_ceil(r.rows);
            let mut total = 0;
            for tile in 0..tiles {
                self.steps_before.push(total);
                let (lo, hi) = self.nest.problem.visible_blocks(r, tile);
                total += hi - lo;
            }
            self.steps_before.push(total);
        }
    }

    /// Linear index of the first `depth` tile loops. In a masked phase the
    /// key-block loop counts visible steps only, so consecutive steps
    /// alternate between double-buffer slots across row tiles too.
    fn key_index(&self, env: &Env, depth: usize) -> u64 {
        let last = self.loops.len().saturating_sub(1);
        if self.range.is_some() && depth == self.loops.len() && self.loops[last].0 == Var::C {
            let outer = self.loops[..last - 1]
                .iter()
                .fold(0, |acc, &(v, extent)| acc * extent + env.get(v));
            let r = env.get(Var::R) as usize;
            let lo = self.nav().bounds(Var::C, env).0;
            let per_outer = self.steps_before[self.steps_before.len() - 1];
            return outer * per_outer + self.steps_before[r] + env.get(Var::C) - lo;
        }
        self.loops[..depth]
            .iter()
            .fold(0, |acc, &(v, extent)| acc * extent + env.get(v))
    }

    fn slot(&self, buf: BufId, env: &Env) -> u32 {
        let b = self.nest.buffer(buf);
        (self.key_index(env, b.key_depth) % u64::from(b.slots)) as u32
    }

    /// Index of the first head of the current KV head (b, h) inside a
    /// buffer's slot: the KV head itself on the `kv` side, its first query
    /// head on the query side.
    fn head_in(&self, heads: Heads, kv: bool, env: &Env) -> u64 {
        let p = &self.nest.problem;
        let kv_head = match heads {
            Heads::All => env.get(Var::B) * p.kv_heads + env.get(Var::H),
            Heads::Batch => env.get(Var::H),
            Heads::One => 0,
        };
        kv_head * if kv { 1 } else { p.group() }
    }

    /// The current extent of a buffer dimension.
    fn extent(span: &Span, env: &Env) -> u64 {
        match span {
            Span::All(n) => *n,
            Span::Block(b) => b.len(env),
            Span::Visible { keys, .. } => *keys,
        }
    }

    /// SRAM view of an operand, with its rows and columns. A slot is laid
    /// out densely for the current tile: rows are as long as the buffer's
    /// current column extent (shorter for the last, partial key block), so
    /// DMA transfers, which pack rows densely, agree with the GEMMs; buffers
    /// the DMA never moves may pad their rows (`row_pad`).
    fn operand(&self, o: &Operand, env: &Env) -> (SramTile, u64, u64) {
        let b = self.nest.buffer(o.buf);
        let eb = self.eb();
        // Heads lie one current row extent apart (dense for the current,
        // possibly partial, row tile), so a KV head's query heads stack
        // into one operand.
        let head_rows = Self::extent(&b.rows, env);
        let group = if b.kv { 1 } else { self.nest.problem.group() };
        let (row0, rows) = match o.rows {
            Span::All(_) if o.per_head => (0, group * head_rows),
            Span::All(_) => (0, b.head_count(&self.nest.problem) * head_rows),
            Span::Block(bl) => {
                debug_assert!(group == 1 || !o.per_head, "a row block of one head");
                (bl.start(env), bl.len(env))
            }
            Span::Visible { .. } => {
                debug_assert!(group == 1 || !o.per_head, "keys of one KV head");
                range(&o.rows, env, &self.nest.problem)
            }
        };
        let (col0, cols) = match o.cols {
            Span::All(_) => (0, Self::extent(&b.cols, env)),
            Span::Block(bl) => (bl.start(env), bl.len(env)),
            Span::Visible { .. } => range(&o.cols, env, &self.nest.problem),
        };
        let head = if o.per_head {
            self.head_in(b.heads, b.kv, env)
        } else {
            0
        };
        let stride = Self::extent(&b.cols, env) + b.row_pad;
        let offset = ((head * head_rows + row0) * stride + col0) * eb;
        let tile = SramTile {
            at: SramAddr {
                region: RegionId(o.buf.0 as u32),
                slot: self.slot(o.buf, env),
                offset_bytes: offset,
            },
            row_stride_bytes: stride * eb,
        };
        (tile, rows, cols)
    }

    /// Adds waits and signals for `touches` and queues the instruction.
    fn emit(&mut self, mut instr: Instr, touches: &[Touch]) {
        let unit = instr.unit();
        let u = unit.index();
        let mut waits: BTreeMap<TokenId, u64> = BTreeMap::new();
        for t in touches {
            let h = self
                .hazards
                .get(&(t.target, t.key))
                .copied()
                .unwrap_or_default();
            // PE and vector run one instruction at a time; DMA transfers overlap,
            // but two DMA writes never touch the same bytes unordered (parts are
            // disjoint, reuse waits for the readers in between).
            let mut need = |other: Unit, count: u64, other_writes: bool| {
                if other == unit && (unit != Unit::Dma || (t.write && other_writes)) {
                    return;
                }
                let id = self.tokens.ids[&(t.target, other)];
                let w = waits.entry(id).or_default();
                *w = (*w).max(count);
            };
            if let Some((w, c)) = h.write {
                need(w, c, true);
            }
            if t.write {
                for other in Unit::ALL {
                    if let Some(c) = h.reads[other.index()] {
                        need(other, c, false);
                    }
                }
            }
        }
        let sync = instr.sync_mut();
        for (token, count) in waits {
            let seen = &mut self.waited[u][token.0 as usize];
            if count > *seen {
                *seen = count;
                sync.wait.push(Wait { token, count });
            }
        }
        let mut signalled: Vec<Target> = Vec::new();
        for t in touches {
            if signalled.contains(&t.target) {
                continue;
            }
            signalled.push(t.target);
            if let Some(&id) = self.tokens.ids.get(&(t.target, unit)) {
                self.counts[id.0 as usize] += 1;
                sync.signal.push(id);
            }
        }
        for t in touches {
            let count = self
                .tokens
                .ids
                .get(&(t.target, unit))
                .map_or(0, |id| self.counts[id.0 as usize]);
            let h = self.hazards.entry((t.target, t.key)).or_default();
            if t.write {
                *h = Hazard {
                    write: Some((unit, count)),
                    reads: [None; 3],
                };
            } else {
                h.reads[u] = Some(count);
            }
        }
        if self.keep.is_none_or(|k| k == unit) {
            self.out.push_back(instr);
        }
    }
}

// ------------------------------------------------------ statement lowering

/// Lowers `body` at indices `env`.
pub fn lower_stmts(ctx: &mut Ctx, body: &[Stmt], env: &Env) {
    for s in body {
        match s {
            Stmt::For { var, extent, body } => {
                for i in 0..*extent {
                    lower_stmts(ctx, body, &env.with(*var, i));
                }
            }
            Stmt::When { cond, body } => {
                if cond.holds(env.get(cond.var), ctx.nav().bounds(cond.var, env)) {
                    lower_stmts(ctx, body, env);
                }
            }
            // The walker runs delayed statements with the previous step's indices.
            Stmt::Delayed(_) => {}
            Stmt::Load(l) => lower_load(ctx, l, env),
            Stmt::Store(st) => {
                lower_transfer(ctx, DmaDir::Store, st.buf, &st.slice, env, env, None)
            }
            Stmt::Gemm(g) => lower_gemm(ctx, g, env),
            Stmt::Vector(v) => lower_vector(ctx, v, env),
        }
    }
}

/// Lowers the delayed statements of `body` at indices `env`.
pub fn lower_delayed(ctx: &mut Ctx, body: &[Stmt], env: &Env) {
    for s in body {
        if let Stmt::Delayed(inner) = s {
            lower_stmts(ctx, inner, env);
        }
    }
}

/// A phase's tile loops as the walker steps them: every loop runs over
/// `0..extent`, except a masked phase's key-block loop, which runs over the
/// blocks its row tile sees.
#[derive(Clone, Copy, Debug)]
pub struct Loops<'n> {
    pub loops: &'n [(Var, u64)],
    pub range: Option<KeyRange>,
    pub problem: &'n Problem,
}

impl Loops<'_> {
    /// `[lo, hi)` of loop variable `v` at `env` (which fixes the outer loops).
    pub fn bounds(&self, v: Var, env: &Env) -> (u64, u64) {
        match self.range {
            Some(r) if v == Var::C => self.problem.visible_blocks(r, env.get(Var::R)),
            _ => (
                0,
                self.loops.iter().find(|(w, _)| *w == v).map_or(1, |l| l.1),
            ),
        }
    }

    /// `env` with loops `from..` at their first values.
    fn reset(&self, mut env: Env, from: usize) -> Env {
        for &(v, _) in &self.loops[from..] {
            env = env.with(v, self.bounds(v, &env).0);
        }
        env
    }

    /// The first step of the phase.
    pub fn first(&self) -> Env {
        self.reset(Env { idx: [0; 4] }, 0)
    }

    /// Whether loops `from..` are at their first values.
    fn at_first(&self, env: &Env, from: usize) -> bool {
        self.loops[from..]
            .iter()
            .all(|&(v, _)| env.get(v) == self.bounds(v, env).0)
    }

    /// `env` with the first `depth` tile loops one iteration back and the
    /// inner loops unchanged; `None` at the first iteration.
    fn prev_key(&self, env: &Env, depth: usize) -> Option<Env> {
        for i in (0..depth).rev() {
            let v = self.loops[i].0;
            if env.get(v) > self.bounds(v, env).0 {
                let mut prev = env.with(v, env.get(v) - 1);
                for &(w, _) in &self.loops[i + 1..depth] {
                    prev = prev.with(w, self.bounds(w, &prev).1 - 1);
                }
                return Some(prev);
            }
        }
        None
    }

    /// The step after `env` in loops `from..` with loops `..from` unchanged
    /// (`to` = the loops that may advance), later loops reset; `None` after the last.
    fn advance(&self, env: &Env, from: usize, to: usize) -> Option<Env> {
        for i in (from..to).rev() {
            let v = self.loops[i].0;
            if env.get(v) + 1 < self.bounds(v, env).1 {
                return Some(self.reset(env.with(v, env.get(v) + 1), i + 1));
            }
        }
        None
    }

    /// The step after `env` in the inner loops (after the first `depth`),
    /// outer loops unchanged; `None` after the last.
    fn next_inner(&self, env: &Env, depth: usize) -> Option<Env> {
        self.advance(env, depth, self.loops.len())
    }

    /// The step after `env` in the first `depth` tile loops, inner loops reset.
    fn next_key(&self, env: &Env, depth: usize) -> Option<Env> {
        self.advance(env, 0, depth)
    }
}

fn lower_load(ctx: &mut Ctx, l: &Load, env: &Env) {
    let depth = ctx.nest.buffer(l.buf).key_depth;
    let inner = &ctx.loops[depth..];
    let nav = ctx.nav();
    let first_step = nav.at_first(env, depth);
    match l.when {
        LoadWhen::Now => lower_transfer(ctx, DmaDir::Load, l.buf, &l.slice, env, env, None),
        LoadWhen::Next => {
            if first_step {
                if let Some(next) = nav.next_key(env, depth) {
                    lower_transfer(ctx, DmaDir::Load, l.buf, &l.slice, &next, &next, None);
                }
            }
        }
        LoadWhen::NextSpread => {
            let Some(next) = nav.next_key(env, depth) else {
                return;
            };
            let parts: u64 = inner.iter().map(|&(_, e)| e).product();
            let part = inner.iter().fold(0, |acc, &(v, e)| acc * e + env.get(v));
            if ctx.census {
                if part == 0 {
                    lower_transfer(ctx, DmaDir::Load, l.buf, &l.slice, &next, &next, None);
                }
            } else {
                lower_transfer(
                    ctx,
                    DmaDir::Load,
                    l.buf,
                    &l.slice,
                    &next,
                    &next,
                    Some((part, parts)),
                );
            }
        }
    }
}

/// DMA between `buf` (slot chosen at `buf_env`) and `slice` (at `env`);
/// `part = (p, n)` moves only the p-th of n equal row ranges of a one-head slice.
fn lower_transfer(
    ctx: &mut Ctx,
    dir: DmaDir,
    buf: BufId,
    slice: &Slice,
    env: &Env,
    buf_env: &Env,
    part: Option<(u64, u64)>,
) {
    let p = ctx.nest.problem;
    let eb = ctx.eb();
    let b = ctx.nest.buffer(buf);
    let (tensor_rows, tensor_cols) = match slice.tensor {
        Tensor::Scores => (p.queries, p.seq_len),
        Tensor::Q | Tensor::O => (p.queries, p.head_dim),
        _ => (p.seq_len, p.head_dim),
    };
    let tensor = match slice.tensor {
        Tensor::KeysThenValues { chunks } if env.get(Var::C) < chunks => Tensor::K,
        Tensor::KeysThenValues { .. } => Tensor::V,
        t => t,
    };
    let role = match tensor {
        Tensor::Q => isa::TensorRole::Q,
        Tensor::K => isa::TensorRole::K,
        Tensor::V => isa::TensorRole::V,
        Tensor::O => isa::TensorRole::O,
        Tensor::Scores | Tensor::KeysThenValues { .. } => isa::TensorRole::Spill,
    };
    let base = ctx.bases[role as usize];
    // First DRAM head and heads of the slice: KV heads of K and V, the
    // covered KV heads' query heads otherwise.
    let (kv_head0, kv_heads) = match slice.heads {
        Heads::All => (0, p.batch * p.kv_heads),
        Heads::Batch => (env.get(Var::B) * p.kv_heads, p.kv_heads),
        Heads::One => (env.get(Var::B) * p.kv_heads + env.get(Var::H), 1),
    };
    let per_kv_head = if slice.tensor.kv() { 1 } else { p.group() };
    let (head0, nheads) = (kv_head0 * per_kv_head, kv_heads * per_kv_head);
    let (mut row0, mut rows) = range(&slice.rows, env, &p);
    let (col0, cols) = range(&slice.cols, env, &p);
    let mut sram_row0 = 0;
    if let Some((index, parts)) = part {
        debug_assert_eq!(nheads, 1, "spread loads split one head's rows");
        let size = rows.div_ceil(parts);
        let lo = (index * size).min(rows);
        let hi = ((index + 1) * size).min(rows);
        if lo == hi {
            return;
        }
        (sram_row0, row0, rows) = (lo, row0 + lo, hi - lo);
    }
    let head_rows = Ctx::extent(&b.rows, buf_env);
    let stride = Ctx::extent(&b.cols, buf_env) + b.row_pad;
    debug_assert_eq!(
        cols, stride,
        "a transfer fills whole (unpadded) buffer rows"
    );
    let slot = ctx.slot(buf, buf_env);
    let dram_at =
        |head: u64, row: u64| base + ((head * tensor_rows + row) * tensor_cols + col0) * eb;
    let sram_at = |head: u64, row: u64| SramAddr {
        region: RegionId(buf.0 as u32),
        slot,
        offset_bytes: (head * head_rows + row) * stride * eb,
    };
    let buf_head0 = ctx.head_in(b.heads, b.kv, env);
    // Whole rows of consecutive heads are contiguous in DRAM and in the buffer.
    let contiguous = cols == tensor_cols
        && (nheads == 1 || rows == tensor_rows)
        && (nheads == 1 || head_rows == rows);
    let transfers: Vec<(u64, u64, u64)> = if contiguous {
        vec![(0, rows * nheads, row0)]
    } else {
        (0..nheads).map(|i| (i, rows, row0)).collect()
    };
    for (i, n_rows, row) in transfers {
        let dram_head = head0 + i;
        let mut touches = vec![Touch {
            target: Target::Buffer(buf),
            key: u64::from(slot),
            write: dir == DmaDir::Load,
        }];
        if tensor == Tensor::Scores {
            for h in dram_head..dram_head + if contiguous { nheads } else { 1 } {
                touches.push(Touch {
                    target: Target::Scores,
                    key: h,
                    write: dir == DmaDir::Store,
                });
            }
        }
        let instr = Instr::Dma(DmaInstr {
            dir,
            dram_addr: dram_at(dram_head, row),
            dram_stride_bytes: tensor_cols * eb,
            rows: n_rows,
            row_bytes: cols * eb,
            sram: sram_at(buf_head0 + i, sram_row0),
            sync: Sync::default(),
        });
        ctx.emit(instr, &touches);
    }
}

fn lower_gemm(ctx: &mut Ctx, g: &Gemm, env: &Env) {
    let (c, m, n) = ctx.operand(&g.out, env);
    let (a, am, k) = ctx.operand(&g.a, env);
    let (b, br, bc) = ctx.operand(&g.b, env);
    debug_assert_eq!(am, m, "{}: A rows", g.what);
    debug_assert_eq!(
        if g.b_transposed { (br, bc) } else { (bc, br) },
        (n, k),
        "{}: B shape",
        g.what
    );
    let accumulate = match g.accumulate {
        Accumulate::Never => false,
        Accumulate::UnlessFirst(v, first) => env.get(v) != first,
        Accumulate::UnlessFirstOf(v) => env.get(v) != ctx.nav().bounds(v, env).0,
    };
    let touch = |o: &Operand, t: &SramTile, write| Touch {
        target: Target::Buffer(o.buf),
        key: u64::from(t.at.slot),
        write,
    };
    let touches = [
        touch(&g.a, &a, false),
        touch(&g.b, &b, false),
        touch(&g.out, &c, true),
    ];
    let instr = Instr::Pe(GemmInstr {
        m,
        k,
        n,
        a,
        b,
        b_transposed: g.b_transposed,
        c,
        accumulate,
        dataflow: g.dataflow,
        sync: Sync::default(),
    });
    ctx.emit(instr, &touches);
}

fn lower_vector(ctx: &mut Ctx, v: &VectorStmt, env: &Env) {
    let (x, rows, cols) = ctx.operand(&v.x, env);
    let stat = |ctx: &Ctx, b: Option<BufId>| {
        let b = b.expect("the builder gives every vector operation its statistics");
        SramAddr {
            region: RegionId(b.0 as u32),
            slot: ctx.slot(b, env),
            offset_bytes: 0,
        }
    };
    let op = match v.kind {
        VectorKind::Mask { rows: q, keys: k } => {
            let p = &ctx.nest.problem;
            let ((q_start, q_len), (k_start, k_len)) = (range(&q, env, p), range(&k, env, p));
            // A tile the mask leaves whole needs no masking.
            if !p.partly_masked(q_start, q_len, k_start, k_len) {
                return;
            }
            VectorOp::Mask {
                query0: p.query_offset() + q_start,
                key0: k_start,
                head_rows: q_len,
                window: p.mask.window,
            }
        }
        VectorKind::RowMax => VectorOp::RowMax {
            max: stat(ctx, v.max),
        },
        VectorKind::RunningMax => VectorOp::RunningMax {
            max: stat(ctx, v.max),
            factor: stat(ctx, v.factor),
        },
        VectorKind::ExpSum { rescale } => VectorOp::ExpSum {
            max: stat(ctx, v.max),
            sum: stat(ctx, v.sum),
            rescale: rescale.then(|| stat(ctx, v.factor)),
        },
        VectorKind::Rescale => VectorOp::Rescale {
            factor: stat(ctx, v.factor),
        },
        VectorKind::Divide => VectorOp::DivideRows {
            sum: stat(ctx, v.sum),
        },
    };
    let mut touches = vec![Touch {
        target: Target::Buffer(v.x.buf),
        key: u64::from(x.at.slot),
        write: true,
    }];
    for b in [v.max, v.sum, v.factor].into_iter().flatten() {
        touches.push(Touch {
            target: Target::Buffer(b),
            key: u64::from(ctx.slot(b, env)),
            write: true,
        });
    }
    ctx.emit(
        Instr::Vector(VectorInstr {
            op,
            rows,
            cols,
            x,
            sync: Sync::default(),
        }),
        &touches,
    );
}

// ------------------------------------------------------------- the walker

/// Where the walker is.
#[derive(Clone, Copy, Debug)]
enum At {
    /// Before the prologue of a phase.
    Start,
    /// At a step of a phase.
    Step(Env),
    /// After the last step: delayed statements run once more, at `env`
    /// (the last outer iteration, each step of the inner loops).
    Drain(Env),
}

/// Produces instructions tile step by tile step.
#[derive(Debug)]
pub struct Walker<'n> {
    nest: &'n LoopNest,
    pub ctx: Ctx<'n>,
    phase: usize,
    at: At,
}

impl<'n> Walker<'n> {
    pub fn new(nest: &'n LoopNest, tokens: &'n TokenPlan, keep: Option<Unit>) -> Self {
        Walker {
            nest,
            ctx: Ctx::new(nest, tokens, keep, false),
            phase: 0,
            at: At::Start,
        }
    }

    /// Lowers the next step into `ctx.out`; false when the nest is done.
    pub fn advance(&mut self) -> bool {
        let Some(phase) = self.nest.phases.get(self.phase) else {
            return false;
        };
        self.ctx.enter(phase);
        let nav = self.ctx.nav();
        let first = nav.first();
        match self.at {
            At::Start => {
                lower_stmts(&mut self.ctx, &phase.prologue, &first);
                self.at = At::Step(first);
            }
            At::Step(env) => {
                // Body order with delayed statements interleaved at their place.
                let delayed = nav.prev_key(&env, phase.delay_depth);
                for s in &phase.body {
                    match s {
                        Stmt::Delayed(inner) => {
                            if let Some(prev) = delayed {
                                lower_stmts(&mut self.ctx, inner, &prev);
                            }
                        }
                        other => lower_stmts(&mut self.ctx, std::slice::from_ref(other), &env),
                    }
                }
                self.at = match nav.next_key(&env, phase.loops.len()) {
                    Some(next) => At::Step(next),
                    // The last outer iteration, from its first inner step.
                    None => At::Drain(nav.reset(env, phase.delay_depth)),
                };
            }
            At::Drain(env) => {
                lower_delayed(&mut self.ctx, &phase.body, &env);
                match nav.next_inner(&env, phase.delay_depth) {
                    Some(next) => self.at = At::Drain(next),
                    None => {
                        self.phase += 1;
                        self.at = At::Start;
                    }
                }
            }
        }
        true
    }
}

impl Iterator for Walker<'_> {
    type Item = Instr;

    fn next(&mut self) -> Option<Instr> {
        loop {
            if let Some(i) = self.ctx.out.pop_front() {
                return Some(i);
            }
            if !self.advance() {
                return None;
            }
        }
    }
}

// ------------------------------------------------------------- the census

/// Totals of a program computed from the loop nest without enumerating
/// every step: each tile loop's iterations are grouped into classes that
/// every condition treats alike, and each class is lowered once and
/// weighted by its size. MACs, vector element-ops and DRAM bytes equal the
/// streamed totals exactly; DMA instruction counts differ where spread
/// loads are split (the census counts one transfer per spread load).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Census {
    /// (m, k, n, b transposed — i.e. an L GEMM) → number of GEMMs.
    pub gemms: BTreeMap<(u64, u64, u64, bool), u64>,
    pub vector_ops: isa::ElementOps,
    pub dram_read_bytes: u64,
    pub dram_write_bytes: u64,
    pub instructions: [u64; 3],
}

impl Census {
    pub fn macs(&self) -> u64 {
        self.gemms
            .iter()
            .map(|(&(m, k, n, _), &c)| m * k * n * c)
            .sum()
    }

    fn add(&mut self, instr: &Instr, weight: u64) {
        self.instructions[instr.unit().index()] += weight;
        match instr {
            Instr::Dma(d) => match d.dir {
                DmaDir::Load => self.dram_read_bytes += d.bytes() * weight,
                DmaDir::Store => self.dram_write_bytes += d.bytes() * weight,
            },
            Instr::Pe(g) => {
                *self
                    .gemms
                    .entry((g.m, g.k, g.n, g.b_transposed))
                    .or_default() += weight
            }
            Instr::Vector(v) => self.vector_ops.add_assign(&v.element_ops().scaled(weight)),
        }
    }
}

/// Constants the conditions of `body` compare `var` with.
fn thresholds(body: &[Stmt], var: Var, out: &mut BTreeSet<u64>) {
    for s in body {
        match s {
            Stmt::For { body, .. } | Stmt::Delayed(body) => thresholds(body, var, out),
            Stmt::When { cond, body } => {
                if cond.var == var {
                    // First and last are in every class list already.
                    if let Test::Eq(k) | Test::Lt(k) | Test::Ge(k) = cond.test {
                        out.extend([k.saturating_sub(1), k, k + 1]);
                    }
                }
                thresholds(body, var, out);
            }
            Stmt::Gemm(Gemm {
                accumulate: Accumulate::UnlessFirst(v, k),
                ..
            }) if *v == var => {
                out.extend([k.saturating_sub(1), *k, k + 1]);
            }
            _ => {}
        }
    }
}

/// `(representative, weight)` classes of `lo..hi` that no condition splits.
fn classes(lo: u64, hi: u64, cuts: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let inside = |c: &u64| (lo..hi).contains(c);
    let mut points: BTreeSet<u64> = cuts.iter().copied().filter(inside).collect();
    points.extend(
        [lo, lo + 1, hi.saturating_sub(2), hi - 1]
            .into_iter()
            .filter(inside),
    );
    let mut out = Vec::new();
    let points: Vec<u64> = points.into_iter().collect();
    for (i, &p) in points.iter().enumerate() {
        out.push((p, 1));
        let next = points.get(i + 1).copied().unwrap_or(hi);
        if next > p + 1 {
            out.push((p + 1, next - p - 1));
        }
    }
    out
}

/// Key blocks of row tile `env.r` where a causal mask starts or stops
/// cutting into the tile (the diagonal, the window's edge).
fn mask_cuts(p: &Problem, r: KeyRange, env: &Env, out: &mut BTreeSet<u64>) {
    let q0 = p.query_offset() + env.get(Var::R) * r.rows;
    let q1 = p.query_offset() + ((env.get(Var::R) + 1) * r.rows).min(p.queries) - 1;
    let mut edges = vec![(q0 + 1) / r.cols];
    if let Some(w) = p.mask.window {
        edges.push((q1.saturating_sub(w)) / r.cols);
    }
    for e in edges {
        out.extend([e.saturating_sub(1), e, e + 1]);
    }
}

/// The census of `nest` (see [`Census`]). Under a causal mask, whether a
/// tile is skipped or masked depends on its row tile, so every row tile is
/// its own class and the key blocks are classed per row tile.
pub fn census(nest: &LoopNest, tokens: &TokenPlan) -> Census {
    let mut total = Census::default();
    let mut ctx = Ctx::new(nest, tokens, None, true);
    for phase in &nest.phases {
        ctx.enter(phase);
        let nav = ctx.nav();
        let first = nav.first();
        lower_stmts(&mut ctx, &phase.prologue, &first);
        for i in ctx.out.drain(..) {
            total.add(&i, 1);
        }
        let cuts: Vec<BTreeSet<u64>> = phase
            .loops
            .iter()
            .map(|&(v, _)| {
                let mut cuts = BTreeSet::new();
                thresholds(&phase.body, v, &mut cuts);
                cuts
            })
            .collect();
        let masked = nest.problem.mask.causal;
        // Depth-first over the classes of each loop, outermost first.
        let mut stack = vec![(0usize, first, 1u64)];
        while let Some((level, env, weight)) = stack.pop() {
            if level == phase.loops.len() {
                lower_stmts(&mut ctx, &phase.body, &env);
                lower_delayed(&mut ctx, &phase.body, &env);
                for i in ctx.out.drain(..) {
                    total.add(&i, weight);
                }
                continue;
            }
            let v = phase.loops[level].0;
            let (lo, hi) = nav.bounds(v, &env);
            let here = match (v, phase.key_range) {
                (Var::R, _) if masked => (lo..hi).map(|r| (r, 1)).collect(),
                (Var::C, Some(r)) => {
                    let mut c = cuts[level].clone();
                    mask_cuts(&nest.problem, r, &env, &mut c);
                    classes(lo, hi, &c)
                }
                _ => classes(lo, hi, &cuts[level]),
            };
            for (rep, w) in here.into_iter().rev() {
                stack.push((level + 1, env.with(v, rep), weight * w));
            }
        }
    }
    total
}
