//! CubeCL kernels of the fused loss: the forward runs one cube per row (max, then Σ exp, each reduced in shared
//! memory) and writes the row's log-sum-exp and loss term; the backward is elementwise over the logits.

use std::sync::Arc;

use burn::backend::ops::FloatTensorOps;
use burn::backend::Scalar;
use burn::tensor::TensorData;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::{CrossEntropyBackend, IGNORE_INDEX};
use crate::ops::cube_launch::{empty_f32, f32_input, per_item, per_row, CUBE_THREADS};

#[cube(launch)]
fn xent_forward_kernel(
    z: &Tensor<f32>,
    labels: &Tensor<f32>,
    lse: &mut Tensor<f32>,
    loss_rows: &mut Tensor<f32>,
    #[comptime] threads: usize,
) {
    let (rows, v) = (z.shape(0), z.shape(1));
    let row = CUBE_POS;
    if row >= rows {
        terminate!();
    }
    let u = UNIT_POS as usize;
    let step = CUBE_DIM as usize;
    let mut shared = Shared::new_slice(threads);
    // Row maximum, starting from the row's first logit (WGSL has no −∞ literal).
    let mut m = z[row * v];
    let mut c = u;
    while c < v {
        let x = z[row * v + c];
        if x > m {
            m = x;
        }
        c += step;
    }
    shared[u] = m;
    sync_cube();
    let mut stride = CUBE_DIM as usize / 2;
    while stride > 0 {
        if u < stride {
            let (mine, other) = (shared[u], shared[u + stride]);
            if other > mine {
                shared[u] = other;
            }
        }
        sync_cube();
        stride /= 2;
    }
    let mx = shared[0];
    sync_cube();
    // Σ exp(z − max).
    let mut s = 0.0f32;
    let mut c = u;
    while c < v {
        s += (z[row * v + c] - mx).exp();
        c += step;
    }
    shared[u] = s;
    sync_cube();
    let mut stride = CUBE_DIM as usize / 2;
    while stride > 0 {
        if u < stride {
            let sum = shared[u] + shared[u + stride];
            shared[u] = sum;
        }
        sync_cube();
        stride /= 2;
    }
    if u == 0 {
        let l = mx + shared[0].ln();
        lse[row] = l;
        let y = labels[row];
        if y < 0.0 {
            loss_rows[row] = 0.0;
        } else {
            loss_rows[row] = l - z[row * v + u32::cast_from(y) as usize];
        }
    }
}

#[cube(launch)]
fn xent_backward_kernel(
    g: &Tensor<f32>,
    z: &Tensor<f32>,
    lse: &Tensor<f32>,
    labels: &Tensor<f32>,
    dz: &mut Tensor<f32>,
    inv_labelled: f32,
) {
    let (rows, v) = (z.shape(0), z.shape(1));
    if ABSOLUTE_POS >= rows * v {
        terminate!();
    }
    let (row, col) = (ABSOLUTE_POS / v, ABSOLUTE_POS % v);
    let y = labels[row];
    if y < 0.0 {
        dz[ABSOLUTE_POS] = 0.0;
    } else {
        let scale = g[0] * inv_labelled;
        let mut out = scale * (z[ABSOLUTE_POS] - lse[row]).exp();
        if col == u32::cast_from(y) as usize {
            out -= scale;
        }
        dz[ABSOLUTE_POS] = out;
    }
}

/// The labels as an f32 tensor on `like`'s device (exact below 2²⁴) and the number of labelled rows.
///
/// # Panics
/// If a label is outside `[0, vocab)` and not −100 (labels are validated at the batch boundary).
fn upload_labels(like: &CubeTensor, labels: &[i32], vocab: usize) -> (CubeTensor, usize) {
    let mut labelled = 0;
    let values: Vec<f32> = labels
        .iter()
        .enumerate()
        .map(|(i, &y)| {
            if y == IGNORE_INDEX {
                return -1.0;
            }
            assert!((0..vocab as i32).contains(&y), "label {y} of row {i} is outside the vocabulary of {vocab}");
            labelled += 1;
            y as f32
        })
        .collect();
    let n = values.len();
    (CubeBackend::float_from_data(TensorData::new(values, [n]), &like.device), labelled)
}

impl CrossEntropyBackend for CubeBackend {
    fn softmax_cross_entropy_forward(logits: CubeTensor, labels: Arc<Vec<i32>>) -> (CubeTensor, CubeTensor) {
        let z = f32_input(logits, "softmax_cross_entropy");
        let [n, v] = z.meta.shape().dims::<2>();
        assert_eq!(labels.len(), n, "softmax_cross_entropy: {} labels for {n} rows", labels.len());
        let (y, labelled) = upload_labels(&z, &labels, v);
        let (lse, loss_rows) = (empty_f32(&z, [n]), empty_f32(&z, [n]));
        let (count, dim) = per_row(&z, n);
        xent_forward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            z.into_tensor_arg(),
            y.into_tensor_arg(),
            lse.clone().into_tensor_arg(),
            loss_rows.clone().into_tensor_arg(),
            CUBE_THREADS as usize,
        );
        let inv = 1.0 / labelled.max(1) as f64;
        let loss = CubeBackend::float_mul_scalar(CubeBackend::float_sum(loss_rows), Scalar::Float(inv));
        (CubeBackend::float_reshape(loss, [1].into()), lse)
    }

    fn softmax_cross_entropy_backward(
        g: CubeTensor,
        logits: CubeTensor,
        lse: CubeTensor,
        labels: Arc<Vec<i32>>,
    ) -> CubeTensor {
        let op = "softmax_cross_entropy backward";
        let z = f32_input(logits, op);
        let [n, v] = z.meta.shape().dims::<2>();
        let (y, labelled) = upload_labels(&z, &labels, v);
        let dz = empty_f32(&z, [n, v]);
        let (count, dim) = per_item(&z, n * v);
        xent_backward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            f32_input(g, op).into_tensor_arg(),
            z.into_tensor_arg(),
            f32_input(lse, op).into_tensor_arg(),
            y.into_tensor_arg(),
            dz.clone().into_tensor_arg(),
            1.0 / labelled.max(1) as f32,
        );
        dz
    }
}
