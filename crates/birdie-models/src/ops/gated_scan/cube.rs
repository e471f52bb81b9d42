//! CubeCL kernels of the fused gated scan: one thread per (row, channel), gates computed in the time loop.

use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::super::linear_scan::cube::{keep_at, time_at};
use super::super::linear_scan::ScanDirection;
use super::GatedScanBackend;
use crate::ops::cube_launch::{empty_f32, f32_input, per_item, sigmoid};

#[cube(launch)]
fn gated_scan_forward_kernel(
    zf: &Tensor<f32>,
    zi: &Tensor<f32>,
    z: &Tensor<f32>,
    reset: &Tensor<f32>,
    mask: &Tensor<f32>,
    h: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (z.shape(0), z.shape(1), z.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let mut state = 0.0f32;
    for i in 0..t {
        let ti = time_at(i, t, reverse);
        let k = (row * t + ti) * d + j;
        let b = sigmoid(zi[k]) * z[k];
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, reverse) };
        if keep == 0.0 {
            state = b;
        } else {
            state = sigmoid(zf[k]) * mask[row * t + ti] * keep * state + b;
        }
        h[k] = state;
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)] // five inputs, the output, its gradient and three gradients
fn gated_scan_backward_kernel(
    g: &Tensor<f32>,
    zf: &Tensor<f32>,
    zi: &Tensor<f32>,
    z: &Tensor<f32>,
    reset: &Tensor<f32>,
    mask: &Tensor<f32>,
    h: &Tensor<f32>,
    dzf: &mut Tensor<f32>,
    dzi: &mut Tensor<f32>,
    dz: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (z.shape(0), z.shape(1), z.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let mut dh = 0.0f32;
    let mut keep_next = 0.0f32;
    let mut a_next = 0.0f32;
    for s in 0..t {
        let i = t - 1 - s;
        let ti = time_at(i, t, reverse);
        let k = (row * t + ti) * d + j;
        let p = mask[row * t + ti];
        let f = sigmoid(zf[k]);
        let ig = sigmoid(zi[k]);
        if keep_next == 0.0 {
            dh = g[k];
        } else {
            dh = g[k] + a_next * keep_next * dh;
        }
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, reverse) };
        let mut da = 0.0f32;
        if keep != 0.0 {
            da = dh * keep * h[(row * t + time_at(i - 1, t, reverse)) * d + j];
        }
        dzf[k] = da * p * f * (1.0 - f);
        dzi[k] = dh * z[k] * ig * (1.0 - ig);
        dz[k] = dh * ig;
        keep_next = keep;
        a_next = f * p;
    }
}

impl GatedScanBackend for CubeBackend {
    fn gated_scan_forward(
        zf: CubeTensor,
        zi: CubeTensor,
        z: CubeTensor,
        reset: CubeTensor,
        transition_mask: CubeTensor,
        direction: ScanDirection,
    ) -> CubeTensor {
        let op = "gated_scan";
        let z = f32_input(z, op);
        let dims = z.meta.shape().dims::<3>();
        let h = empty_f32(&z, dims);
        let (count, dim) = per_item(&z, dims[0] * dims[2]);
        gated_scan_forward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            f32_input(zf, op).into_tensor_arg(),
            f32_input(zi, op).into_tensor_arg(),
            z.into_tensor_arg(),
            f32_input(reset, op).into_tensor_arg(),
            f32_input(transition_mask, op).into_tensor_arg(),
            h.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        h
    }

    fn gated_scan_backward(
        g: CubeTensor,
        zf: CubeTensor,
        zi: CubeTensor,
        z: CubeTensor,
        reset: CubeTensor,
        transition_mask: CubeTensor,
        h: CubeTensor,
        direction: ScanDirection,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let op = "gated_scan backward";
        let z = f32_input(z, op);
        let dims = z.meta.shape().dims::<3>();
        let (dzf, dzi, dz) = (empty_f32(&z, dims), empty_f32(&z, dims), empty_f32(&z, dims));
        let (count, dim) = per_item(&z, dims[0] * dims[2]);
        gated_scan_backward_kernel::launch(
            &z.client.clone(),
            count,
            dim,
            f32_input(g, op).into_tensor_arg(),
            f32_input(zf, op).into_tensor_arg(),
            f32_input(zi, op).into_tensor_arg(),
            z.into_tensor_arg(),
            f32_input(reset, op).into_tensor_arg(),
            f32_input(transition_mask, op).into_tensor_arg(),
            f32_input(h, op).into_tensor_arg(),
            dzf.clone().into_tensor_arg(),
            dzi.clone().into_tensor_arg(),
            dz.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        (dzf, dzi, dz)
    }
}
