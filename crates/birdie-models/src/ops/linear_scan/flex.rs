//! CPU kernels of the scan on plain slices (`[batch, seq, width]`, width contiguous), parallel over the batch with
//! rayon; the inner loops run over the width and vectorise.

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use rayon::prelude::*;

use crate::ops::flex_tensor::{contiguous, f32s};

use super::ScanDirection;

/// Time index processed at step `i` of a scan over `t` positions.
#[inline]
fn time_at(i: usize, t: usize, dir: ScanDirection) -> usize {
    match dir {
        ScanDirection::Forward => i,
        ScanDirection::Reverse => t - 1 - i,
    }
}

/// Whether state flows into step `i` (> 0) from step `i − 1`: 1 − r of the later of the two time indices.
#[inline]
fn keep_at(r: &[f32], i: usize, t: usize, dir: ScanDirection) -> f32 {
    let later = match dir {
        ScanDirection::Forward => i,
        ScanDirection::Reverse => t - i, // time of step i−1 = t − 1 − (i − 1)
    };
    1.0 - r[later]
}

/// Sequence length, width and direction of a scan over `[batch, seq, width]` slices.
#[derive(Debug, Clone, Copy)]
pub struct ScanDims {
    pub seq: usize,
    pub width: usize,
    pub direction: ScanDirection,
}

/// h = scan(a, b) for every sequence. Shapes: a, b, h `[batch, seq, width]`; r `[batch, seq]`.
pub fn scan_forward_slices(a: &[f32], b: &[f32], r: &[f32], h: &mut [f32], dims: ScanDims) {
    let ScanDims { seq: t, width: d, direction: dir } = dims;
    let chunk = t * d;
    if chunk == 0 {
        return;
    }
    h.par_chunks_mut(chunk).enumerate().for_each(|(bi, h)| {
        let (a, b, r) = (&a[bi * chunk..(bi + 1) * chunk], &b[bi * chunk..(bi + 1) * chunk], &r[bi * t..(bi + 1) * t]);
        for i in 0..t {
            let ti = time_at(i, t, dir);
            let cur = ti * d;
            if i == 0 || keep_at(r, i, t, dir) == 0.0 {
                h[cur..cur + d].copy_from_slice(&b[cur..cur + d]);
                continue;
            }
            let prev = time_at(i - 1, t, dir) * d;
            let k = keep_at(r, i, t, dir);
            let (h_cur, h_prev) = if prev < cur {
                let (lo, hi) = h.split_at_mut(cur);
                (&mut hi[..d], &lo[prev..prev + d])
            } else {
                let (lo, hi) = h.split_at_mut(prev);
                (&mut lo[cur..cur + d], &hi[..d])
            };
            let (a_cur, b_cur) = (&a[cur..cur + d], &b[cur..cur + d]);
            for j in 0..d {
                h_cur[j] = a_cur[j] * k * h_prev[j] + b_cur[j];
            }
        }
    });
}

/// (da, db) of the scan given the output gradient `g` and the forward output `h`. Shapes as the forward.
pub fn scan_backward_slices(
    g: &[f32],
    a: &[f32],
    r: &[f32],
    h: &[f32],
    grads: (&mut [f32], &mut [f32]),
    dims: ScanDims,
) {
    let ScanDims { seq: t, width: d, direction: dir } = dims;
    let (da, db) = grads;
    let chunk = t * d;
    if chunk == 0 {
        return;
    }
    da.par_chunks_mut(chunk).zip(db.par_chunks_mut(chunk)).enumerate().for_each(|(bi, (da, db))| {
        let o = bi * chunk;
        let (g, a, h, r) = (&g[o..o + chunk], &a[o..o + chunk], &h[o..o + chunk], &r[bi * t..(bi + 1) * t]);
        // One pass from the last step back to the first:
        //   dh_i = g_i + c_{i+1} · dh_{i+1}   (stored in db)
        //   da_i = dh_i · keep_i · h_{i−1}     (zero where no state flows in)
        for i in (0..t).rev() {
            let cur = time_at(i, t, dir) * d;
            if i + 1 == t || keep_at(r, i + 1, t, dir) == 0.0 {
                db[cur..cur + d].copy_from_slice(&g[cur..cur + d]);
            } else {
                let next = time_at(i + 1, t, dir) * d;
                let k = keep_at(r, i + 1, t, dir);
                let (db_cur, db_next) = if next > cur {
                    let (lo, hi) = db.split_at_mut(next);
                    (&mut lo[cur..cur + d], &hi[..d])
                } else {
                    let (lo, hi) = db.split_at_mut(cur);
                    (&mut hi[..d], &lo[next..next + d])
                };
                let (g_cur, a_next) = (&g[cur..cur + d], &a[next..next + d]);
                for j in 0..d {
                    db_cur[j] = g_cur[j] + a_next[j] * k * db_next[j];
                }
            }
            let k = if i == 0 { 0.0 } else { keep_at(r, i, t, dir) };
            let da_cur = &mut da[cur..cur + d];
            if k == 0.0 {
                da_cur.fill(0.0);
            } else {
                let prev = time_at(i - 1, t, dir) * d;
                let (db_cur, h_prev) = (&db[cur..cur + d], &h[prev..prev + d]);
                for j in 0..d {
                    da_cur[j] = db_cur[j] * k * h_prev[j];
                }
            }
        }
    });
}

pub(super) fn forward(a: &FlexTensor, b: &FlexTensor, r: &FlexTensor, dir: ScanDirection) -> FlexTensor {
    let [bs, t, d] = a.shape().dims::<3>();
    let (a, b, r) = (contiguous(a), contiguous(b), contiguous(r));
    let mut h = vec![0f32; bs * t * d];
    scan_forward_slices(f32s(&a), f32s(&b), f32s(&r), &mut h, ScanDims { seq: t, width: d, direction: dir });
    FlexTensor::from_data(TensorData::new(h, [bs, t, d]))
}

pub(super) fn backward(
    g: &FlexTensor,
    a: &FlexTensor,
    r: &FlexTensor,
    h: &FlexTensor,
    dir: ScanDirection,
) -> (FlexTensor, FlexTensor) {
    let [bs, t, d] = a.shape().dims::<3>();
    let (g, a, r, h) = (contiguous(g), contiguous(a), contiguous(r), contiguous(h));
    let mut da = vec![0f32; bs * t * d];
    let mut db = vec![0f32; bs * t * d];
    scan_backward_slices(
        f32s(&g),
        f32s(&a),
        f32s(&r),
        f32s(&h),
        (&mut da, &mut db),
        ScanDims { seq: t, width: d, direction: dir },
    );
    (FlexTensor::from_data(TensorData::new(da, [bs, t, d])), FlexTensor::from_data(TensorData::new(db, [bs, t, d])))
}
