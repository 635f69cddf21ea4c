//! An independent, register-level model of one fold of a systolic array —
//! operands move one PE per cycle — checked against the closed-form
//! `GemmTiming`: the values are the matrix product, and the cycle in which
//! the last result is produced matches `single_fold_cycles`.

use pe_array::{ArrayShape, GemmShape, GemmTiming, PeDataflow};
use proptest::prelude::*;

fn matrix(rows: usize, cols: usize, seed: usize) -> Vec<Vec<i64>> {
    (0..rows)
        .map(|i| {
            (0..cols)
                .map(|j| ((i * 7 + j * 3 + seed) % 11) as i64 - 5)
                .collect()
        })
        .collect()
}

fn product(a: &[Vec<i64>], b: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    (0..m)
        .map(|i| {
            (0..n)
                .map(|j| (0..k).map(|p| a[i][p] * b[p][j]).sum())
                .collect()
        })
        .collect()
}

/// Output stationary on an R×C array holding the whole M×N output (M ≤ R, N ≤ C):
/// A enters row i skewed by i cycles, B enters column j skewed by j cycles.
/// Returns the product and the number of cycles until the last MAC.
fn output_stationary(
    a: &[Vec<i64>],
    b: &[Vec<i64>],
    rows: usize,
    cols: usize,
) -> (Vec<Vec<i64>>, usize) {
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    let mut a_reg = vec![vec![None::<i64>; cols]; rows];
    let mut b_reg = vec![vec![None::<i64>; cols]; rows];
    let mut acc = vec![vec![0i64; cols]; rows];
    let (mut macs, mut last_cycle) = (0, 0);
    for t in 0.. {
        let mut next_a = vec![vec![None; cols]; rows];
        let mut next_b = vec![vec![None; cols]; rows];
        for i in 0..rows {
            for j in 0..cols {
                let a_in = if j == 0 {
                    (i < m && t >= i && t - i < k).then(|| a[i][t - i])
                } else {
                    a_reg[i][j - 1]
                };
                let b_in = if i == 0 {
                    (j < n && t >= j && t - j < k).then(|| b[t - j][j])
                } else {
                    b_reg[i - 1][j]
                };
                if let (Some(x), Some(y)) = (a_in, b_in) {
                    acc[i][j] += x * y;
                    macs += 1;
                    last_cycle = t;
                }
                next_a[i][j] = a_in;
                next_b[i][j] = b_in;
            }
        }
        a_reg = next_a;
        b_reg = next_b;
        if macs == m * n * k {
            break;
        }
    }
    let c = (0..m).map(|i| acc[i][..n].to_vec()).collect();
    (c, last_cycle + 1)
}

/// Weight stationary on an R×C array holding all of B (K ≤ R, N ≤ C): B is
/// preloaded one row per cycle (R cycles), then row p of the array receives
/// A[·][p] skewed by p cycles; partial sums flow down and leave the bottom.
/// Returns the product and the cycle count until the last output leaves.
fn weight_stationary(
    a: &[Vec<i64>],
    b: &[Vec<i64>],
    rows: usize,
    cols: usize,
) -> (Vec<Vec<i64>>, usize) {
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    let mut a_reg = vec![vec![None::<(usize, i64)>; cols]; rows];
    let mut psum = vec![vec![None::<(usize, i64)>; cols]; rows];
    let mut c = vec![vec![0i64; n]; m];
    let (mut outputs, mut last_cycle) = (0, 0);
    let start = rows; // after the preload
    for t in start.. {
        let mut next_a = vec![vec![None; cols]; rows];
        let mut next_psum = vec![vec![None; cols]; rows];
        for p in 0..rows {
            for j in 0..cols {
                let offset = t - start;
                // Row p receives input row r = offset − p (skew), carrying A[r][p].
                let a_in = if j == 0 {
                    (offset >= p && offset - p < m)
                        .then(|| (offset - p, if p < k { a[offset - p][p] } else { 0 }))
                } else {
                    a_reg[p][j - 1]
                };
                let above = if p == 0 {
                    a_in.map(|(r, _)| (r, 0))
                } else {
                    psum[p - 1][j]
                };
                let weight = if p < k && j < n { b[p][j] } else { 0 };
                next_psum[p][j] = match (above, a_in) {
                    (Some((r, s)), Some((r2, x))) if r == r2 => Some((r, s + x * weight)),
                    _ => None,
                };
                next_a[p][j] = a_in;
            }
        }
        a_reg = next_a;
        psum = next_psum;
        for j in 0..n {
            if let Some((r, s)) = psum[rows - 1][j] {
                c[r][j] = s;
                outputs += 1;
                last_cycle = t;
            }
        }
        if outputs == m * n {
            break;
        }
    }
    (c, last_cycle + 1)
}

proptest! {
    #[test]
    fn output_stationary_fold_matches_the_closed_form(rows in 1usize..6, cols in 1usize..6, k in 1usize..9, seed in 0usize..5) {
        let (m, n) = (rows, cols);
        let (a, b) = (matrix(m, k, seed), matrix(k, n, seed + 1));
        let (c, cycles) = output_stationary(&a, &b, rows, cols);
        prop_assert_eq!(&c, &product(&a, &b));
        let timing = GemmTiming::new(
            ArrayShape { rows: rows as u64, cols: cols as u64 },
            PeDataflow::Os,
            false,
            GemmShape { m: m as u64, k: k as u64, n: n as u64 },
        );
        prop_assert_eq!(timing.folds, 1);
        prop_assert_eq!(cycles as u64, timing.single_fold_cycles);
    }

    #[test]
    fn weight_stationary_fold_matches_the_closed_form(rows in 1usize..6, cols in 1usize..6, m in 1usize..9, seed in 0usize..5) {
        let (k, n) = (rows, cols);
        let (a, b) = (matrix(m, k, seed), matrix(k, n, seed + 2));
        let (c, cycles) = weight_stationary(&a, &b, rows, cols);
        prop_assert_eq!(&c, &product(&a, &b));
        let timing = GemmTiming::new(
            ArrayShape { rows: rows as u64, cols: cols as u64 },
            PeDataflow::Ws,
            false,
            GemmShape { m: m as u64, k: k as u64, n: n as u64 },
        );
        prop_assert_eq!(timing.folds, 1);
        prop_assert_eq!(cycles as u64, timing.single_fold_cycles);
    }
}
