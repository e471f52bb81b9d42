//! Row-major f32 matrix products over slices, on the `gemm` crate's kernels (the ones burn's CPU backend uses), for
//! the explicit reward network. Shapes are checked against the slice lengths.

use gemm::Parallelism;

/// Products at least this large (m·n·k) run on every worker thread (gemm splits rows and columns, never the inner
/// dimension, so the result does not depend on the thread count).
const PARALLEL_WORK: usize = 1 << 22;

/// How an operand is read: as stored (`[rows, cols]` row-major) or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    AsIs,
    Transposed,
}

/// `c[m×n] (+)= op(a) · op(b)` with `op(a)` of shape `[m, k]` and `op(b)` of shape `[k, n]`; `a` is stored as
/// `[m, k]` (`AsIs`) or `[k, m]` (`Transposed`), likewise `b`. `accumulate` adds to `c` instead of overwriting it.
///
/// # Panics
/// If a slice is shorter than its shape.
#[allow(clippy::too_many_arguments)] // the three operands, their layouts and the shape
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    a_layout: Layout,
    b: &[f32],
    b_layout: Layout,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n, "matmul operands shorter than {m}×{k}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    if (a_layout, b_layout) == (Layout::AsIs, Layout::Transposed) {
        // Products with a transposed weight matrix (the backward pass's dX = dY·Wᵀ): dot products of contiguous rows
        // beat gemm's packing here. `controller simulate --bench`, 5 alternating runs each on 2 threads: update
        // 960–1309 ms (median 1064) with them, 1156–1575 ms (median 1302) with gemm for these products too; docs/controller.md.
        return super::dot_rows::product_nt(c, a, b, m, k, n, accumulate);
    }
    // Strides (row, column) of op(a) and op(b).
    let (a_rs, a_cs) = match a_layout {
        Layout::AsIs => (k as isize, 1),
        Layout::Transposed => (1, m as isize),
    };
    let (b_rs, b_cs) = match b_layout {
        Layout::AsIs => (n as isize, 1),
        Layout::Transposed => (1, k as isize),
    };
    let par =
        if m * n * k >= PARALLEL_WORK { Parallelism::Rayon(rayon::current_num_threads()) } else { Parallelism::None };
    // SAFETY: the asserts above bound every index the kernel reads or writes: op(a) spans m·k elements of `a`,
    // op(b) k·n of `b`, and c m·n of `c`, each laid out densely with the strides computed here.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `a · b` by the definition, accumulated in f64.
    pub(crate) fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j])).sum::<f64>() as f32;
            }
        }
        c
    }

    pub(crate) fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..cols).flat_map(|j| (0..rows).map(move |i| x[i * cols + j])).collect()
    }

    #[test]
    fn every_layout_matches_the_naive_product() {
        let (m, k, n) = (7, 5, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
        for (aa, al) in [(&a, Layout::AsIs), (&at, Layout::Transposed)] {
            for (bb, bl) in [(&b, Layout::AsIs), (&bt, Layout::Transposed)] {
                let mut c = vec![1.0; m * n];
                matmul(&mut c, aa, al, bb, bl, m, k, n, false);
                assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-5), "{al:?} {bl:?}");
                matmul(&mut c, aa, al, bb, bl, m, k, n, true);
                assert!(c.iter().zip(&want).all(|(x, y)| (x - 2.0 * y).abs() < 1e-5), "accumulate {al:?} {bl:?}");
            }
        }
    }
}
