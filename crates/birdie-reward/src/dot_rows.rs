//! `C (+)= A · Bᵀ` (`A` `[m, k]`, `B` `[n, k]`, both row-major) as dot products of contiguous rows, register-blocked
//! 2 rows × 4 rows × 8 lanes, without packing — faster than gemm's packing for the explicit reward network's backward
//! products `dX = dY · Wᵀ`, where `dY` has only T (history) rows. Compiled for AVX2 + FMA when the CPU has them
//! (checked at run time), plain otherwise; columns are split over the worker threads when the product is large.

use rayon::prelude::*;

/// Products with at least this many multiply-adds use every worker thread.
const PARALLEL_WORK: usize = 1 << 20;

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, acc: f32) -> f32 {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// Rows of `A · Bᵀ` (`a` holds just those rows) into `c`.
#[inline(always)]
fn nt_rows<const FMA: bool>(c: &mut [f32], a: &[f32], b: &[f32], k: usize, n: usize, accumulate: bool) {
    const L: usize = 8;
    let rows = c.len() / n;
    let kv = k / L * L;
    let dot_tail = |x: &[f32], y: &[f32]| (kv..k).fold(0.0f32, |s, p| madd::<FMA>(x[p], y[p], s));
    let mut i = 0;
    while i < rows {
        let two = i + 2 <= rows;
        let ar = [&a[i * k..(i + 1) * k], if two { &a[(i + 1) * k..(i + 2) * k] } else { &a[i * k..(i + 1) * k] }];
        let mut j = 0;
        while j < n {
            let q = (n - j).min(4);
            let br: [&[f32]; 4] = std::array::from_fn(|t| {
                let jj = j + t.min(q - 1);
                &b[jj * k..(jj + 1) * k]
            });
            let mut acc = [[[0.0f32; L]; 4]; 2];
            for p0 in (0..kv).step_by(L) {
                let av: [&[f32; L]; 2] = std::array::from_fn(|r| ar[r][p0..p0 + L].try_into().expect("lane"));
                let bv: [&[f32; L]; 4] = std::array::from_fn(|t| br[t][p0..p0 + L].try_into().expect("lane"));
                for r in 0..2 {
                    for t in 0..4 {
                        for l in 0..L {
                            acc[r][t][l] = madd::<FMA>(av[r][l], bv[t][l], acc[r][t][l]);
                        }
                    }
                }
            }
            for r in 0..(if two { 2 } else { 1 }) {
                for t in 0..q {
                    let mut s = acc[r][t].iter().sum::<f32>() + dot_tail(ar[r], br[t]);
                    if accumulate {
                        s += c[(i + r) * n + j + t];
                    }
                    c[(i + r) * n + j + t] = s;
                }
            }
            j += q;
        }
        i += if two { 2 } else { 1 };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn nt_rows_avx2(c: &mut [f32], a: &[f32], b: &[f32], k: usize, n: usize, accumulate: bool) {
    nt_rows::<true>(c, a, b, k, n, accumulate)
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `c[m×n] (+)= a · bᵀ` with `a` `[m, k]` and `b` `[n, k]`, both row-major. A large product splits the columns
/// (rows of `b`) over the worker threads (rayon's pool: the machine's cores or `--threads`): each thread then streams
/// only its share of `b` — a slice of a weight matrix stays in its core's L2 cache over the sweep of the `m` rows,
/// where the whole one would come from L3 each time.
///
/// # Panics
/// If a slice is shorter than its shape.
pub fn product_nt(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize, accumulate: bool) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= n * k, "product operands shorter than {m}×{k}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    let avx = has_avx2_fma();
    let kernel = |c: &mut [f32], b: &[f32], n: usize| {
        #[cfg(target_arch = "x86_64")]
        if avx {
            // SAFETY: the CPU supports AVX2 and FMA (checked above); the kernel bounds-checks every access.
            unsafe { nt_rows_avx2(c, &a[..m * k], b, k, n, accumulate) };
            return;
        }
        let _ = avx;
        nt_rows::<false>(c, &a[..m * k], b, k, n, accumulate);
    };
    let parts = rayon::current_num_threads().min(n / 8).max(1);
    if m * n * k < PARALLEL_WORK || parts == 1 {
        return kernel(&mut c[..m * n], &b[..n * k], n);
    }
    // Column block p is [p·n/parts, (p+1)·n/parts): computed into a compact copy on its own thread, then put back.
    let bounds: Vec<(usize, usize)> = (0..parts).map(|p| (p * n / parts, (p + 1) * n / parts)).collect();
    let blocks: Vec<Vec<f32>> = bounds
        .par_iter()
        .map(|&(from, to)| {
            let width = to - from;
            let mut out = vec![0.0; m * width];
            if accumulate {
                for (o, row) in out.chunks_exact_mut(width).zip(c.chunks_exact(n)) {
                    o.copy_from_slice(&row[from..to]);
                }
            }
            kernel(&mut out, &b[from * k..to * k], width);
            out
        })
        .collect();
    for (&(from, to), block) in bounds.iter().zip(&blocks) {
        for (row, part) in c[..m * n].chunks_exact_mut(n).zip(block.chunks_exact(to - from)) {
            row[from..to].copy_from_slice(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::tests::{naive, transpose};

    #[test]
    fn kernels_match_the_naive_product_on_every_tail() {
        // Row counts around the 2-row blocks and the thread split, columns around the 16-wide strips, inner sizes
        // around the 8-wide lanes; the last, and the one below, large enough for two threads (odd and even columns).
        for &(m, k, n) in
            &[(1, 1, 1), (3, 5, 7), (4, 8, 16), (7, 17, 33), (13, 24, 20), (40, 64, 128), (41, 130, 70), (41, 130, 201)]
        {
            let a: Vec<f32> = (0..m * k).map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i * 53 % 97) as f32 / 48.0 - 1.0).collect();
            let want = naive(&a, &b, m, k, n);
            let close =
                |c: &[f32], scale: f32| c.iter().zip(&want).all(|(x, y)| (x - scale * y).abs() < 1e-4 * k as f32);
            let bt = transpose(&b, k, n);
            let mut c = vec![0.5; m * n];
            product_nt(&mut c, &a, &bt, m, k, n, false);
            assert!(close(&c, 1.0), "nt {m}×{k}×{n}");
            product_nt(&mut c, &a, &bt, m, k, n, true);
            assert!(close(&c, 2.0), "nt accumulate {m}×{k}×{n}");
        }
        let (m, k, n) = (64, 256, 256);
        let a: Vec<f32> = (0..m * k).map(|i| ((i % 13) as f32 - 6.0) / 6.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i % 7) as f32 - 3.0) / 3.0).collect();
        let mut c = vec![0.0; m * n];
        product_nt(&mut c, &a, &transpose(&b, k, n), m, k, n, false);
        assert!(c.iter().zip(&naive(&a, &b, m, k, n)).all(|(x, y)| (x - y).abs() < 1e-3), "two threads");
    }
}
