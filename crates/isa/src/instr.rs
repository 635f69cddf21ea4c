//! The instructions of the three units and the SRAM/DRAM bytes each touches.

pub use hwconfig::PeDataflow;

/// The units that execute instruction streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Dma,
    Pe,
    Vector,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Dma, Unit::Pe, Unit::Vector];

    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Dma => "dma",
            Unit::Pe => "pe",
            Unit::Vector => "vector",
        }
    }

    pub fn parse(text: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == text)
    }

    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index into the program's token table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId(pub u32);

/// Wait until token `token` has been signalled at least `count` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Wait {
    pub token: TokenId,
    pub count: u64,
}

/// The synchronisation carried by every instruction (semantics in the crate docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sync {
    /// Tokens this instruction waits for before it issues.
    pub wait: Vec<Wait>,
    /// Tokens incremented once when this instruction completes.
    pub signal: Vec<TokenId>,
}

/// Index into the program's SRAM region table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub u32);

/// A byte address inside one slot of an SRAM region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SramAddr {
    pub region: RegionId,
    pub slot: u32,
    pub offset_bytes: u64,
}

/// A row-major matrix view starting at `at`, rows `row_stride_bytes` apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SramTile {
    pub at: SramAddr,
    pub row_stride_bytes: u64,
}

/// Direction of a DMA transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DmaDir {
    /// DRAM → SRAM.
    Load,
    /// SRAM → DRAM.
    Store,
}

/// Moves `rows` rows of `row_bytes` between DRAM (rows `dram_stride_bytes`
/// apart from `dram_addr`) and SRAM (rows packed densely from `sram`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DmaInstr {
    pub dir: DmaDir,
    pub dram_addr: u64,
    pub dram_stride_bytes: u64,
    pub rows: u64,
    pub row_bytes: u64,
    pub sram: SramAddr,
    pub sync: Sync,
}

impl DmaInstr {
    pub fn bytes(&self) -> u64 {
        self.rows * self.row_bytes
    }
}

/// `c[m×n] (+)= a[m×k] · b[k×n]` on the PE array. With `b_transposed` the
/// `b` view holds the n×k matrix (keys stored row by row) and the product
/// uses its transpose. `accumulate` adds to `c` instead of overwriting it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GemmInstr {
    pub m: u64,
    pub k: u64,
    pub n: u64,
    pub a: SramTile,
    pub b: SramTile,
    pub b_transposed: bool,
    pub c: SramTile,
    pub accumulate: bool,
    pub dataflow: PeDataflow,
    pub sync: Sync,
}

impl GemmInstr {
    pub fn macs(&self) -> u64 {
        self.m * self.k * self.n
    }
}

/// A softmax operation over the `rows × cols` view `x`, with per-row
/// statistics stored as `rows` consecutive elements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VectorInstr {
    pub op: VectorOp,
    pub rows: u64,
    pub cols: u64,
    pub x: SramTile,
    pub sync: Sync,
}

/// What a vector instruction computes, row `i`, column `j`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VectorOp {
    /// `max[i] = max_j x[i][j]` (pass 1 of three-pass softmax; first block of one-pass).
    RowMax { max: SramAddr },
    /// `m = max(max[i], max_j x[i][j]); factor[i] = exp(max[i] − m); max[i] = m`.
    RunningMax { max: SramAddr, factor: SramAddr },
    /// `x[i][j] = exp(x[i][j] − max[i]); s = Σ_j x[i][j]`; then `sum[i] = s`,
    /// or with `rescale` `sum[i] = sum[i] · rescale[i] + s` (running sum).
    ExpSum {
        max: SramAddr,
        sum: SramAddr,
        rescale: Option<SramAddr>,
    },
    /// `x[i][j] *= factor[i]` (rescale of the partial output).
    Rescale { factor: SramAddr },
    /// `x[i][j] /= sum[i]`, as one reciprocal per row and one multiply per
    /// element (pass 3 of three-pass softmax; the final divide of one-pass).
    DivideRows { sum: SramAddr },
    /// `x[i][j] = −∞` where key `key0 + j` is hidden from query
    /// `query0 + i mod head_rows` (rows stack heads of `head_rows` rows):
    /// a key after the query (causal), or `window` or more before it. One
    /// compare-and-select per element, counted as a `max`.
    Mask {
        query0: u64,
        key0: u64,
        head_rows: u64,
        window: Option<u64>,
    },
}

/// Whether key position `key` is hidden from query position `query` under a
/// causal mask with an optional sliding window.
pub fn masked(query: u64, key: u64, window: Option<u64>) -> bool {
    key > query || window.is_some_and(|w| key + w <= query)
}

impl VectorOp {
    pub const fn name(&self) -> &'static str {
        match self {
            VectorOp::RowMax { .. } => "rowmax",
            VectorOp::RunningMax { .. } => "runmax",
            VectorOp::ExpSum { .. } => "expsum",
            VectorOp::Rescale { .. } => "rescale",
            VectorOp::DivideRows { .. } => "divide",
            VectorOp::Mask { .. } => "mask",
        }
    }
}

/// Element operations of one vector instruction, per kind, as priced by
/// `[vector.op_cycles]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ElementOps {
    pub max: u64,
    pub sub: u64,
    pub exp: u64,
    pub add: u64,
    pub mul: u64,
    pub div: u64,
}

impl ElementOps {
    pub fn total(&self) -> u64 {
        self.max + self.sub + self.exp + self.add + self.mul + self.div
    }

    /// Every count multiplied by `k`.
    pub fn scaled(&self, k: u64) -> ElementOps {
        ElementOps {
            max: self.max * k,
            sub: self.sub * k,
            exp: self.exp * k,
            add: self.add * k,
            mul: self.mul * k,
            div: self.div * k,
        }
    }

    pub fn add_assign(&mut self, other: &ElementOps) {
        self.max += other.max;
        self.sub += other.sub;
        self.exp += other.exp;
        self.add += other.add;
        self.mul += other.mul;
        self.div += other.div;
    }
}

impl VectorInstr {
    /// The element operations this instruction performs.
    pub fn element_ops(&self) -> ElementOps {
        let (per_element, per_row) = self.op.mix();
        let mut ops = per_element.scaled(self.rows * self.cols);
        ops.add_assign(&per_row.scaled(self.rows));
        ops
    }
}

impl VectorOp {
    /// The operations of this op: those applied to every element of the
    /// tile, and those applied once per row (one of each kind per count).
    pub fn mix(&self) -> (ElementOps, ElementOps) {
        let one = ElementOps::default();
        match self {
            VectorOp::RowMax { .. } | VectorOp::Mask { .. } => (ElementOps { max: 1, ..one }, one),
            VectorOp::RunningMax { .. } => (
                ElementOps { max: 1, ..one },
                ElementOps {
                    max: 1,
                    sub: 1,
                    exp: 1,
                    ..one
                },
            ),
            VectorOp::ExpSum { rescale, .. } => {
                let per_row = if rescale.is_some() {
                    ElementOps {
                        add: 1,
                        mul: 1,
                        ..one
                    }
                } else {
                    one
                };
                (
                    ElementOps {
                        sub: 1,
                        exp: 1,
                        add: 1,
                        ..one
                    },
                    per_row,
                )
            }
            VectorOp::Rescale { .. } => (ElementOps { mul: 1, ..one }, one),
            VectorOp::DivideRows { .. } => {
                (ElementOps { mul: 1, ..one }, ElementOps { div: 1, ..one })
            }
        }
    }
}

/// An instruction of any unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Instr {
    Dma(DmaInstr),
    Pe(GemmInstr),
    Vector(VectorInstr),
}

impl Instr {
    pub fn unit(&self) -> Unit {
        match self {
            Instr::Dma(_) => Unit::Dma,
            Instr::Pe(_) => Unit::Pe,
            Instr::Vector(_) => Unit::Vector,
        }
    }

    pub fn sync(&self) -> &Sync {
        match self {
            Instr::Dma(i) => &i.sync,
            Instr::Pe(i) => &i.sync,
            Instr::Vector(i) => &i.sync,
        }
    }

    pub fn sync_mut(&mut self) -> &mut Sync {
        match self {
            Instr::Dma(i) => &mut i.sync,
            Instr::Pe(i) => &mut i.sync,
            Instr::Vector(i) => &mut i.sync,
        }
    }

    /// Every SRAM and DRAM byte pattern this instruction reads or writes.
    pub fn accesses(&self, element_bytes: u64) -> Vec<Access> {
        let eb = element_bytes;
        match self {
            Instr::Dma(d) => {
                let dram = Pattern {
                    rows: d.rows,
                    row_bytes: d.row_bytes,
                    stride_bytes: d.dram_stride_bytes,
                };
                let sram = Pattern {
                    rows: d.rows,
                    row_bytes: d.row_bytes,
                    stride_bytes: d.row_bytes,
                };
                let load = d.dir == DmaDir::Load;
                vec![
                    Access {
                        place: Place::Dram(d.dram_addr),
                        pattern: dram,
                        write: !load,
                    },
                    Access {
                        place: Place::Sram(d.sram),
                        pattern: sram,
                        write: load,
                    },
                ]
            }
            Instr::Pe(g) => {
                let (b_rows, b_cols) = if g.b_transposed {
                    (g.n, g.k)
                } else {
                    (g.k, g.n)
                };
                let mut out = vec![
                    Access::tile(&g.a, g.m, g.k * eb, false),
                    Access::tile(&g.b, b_rows, b_cols * eb, false),
                    Access::tile(&g.c, g.m, g.n * eb, true),
                ];
                if g.accumulate {
                    out.push(Access::tile(&g.c, g.m, g.n * eb, false));
                }
                out
            }
            Instr::Vector(v) => {
                let x_read = Access::tile(&v.x, v.rows, v.cols * eb, false);
                let x_write = Access::tile(&v.x, v.rows, v.cols * eb, true);
                let stat = |at: SramAddr, write: bool| Access {
                    place: Place::Sram(at),
                    pattern: Pattern::contiguous(v.rows * eb),
                    write,
                };
                match v.op {
                    VectorOp::RowMax { max } => vec![x_read, stat(max, true)],
                    VectorOp::Mask { .. } => vec![x_read, x_write],
                    VectorOp::RunningMax { max, factor } => vec![
                        x_read,
                        stat(max, false),
                        stat(max, true),
                        stat(factor, true),
                    ],
                    VectorOp::ExpSum { max, sum, rescale } => {
                        let mut out = vec![x_read, x_write, stat(max, false), stat(sum, true)];
                        if let Some(factor) = rescale {
                            out.push(stat(sum, false));
                            out.push(stat(factor, false));
                        }
                        out
                    }
                    VectorOp::Rescale { factor } => vec![x_read, x_write, stat(factor, false)],
                    VectorOp::DivideRows { sum } => vec![x_read, x_write, stat(sum, false)],
                }
            }
        }
    }
}

/// Where an access lands: an SRAM address or an absolute DRAM byte address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    Sram(SramAddr),
    Dram(u64),
}

/// `rows` runs of `row_bytes`, `stride_bytes` apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub rows: u64,
    pub row_bytes: u64,
    pub stride_bytes: u64,
}

impl Pattern {
    pub fn contiguous(bytes: u64) -> Self {
        Pattern {
            rows: 1,
            row_bytes: bytes,
            stride_bytes: bytes,
        }
    }

    /// One past the last byte, relative to the start.
    pub fn extent_bytes(&self) -> u64 {
        if self.rows == 0 || self.row_bytes == 0 {
            0
        } else {
            (self.rows - 1) * self.stride_bytes + self.row_bytes
        }
    }

    /// Whether the byte sets `[a + pattern]` and `[b + other]` intersect.
    pub fn overlaps(&self, a: u64, other: &Pattern, b: u64) -> bool {
        if self.extent_bytes() == 0 || other.extent_bytes() == 0 {
            return false;
        }
        if a + self.extent_bytes() <= b || b + other.extent_bytes() <= a {
            return false;
        }
        // Walk the pattern with fewer rows; find the other's candidate rows by division.
        let (p, pa, q, qb) = if self.rows <= other.rows {
            (self, a, other, b)
        } else {
            (other, b, self, a)
        };
        for i in 0..p.rows {
            let lo = pa + i * p.stride_bytes;
            let hi = lo + p.row_bytes;
            if q.stride_bytes == 0 || q.rows == 1 {
                if qb < hi && qb + q.row_bytes > lo {
                    return true;
                }
                continue;
            }
            // rows j with qb + j·s < hi and qb + j·s + rb > lo
            let first = (lo + 1)
                .saturating_sub(qb + q.row_bytes)
                .div_ceil(q.stride_bytes);
            if first >= q.rows {
                continue;
            }
            let start = qb + first * q.stride_bytes;
            if start < hi {
                return true;
            }
        }
        false
    }
}

/// One read or write of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    pub place: Place,
    pub pattern: Pattern,
    pub write: bool,
}

impl Access {
    fn tile(tile: &SramTile, rows: u64, row_bytes: u64, write: bool) -> Self {
        Access {
            place: Place::Sram(tile.at),
            pattern: Pattern {
                rows,
                row_bytes,
                stride_bytes: tile.row_stride_bytes,
            },
            write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(p: &Pattern, a: u64, q: &Pattern, b: u64) -> bool {
        let bytes = |p: &Pattern, base: u64| -> std::collections::BTreeSet<u64> {
            (0..p.rows)
                .flat_map(|i| (0..p.row_bytes).map(move |x| base + i * p.stride_bytes + x))
                .collect()
        };
        !bytes(p, a).is_disjoint(&bytes(q, b))
    }

    proptest::proptest! {
        #[test]
        fn overlap_matches_brute_force(
            rows_a in 1u64..5, rb_a in 1u64..6, sa in 0u64..9, a in 0u64..40,
            rows_b in 1u64..5, rb_b in 1u64..6, sb in 0u64..9, b in 0u64..40,
        ) {
            let p = Pattern { rows: rows_a, row_bytes: rb_a, stride_bytes: sa.max(rb_a) };
            let q = Pattern { rows: rows_b, row_bytes: rb_b, stride_bytes: sb.max(rb_b) };
            proptest::prop_assert_eq!(p.overlaps(a, &q, b), brute(&p, a, &q, b));
            proptest::prop_assert_eq!(q.overlaps(b, &p, a), brute(&p, a, &q, b));
        }
    }

    #[test]
    fn element_ops_of_three_pass_softmax() {
        let at = SramAddr {
            region: RegionId(0),
            slot: 0,
            offset_bytes: 0,
        };
        let x = SramTile {
            at,
            row_stride_bytes: 8,
        };
        let op = |op| VectorInstr {
            op,
            rows: 2,
            cols: 4,
            x,
            sync: Sync::default(),
        };
        let max = op(VectorOp::RowMax { max: at }).element_ops();
        let exp = op(VectorOp::ExpSum {
            max: at,
            sum: at,
            rescale: None,
        })
        .element_ops();
        let div = op(VectorOp::DivideRows { sum: at }).element_ops();
        // FuseMax's four element-ops per score (max, sub+exp, add, div→mul), plus one reciprocal per row.
        assert_eq!(max.total() + exp.total() + div.total(), 4 * 8 + 8 + 2);
    }
}
