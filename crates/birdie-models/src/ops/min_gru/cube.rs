//! CubeCL kernels of the fused minGRU scan: one thread per (row, channel), left to right, reading both halves of the
//! packed projection.

use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::super::linear_scan::cube::keep_at;
use super::MinGruBackend;
use crate::ops::cube_launch::{empty_f32, f32_input, per_item, sigmoid};

#[cube(launch)]
fn min_gru_forward_kernel(z: &Tensor<f32>, reset: &Tensor<f32>, h: &mut Tensor<f32>) {
    let (rows, t, d) = (h.shape(0), h.shape(1), h.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let mut state = 0.0f32;
    for i in 0..t {
        let zk = (row * t + i) * 2 * d + j;
        let a = sigmoid(z[zk]);
        let b = (1.0 - a) * z[zk + d];
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, false) };
        if keep == 0.0 {
            state = b;
        } else {
            state = a * keep * state + b;
        }
        h[(row * t + i) * d + j] = state;
    }
}

#[cube(launch)]
fn min_gru_backward_kernel(
    g: &Tensor<f32>,
    z: &Tensor<f32>,
    reset: &Tensor<f32>,
    h: &Tensor<f32>,
    dz: &mut Tensor<f32>,
) {
    let (rows, t, d) = (h.shape(0), h.shape(1), h.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let mut dh = 0.0f32;
    let mut keep_next = 0.0f32;
    let mut a_next = 0.0f32;
    for s in 0..t {
        let i = t - 1 - s;
        let k = (row * t + i) * d + j;
        let zk = (row * t + i) * 2 * d + j;
        let a = sigmoid(z[zk]);
        if keep_next == 0.0 {
            dh = g[k];
        } else {
            dh = g[k] + a_next * keep_next * dh;
        }
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, false) };
        let mut da = 0.0f32;
        if keep != 0.0 {
            da = dh * keep * h[k - d];
        }
        dz[zk] = (da - dh * z[zk + d]) * a * (1.0 - a);
        dz[zk + d] = dh * (1.0 - a);
        keep_next = keep;
        a_next = a;
    }
}

impl MinGruBackend for CubeBackend {
    fn min_gru_forward(z: CubeTensor, reset: CubeTensor) -> CubeTensor {
        let z = f32_input(z, "min_gru");
        let [bs, t, n2] = z.meta.shape().dims::<3>();
        assert!(n2 % 2 == 0, "min_gru: the packed projection has odd width {n2}");
        let h = empty_f32(&z, [bs, t, n2 / 2]);
        let (count, dim) = per_item(&z, bs * n2 / 2);
        min_gru_forward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            z.into_tensor_arg(),
            f32_input(reset, "min_gru").into_tensor_arg(),
            h.clone().into_tensor_arg(),
        );
        h
    }

    fn min_gru_backward(g: CubeTensor, z: CubeTensor, reset: CubeTensor, h: CubeTensor) -> CubeTensor {
        let op = "min_gru backward";
        let z = f32_input(z, op);
        let [bs, t, n2] = z.meta.shape().dims::<3>();
        let dz = empty_f32(&z, [bs, t, n2]);
        let (count, dim) = per_item(&z, bs * n2 / 2);
        min_gru_backward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            f32_input(g, op).into_tensor_arg(),
            z.into_tensor_arg(),
            f32_input(reset, op).into_tensor_arg(),
            f32_input(h, op).into_tensor_arg(),
            dz.clone().into_tensor_arg(),
        );
        dz
    }
}
