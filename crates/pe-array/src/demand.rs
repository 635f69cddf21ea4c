//! Per-cycle operand demand of a GEMM schedule: how many elements enter the
//! array on each streaming edge and how many outputs leave it in a cycle.
//!
//! Each fold has two input edges and one output edge (see the table in
//! `timing.rs`). Lines of an edge are skewed by one cycle each, as in a
//! systolic array: line `i` of an edge that streams `L` elements starting at
//! `s` is active during `[s + i, s + i + L)`. The counts are exact: summed
//! over all cycles they equal the elements the dataflow moves
//! ([`GemmTiming::total_traffic`]).

use crate::{GemmTiming, PeDataflow};

/// Elements moved in one cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperandDemand {
    /// Elements of A (M×K) read.
    pub a_elements: u64,
    /// Elements of B (K×N) read.
    pub b_elements: u64,
    /// Elements of C (M×N) written.
    pub c_elements: u64,
}

impl std::ops::AddAssign for OperandDemand {
    fn add_assign(&mut self, other: Self) {
        self.a_elements += other.a_elements;
        self.b_elements += other.b_elements;
        self.c_elements += other.c_elements;
    }
}

/// `lines` skewed lines, each streaming `length` elements from `start`:
/// how many are active at cycle `t`, i.e. #{i < lines : start + i ≤ t < start + i + length}.
fn skewed_active(t: u64, start: u64, lines: u64, length: u64) -> u64 {
    if t < start || lines == 0 || length == 0 {
        return 0;
    }
    let offset = t - start;
    // i ∈ [offset − length + 1, offset] ∩ [0, lines − 1]
    let low = (offset + 1).saturating_sub(length);
    let high = offset.min(lines - 1);
    if low > high {
        0
    } else {
        high - low + 1
    }
}

impl GemmTiming {
    fn fold_demand(&self, fold: u64, t: u64) -> OperandDemand {
        let s = self.fold_start(fold);
        if t < s || t >= s + self.single_fold_cycles {
            return OperandDemand::default();
        }
        let tile = self.fold_tile(fold);
        let (tile_rows, tile_cols) = (tile.rows, tile.cols);
        let r = self.array.rows;
        let l = self.stream_cycles;
        let end = s + self.single_fold_cycles;
        match self.dataflow {
            PeDataflow::Os => OperandDemand {
                a_elements: skewed_active(t, s, tile_rows, l),
                b_elements: skewed_active(t, s, tile_cols, l),
                // Outputs leave one row of the tile per cycle at the end of the fold.
                c_elements: if t >= end - tile_rows { tile_cols } else { 0 },
            },
            PeDataflow::Ws => OperandDemand {
                // Streamed A: tile_rows lines (K) of M elements after the R-cycle preload.
                a_elements: skewed_active(t, s + r, tile_rows, l),
                // Preloaded B tile: one row of the tile per cycle.
                b_elements: if t < s + tile_rows { tile_cols } else { 0 },
                c_elements: skewed_active(t, end - l - tile_cols + 1, tile_cols, l),
            },
            PeDataflow::Is => OperandDemand {
                a_elements: if t < s + tile_rows { tile_cols } else { 0 },
                b_elements: skewed_active(t, s + r, tile_rows, l),
                c_elements: skewed_active(t, end - l - tile_cols + 1, tile_cols, l),
            },
        }
    }

    /// Elements moved at cycle `t` (relative to the GEMM's start).
    pub fn demand_at(&self, t: u64) -> OperandDemand {
        let mut demand = OperandDemand::default();
        // Only folds whose window [start, start + single) contains t.
        let interval = self.fold_interval_cycles;
        let last = (t / interval).min(self.folds - 1);
        let first = (t + 1)
            .saturating_sub(self.single_fold_cycles)
            .div_ceil(interval);
        for fold in first..=last {
            demand += self.fold_demand(fold, t);
        }
        demand
    }

    /// Elements the dataflow moves over the whole GEMM, by closed form.
    pub fn total_traffic(&self) -> OperandDemand {
        let (m, k, n) = (self.shape.m, self.shape.k, self.shape.n);
        let (r, c) = (self.array.rows, self.array.cols);
        match self.dataflow {
            // A is re-read for every column fold, B for every row fold; C written once.
            PeDataflow::Os => OperandDemand {
                a_elements: m * k * n.div_ceil(c),
                b_elements: k * n * m.div_ceil(r),
                c_elements: m * n,
            },
            // B loaded once; A streamed once per column fold; partial C per K fold.
            PeDataflow::Ws => OperandDemand {
                a_elements: m * k * n.div_ceil(c),
                b_elements: k * n,
                c_elements: m * n * k.div_ceil(r),
            },
            PeDataflow::Is => OperandDemand {
                a_elements: k * m,
                b_elements: k * n * m.div_ceil(c),
                c_elements: m * n * k.div_ceil(r),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArrayShape, GemmShape};
    use proptest::prelude::*;

    #[test]
    fn skew_counts_lines() {
        // 3 lines of 2 elements from cycle 10: active 1,2,2,1 at 10..14.
        let counts: Vec<u64> = (9..15).map(|t| skewed_active(t, 10, 3, 2)).collect();
        assert_eq!(counts, vec![0, 1, 2, 2, 1, 0]);
    }

    proptest! {
        #[test]
        fn per_cycle_demand_sums_to_total_traffic(
            rows in 1u64..6, cols in 1u64..6, m in 1u64..14, k in 1u64..14, n in 1u64..14,
            df in 0usize..3, overlap in any::<bool>(),
        ) {
            let dataflow = [PeDataflow::Os, PeDataflow::Ws, PeDataflow::Is][df];
            let t = GemmTiming::new(ArrayShape { rows, cols }, dataflow, overlap, GemmShape { m, k, n });
            let mut sum = OperandDemand::default();
            for cycle in 0..t.total_cycles + 5 {
                let d = t.demand_at(cycle);
                if cycle >= t.total_cycles {
                    prop_assert_eq!(d, OperandDemand::default());
                }
                sum += d;
            }
            prop_assert_eq!(sum, t.total_traffic());
        }
    }
}
