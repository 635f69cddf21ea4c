//! Closed-form GEMM schedule on a rows × cols systolic array.
//!
//! A GEMM `C[M×N] = A[M×K] · B[K×N]` is cut into *folds*, one per tile of
//! the stationary operand that fits the array:
//!
//! | dataflow | stationary | folds | fold length `L` (streamed) | one fold alone (SCALE-Sim) |
//! |---|---|---|---|---|
//! | OS | C tile R×C | ⌈M/R⌉·⌈N/C⌉ | K | K + R + C − 2 |
//! | WS | B tile R×C (K×N) | ⌈K/R⌉·⌈N/C⌉ | M | 2R + C + M − 2 |
//! | IS | A tile R×C (K×M) | ⌈K/R⌉·⌈M/C⌉ | N | 2R + C + N − 2 |
//!
//! Without fold overlap every fold pays its full fill and drain, which is
//! SCALE-Sim's stall-free count: `folds · single`.
//!
//! With fold overlap the array is double-buffered: the next fold's operands
//! (and, for WS/IS, its R-cycle preload) enter while the previous fold is
//! still draining. Folds then start every `interval = max(L, R)` cycles —
//! the streaming edge is busy `L` cycles per fold and a preload (WS/IS) or
//! an output drain through the R-deep columns (OS) takes `R` — and the total
//! is `single + (folds − 1) · interval`. Since `max(L, R) ≤ L + R + C − 2`,
//! overlap never costs more than SCALE-Sim's count, and both are equal for
//! one fold. See docs/pe-array.md.

use hwconfig::PeDataflow;

/// Rows × cols of processing elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArrayShape {
    pub rows: u64,
    pub cols: u64,
}

/// `C[m×n] = A[m×k] · B[k×n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GemmShape {
    pub m: u64,
    pub k: u64,
    pub n: u64,
}

impl GemmShape {
    pub fn macs(&self) -> u64 {
        self.m * self.k * self.n
    }
}

/// The stationary tile of one fold: which block of the stationary matrix
/// (C for OS, B for WS, A for IS, viewed as K×M) it holds and its size,
/// trimmed at the matrix borders. Folds walk the tiles row block by row
/// block, column blocks fastest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoldTile {
    /// Index of the block along the array's rows (M for OS, K for WS/IS).
    pub row_block: u64,
    /// Index of the block along the array's columns (N for OS/WS, M for IS).
    pub col_block: u64,
    pub rows: u64,
    pub cols: u64,
}

/// The schedule of one GEMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmTiming {
    pub array: ArrayShape,
    pub dataflow: PeDataflow,
    pub shape: GemmShape,
    pub folds: u64,
    /// Cycles of one fold with its full fill and drain.
    pub single_fold_cycles: u64,
    /// Cycles between the starts of consecutive folds.
    pub fold_interval_cycles: u64,
    /// Cycles of the whole GEMM.
    pub total_cycles: u64,
    /// Cycles a fold streams its moving operand (K, M or N).
    pub stream_cycles: u64,
}

impl GemmTiming {
    /// # Panics
    /// If any dimension of the array or the GEMM is zero (callers validate).
    pub fn new(
        array: ArrayShape,
        dataflow: PeDataflow,
        fold_overlap: bool,
        shape: GemmShape,
    ) -> Self {
        assert!(
            array.rows > 0 && array.cols > 0,
            "array dimensions must be positive"
        );
        assert!(
            shape.m > 0 && shape.k > 0 && shape.n > 0,
            "GEMM dimensions must be positive"
        );
        let (r, c) = (array.rows, array.cols);
        let (folds, stream_cycles, single_fold_cycles) = match dataflow {
            PeDataflow::Os => (
                shape.m.div_ceil(r) * shape.n.div_ceil(c),
                shape.k,
                shape.k + r + c - 2,
            ),
            PeDataflow::Ws => (
                shape.k.div_ceil(r) * shape.n.div_ceil(c),
                shape.m,
                2 * r + c + shape.m - 2,
            ),
            PeDataflow::Is => (
                shape.k.div_ceil(r) * shape.m.div_ceil(c),
                shape.n,
                2 * r + c + shape.n - 2,
            ),
        };
        let fold_interval_cycles = if fold_overlap {
            stream_cycles.max(r)
        } else {
            single_fold_cycles
        };
        GemmTiming {
            array,
            dataflow,
            shape,
            folds,
            single_fold_cycles,
            fold_interval_cycles,
            total_cycles: single_fold_cycles + (folds - 1) * fold_interval_cycles,
            stream_cycles,
        }
    }

    /// Useful MACs / (PEs · total cycles).
    pub fn utilization(&self) -> f64 {
        self.shape.macs() as f64 / (self.array.rows * self.array.cols * self.total_cycles) as f64
    }

    /// Fraction of the PEs that hold useful work, averaged over folds: how
    /// well the GEMM's dimensions tile the array, ignoring fill and drain.
    pub fn mapping_efficiency(&self) -> f64 {
        let (a, b) = match self.dataflow {
            PeDataflow::Os => (self.shape.m, self.shape.n),
            PeDataflow::Ws => (self.shape.k, self.shape.n),
            PeDataflow::Is => (self.shape.k, self.shape.m),
        };
        (a * b) as f64 / (self.folds * self.array.rows * self.array.cols) as f64
    }

    /// The stationary tile of fold `fold`.
    pub fn fold_tile(&self, fold: u64) -> FoldTile {
        let (r, c) = (self.array.rows, self.array.cols);
        let (rows_dim, cols_dim) = match self.dataflow {
            PeDataflow::Os => (self.shape.m, self.shape.n),
            PeDataflow::Ws => (self.shape.k, self.shape.n),
            PeDataflow::Is => (self.shape.k, self.shape.m),
        };
        let col_blocks = cols_dim.div_ceil(c);
        let (row_block, col_block) = (fold / col_blocks, fold % col_blocks);
        FoldTile {
            row_block,
            col_block,
            rows: (rows_dim - row_block * r).min(r),
            cols: (cols_dim - col_block * c).min(c),
        }
    }

    /// Start cycle of fold `fold` relative to the start of the GEMM.
    pub fn fold_start(&self, fold: u64) -> u64 {
        fold * self.fold_interval_cycles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(
        rows: u64,
        cols: u64,
        df: PeDataflow,
        overlap: bool,
        m: u64,
        k: u64,
        n: u64,
    ) -> GemmTiming {
        GemmTiming::new(
            ArrayShape { rows, cols },
            df,
            overlap,
            GemmShape { m, k, n },
        )
    }

    #[test]
    fn one_by_one_by_one() {
        // OS: K + R + C − 2 = 1 + 2 + 2 − 2 on a 2×2 array.
        assert_eq!(timing(2, 2, PeDataflow::Os, false, 1, 1, 1).total_cycles, 3);
        assert_eq!(timing(2, 2, PeDataflow::Ws, false, 1, 1, 1).total_cycles, 5);
        assert_eq!(timing(1, 1, PeDataflow::Is, true, 1, 1, 1).total_cycles, 2);
    }

    #[test]
    fn hand_worked_overlap_counts() {
        // OS on 4×4, M=8, K=16, N=4: 2 folds of 16+4+4−2 = 22; interval max(16,4) = 16.
        let t = timing(4, 4, PeDataflow::Os, true, 8, 16, 4);
        assert_eq!(
            (
                t.folds,
                t.single_fold_cycles,
                t.fold_interval_cycles,
                t.total_cycles
            ),
            (2, 22, 16, 38)
        );
        assert_eq!(
            timing(4, 4, PeDataflow::Os, false, 8, 16, 4).total_cycles,
            44
        );
        // OS with a short K: the 4-cycle drain bounds the interval. M=N=8, K=2: 4 folds of 8.
        let t = timing(4, 4, PeDataflow::Os, true, 8, 2, 8);
        assert_eq!(
            (t.folds, t.single_fold_cycles, t.total_cycles),
            (4, 8, 8 + 3 * 4)
        );
        // WS on 4×4, K=8, N=4, M=10: 2 folds of 2·4+4+10−2 = 20, interval max(10,4) = 10.
        let t = timing(4, 4, PeDataflow::Ws, true, 10, 8, 4);
        assert_eq!((t.folds, t.single_fold_cycles, t.total_cycles), (2, 20, 30));
        // IS on 2×3, K=4, M=6, N=1: 2·2 = 4 folds of 2·2+3+1−2 = 6, interval max(1,2) = 2.
        let t = timing(2, 3, PeDataflow::Is, true, 6, 4, 1);
        assert_eq!(
            (t.folds, t.single_fold_cycles, t.total_cycles),
            (4, 6, 6 + 3 * 2)
        );
    }

    #[test]
    fn utilization_and_mapping() {
        let t = timing(4, 4, PeDataflow::Os, false, 4, 100, 4);
        assert_eq!(t.mapping_efficiency(), 1.0);
        assert!((t.utilization() - 1600.0 / (16.0 * 106.0)).abs() < 1e-12);
        let t = timing(4, 4, PeDataflow::Os, false, 2, 8, 4);
        assert_eq!(t.mapping_efficiency(), 0.5);
    }
}
