//! CPU kernels of the fused loss, parallel over rows.

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use rayon::prelude::*;

use crate::ops::flex_tensor::{contiguous, exp};

use super::IGNORE_INDEX;

/// Per-row log-sum-exp and loss terms of `z` `[n, v]` (ignored rows give 0). Returns (sum of terms, lse, labelled).
pub fn forward_slices(z: &[f32], labels: &[i32], v: usize) -> (f64, Vec<f32>, usize) {
    let n = labels.len();
    assert_eq!(z.len(), n * v, "logits hold {} values, expected {n} rows × {v}", z.len());
    let mut lse = vec![0f32; n];
    let total: f64 = lse
        .par_iter_mut()
        .enumerate()
        .map(|(i, lse_i)| {
            let y = labels[i];
            if y == IGNORE_INDEX {
                return 0.0;
            }
            assert!((0..v as i32).contains(&y), "label {y} of row {i} is outside the vocabulary of {v}");
            let row = &z[i * v..(i + 1) * v];
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let s: f32 = row.iter().map(|&x| exp(x - m)).sum();
            *lse_i = m + s.ln();
            f64::from(*lse_i - row[y as usize])
        })
        .sum();
    let labelled = labels.iter().filter(|&&y| y != IGNORE_INDEX).count();
    (total, lse, labelled)
}

/// Gradient of the mean loss times `g`, into `dz` `[n, v]`.
pub fn backward_slices(z: &[f32], labels: &[i32], lse: &[f32], v: usize, g: f32, dz: &mut [f32]) {
    let labelled = labels.iter().filter(|&&y| y != IGNORE_INDEX).count();
    let scale = g / labelled.max(1) as f32;
    dz.par_chunks_mut(v).enumerate().for_each(|(i, d)| {
        let y = labels[i];
        if y == IGNORE_INDEX {
            d.fill(0.0);
            return;
        }
        let row = &z[i * v..(i + 1) * v];
        for (dj, &x) in d.iter_mut().zip(row) {
            *dj = scale * exp(x - lse[i]);
        }
        d[y as usize] -= scale;
    });
}

/// (loss `[1]`, lse `[rows]`).
pub(super) fn forward(logits: &FlexTensor, labels: &[i32]) -> (FlexTensor, FlexTensor) {
    let [n, v] = logits.shape().dims::<2>();
    let z = contiguous(logits);
    let (total, lse, labelled) = forward_slices(z.as_slice().expect("f32 logits"), labels, v);
    let loss = if labelled == 0 { 0.0 } else { (total / labelled as f64) as f32 };
    (FlexTensor::from_data(TensorData::new(vec![loss], [1])), FlexTensor::from_data(TensorData::new(lse, [n])))
}

pub(super) fn backward(g: &FlexTensor, logits: &FlexTensor, labels: &[i32], lse: &FlexTensor) -> FlexTensor {
    let [n, v] = logits.shape().dims::<2>();
    let g: f32 = contiguous(g).as_slice::<f32>().expect("f32 gradient")[0];
    let z = contiguous(logits);
    let lse = contiguous(lse);
    let mut dz = vec![0f32; n * v];
    backward_slices(z.as_slice().expect("f32 logits"), labels, lse.as_slice().expect("f32 lse"), v, g, &mut dz);
    FlexTensor::from_data(TensorData::new(dz, [n, v]))
}
