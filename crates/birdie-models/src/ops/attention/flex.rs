//! CPU kernels of the fused attention: per (batch, head), blocks of `BLOCK` queries against the span of keys any of
//! them may see, on the `gemm` crate's kernels (the ones burn's CPU matmul uses). A block's scores live in one
//! `BLOCK × span` buffer per worker, never a `[seq, seq]` tensor.

use std::collections::HashMap;

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use gemm::Parallelism;
use rayon::prelude::*;

use super::AttentionMask;
use crate::ops::flex_tensor::{contiguous, exp, f32s};

/// Queries per block.
const BLOCK: usize = 64;

/// Contiguous copies of the op's inputs.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    segments: FlexTensor,
    prefix: FlexTensor,
    mask: AttentionMask,
}

impl Inputs {
    pub fn new(
        q: &FlexTensor,
        k: &FlexTensor,
        v: &FlexTensor,
        segments: &FlexTensor,
        prefix: &FlexTensor,
        mask: AttentionMask,
    ) -> Self {
        let (q, k, v) = (contiguous(q), contiguous(k), contiguous(v));
        let dims = q.shape().dims::<4>();
        assert!(k.shape().dims::<4>() == dims && v.shape().dims::<4>() == dims, "attention: q, k, v differ in shape");
        Inputs { q, k, v, segments: contiguous(segments), prefix: contiguous(prefix), mask }
    }

    /// (batch, heads, seq, head_dim).
    fn dims(&self) -> [usize; 4] {
        self.q.shape().dims::<4>()
    }

    /// The mask of one batch row.
    fn row_mask(&self, row: usize) -> RowMask<'_> {
        let t = self.dims()[2];
        let seg = &f32s(&self.segments)[row * t..(row + 1) * t];
        let pre = &f32s(&self.prefix)[row * t..(row + 1) * t];
        RowMask::new(seg, pre, self.mask)
    }
}

/// One batch row's mask rule and, per query, the span `[lo, hi)` that holds every key it may see.
struct RowMask<'a> {
    seg: &'a [f32],
    pre: &'a [f32],
    prefix_lm: bool,
    lo: Vec<usize>,
    hi: Vec<usize>,
}

impl<'a> RowMask<'a> {
    fn new(seg: &'a [f32], pre: &'a [f32], mask: AttentionMask) -> Self {
        let prefix_lm = mask == AttentionMask::PrefixLm;
        let t = seg.len();
        let mut first = HashMap::new();
        let lo = (0..t).map(|i| *first.entry(seg[i].to_bits()).or_insert(i)).collect();
        let mut last_prefix = HashMap::new();
        for j in (0..t).rev() {
            if pre[j] == 1.0 {
                last_prefix.entry(seg[j].to_bits()).or_insert(j);
            }
        }
        let hi = (0..t)
            .map(|i| {
                let reach = if prefix_lm && pre[i] == 1.0 { last_prefix[&seg[i].to_bits()] } else { i };
                reach.max(i) + 1
            })
            .collect();
        RowMask { seg, pre, prefix_lm, lo, hi }
    }

    fn allowed(&self, i: usize, j: usize) -> bool {
        self.seg[i] == self.seg[j] && (j <= i || (self.prefix_lm && self.pre[i] == 1.0 && self.pre[j] == 1.0))
    }

    /// The key span of the queries `[i0, i1)`.
    fn span(&self, i0: usize, i1: usize) -> (usize, usize) {
        (self.lo[i0..i1].iter().copied().min().unwrap_or(0), self.hi[i0..i1].iter().copied().max().unwrap_or(0))
    }
}

/// A row-major matrix operand: its values and (row, column) strides.
#[derive(Clone, Copy)]
struct Operand<'a> {
    values: &'a [f32],
    row_stride: isize,
    col_stride: isize,
}

impl<'a> Operand<'a> {
    /// `values` as `[rows, cols]` row-major.
    fn rows(values: &'a [f32], cols: usize) -> Self {
        Operand { values, row_stride: cols as isize, col_stride: 1 }
    }

    /// The transpose of `values` stored as `[rows, cols]` row-major.
    fn transposed(values: &'a [f32], cols: usize) -> Self {
        Operand { values, row_stride: 1, col_stride: cols as isize }
    }
}

/// `c[m×n] = scale · a[m×k] · b[k×n]`, or `c += …` with `accumulate`; `c` is dense row-major.
fn product(
    c: &mut [f32],
    a: Operand<'_>,
    b: Operand<'_>,
    (m, k, n): (usize, usize, usize),
    scale: f32,
    accumulate: bool,
) {
    assert!(c.len() >= m * n, "attention: product output shorter than {m}×{n}");
    let reach = |o: Operand<'_>, rows: usize, cols: usize| {
        (rows.max(1) - 1) as isize * o.row_stride + (cols.max(1) - 1) as isize * o.col_stride
    };
    assert!(reach(a, m, k) < a.values.len() as isize && reach(b, k, n) < b.values.len() as isize);
    if m == 0 || n == 0 || k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above bound every element the kernel reads (the last element of each operand lies inside
    // its slice, and strides are non-negative) and writes (m·n dense values of `c`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.values.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.values.as_ptr(),
            b.col_stride,
            b.row_stride,
            1.0,
            scale,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// One query block against its key span: the block's rows of q, k and v of one (batch, head), and where it sits.
struct Block<'a> {
    mask: &'a RowMask<'a>,
    i0: usize,
    rows: usize,
    lo: usize,
    span: usize,
    hd: usize,
}

impl Block<'_> {
    /// `p[rows × span]` ← the block's scaled scores q_i · k_j / √d.
    fn scores(&self, p: &mut [f32], q: &[f32], k: &[f32], scale: f32) {
        let (hd, span) = (self.hd, self.span);
        let qb = &q[self.i0 * hd..(self.i0 + self.rows) * hd];
        let kb = &k[self.lo * hd..(self.lo + span) * hd];
        product(p, Operand::rows(qb, hd), Operand::transposed(kb, hd), (self.rows, hd, span), scale, false);
    }

    /// Scores → P in place, row i against `lse(i, row)`; masked keys get 0.
    fn exponentiate(&self, p: &mut [f32], mut lse: impl FnMut(usize, &[f32]) -> f32) {
        for (r, row) in p.chunks_mut(self.span).take(self.rows).enumerate() {
            let i = self.i0 + r;
            let l = lse(i, row);
            for (c, x) in row.iter_mut().enumerate() {
                *x = if self.mask.allowed(i, self.lo + c) { exp(*x - l) } else { 0.0 };
            }
        }
    }

    /// The log-sum-exp of query `i`'s allowed scores `row`.
    fn log_sum_exp(&self, i: usize, row: &[f32]) -> f32 {
        let allowed = |c: &usize| self.mask.allowed(i, self.lo + c);
        let m = (0..self.span).filter(allowed).map(|c| row[c]).fold(f32::MIN, f32::max);
        m + (0..self.span).filter(allowed).map(|c| exp(row[c] - m)).sum::<f32>().ln()
    }
}

/// The `[seq, head_dim]` slice of (batch, head) `bh`.
fn head(x: &[f32], bh: usize, len: usize) -> &[f32] {
    &x[bh * len..(bh + 1) * len]
}

/// (out `[batch, heads, seq, head_dim]`, lse `[batch, heads, seq]`).
pub(super) fn forward(inp: &Inputs) -> (FlexTensor, FlexTensor) {
    let [b, h, t, hd] = inp.dims();
    let (q, k, v) = (f32s(&inp.q), f32s(&inp.k), f32s(&inp.v));
    let scale = 1.0 / (hd as f32).sqrt();
    let masks: Vec<RowMask<'_>> = (0..b).map(|r| inp.row_mask(r)).collect();
    let mut out = vec![0f32; b * h * t * hd];
    let mut lse = vec![0f32; b * h * t];
    out.par_chunks_mut(t * hd).zip(lse.par_chunks_mut(t)).enumerate().for_each(|(bh, (out, lse))| {
        let (q, k, v) = (head(q, bh, t * hd), head(k, bh, t * hd), head(v, bh, t * hd));
        let mask = &masks[bh / h];
        let mut p = Vec::new();
        for i0 in (0..t).step_by(BLOCK) {
            let rows = BLOCK.min(t - i0);
            let (lo, hi) = mask.span(i0, i0 + rows);
            let block = Block { mask, i0, rows, lo, span: hi - lo, hd };
            p.resize(rows * block.span, 0.0);
            block.scores(&mut p, q, k, scale);
            block.exponentiate(&mut p, |i, row| {
                lse[i] = block.log_sum_exp(i, row);
                lse[i]
            });
            let ob = &mut out[i0 * hd..(i0 + rows) * hd];
            let vb = &v[lo * hd..hi * hd];
            product(ob, Operand::rows(&p, block.span), Operand::rows(vb, hd), (rows, block.span, hd), 1.0, false);
        }
    });
    (FlexTensor::from_data(TensorData::new(out, [b, h, t, hd])), FlexTensor::from_data(TensorData::new(lse, [b, h, t])))
}

/// (dq, dk, dv), each `[batch, heads, seq, head_dim]`.
pub(super) fn backward(
    inp: &Inputs,
    g: &FlexTensor,
    out: &FlexTensor,
    lse: &FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let [b, h, t, hd] = inp.dims();
    let (g, out, lse) = (contiguous(g), contiguous(out), contiguous(lse));
    let (q, k, v, g, o, lse) = (f32s(&inp.q), f32s(&inp.k), f32s(&inp.v), f32s(&g), f32s(&out), f32s(&lse));
    let scale = 1.0 / (hd as f32).sqrt();
    let masks: Vec<RowMask<'_>> = (0..b).map(|r| inp.row_mask(r)).collect();
    let n = b * h * t * hd;
    let (mut dq, mut dk, mut dv) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    let chunks = dq.par_chunks_mut(t * hd).zip(dk.par_chunks_mut(t * hd)).zip(dv.par_chunks_mut(t * hd));
    chunks.enumerate().for_each(|(bh, ((dq, dk), dv))| {
        let at = |x| head(x, bh, t * hd);
        let (q, k, v, g, o, lse) = (at(q), at(k), at(v), at(g), at(o), head(lse, bh, t));
        let mask = &masks[bh / h];
        let (mut p, mut ds) = (Vec::new(), Vec::new());
        for i0 in (0..t).step_by(BLOCK) {
            let rows = BLOCK.min(t - i0);
            let (lo, hi) = mask.span(i0, i0 + rows);
            let span = hi - lo;
            let block = Block { mask, i0, rows, lo, span, hd };
            p.resize(rows * span, 0.0);
            ds.resize(rows * span, 0.0);
            block.scores(&mut p, q, k, scale);
            block.exponentiate(&mut p, |i, _| lse[i]);
            let (qb, gb) = (&q[i0 * hd..(i0 + rows) * hd], &g[i0 * hd..(i0 + rows) * hd]);
            let (kb, vb) = (&k[lo * hd..hi * hd], &v[lo * hd..hi * hd]);
            // dS = P ∘ (dO·Vᵀ − D), D_i = dO_i · o_i.
            product(&mut ds, Operand::rows(gb, hd), Operand::transposed(vb, hd), (rows, hd, span), 1.0, false);
            for r in 0..rows {
                let i = i0 + r;
                let d: f32 = g[i * hd..(i + 1) * hd].iter().zip(&o[i * hd..(i + 1) * hd]).map(|(a, b)| a * b).sum();
                for c in 0..span {
                    ds[r * span + c] = p[r * span + c] * (ds[r * span + c] - d);
                }
            }
            let dqb = &mut dq[i0 * hd..(i0 + rows) * hd];
            product(dqb, Operand::rows(&ds, span), Operand::rows(kb, hd), (rows, span, hd), scale, false);
            let dkb = &mut dk[lo * hd..hi * hd];
            product(dkb, Operand::transposed(&ds, span), Operand::rows(qb, hd), (span, rows, hd), scale, true);
            let dvb = &mut dv[lo * hd..hi * hd];
            product(dvb, Operand::transposed(&p, span), Operand::rows(gb, hd), (span, rows, hd), 1.0, true);
        }
    });
    let shape = [b, h, t, hd];
    let tensor = |x: Vec<f32>| FlexTensor::from_data(TensorData::new(x, shape));
    (tensor(dq), tensor(dk), tensor(dv))
}
