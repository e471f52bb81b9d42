//! CubeCL kernels of the scan: one thread per (row, channel), sequential over time; the reverse direction by index
//! arithmetic (step i reads time T − 1 − i). Same recurrences as the CPU kernels (flex.rs).

use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::{ScanBackend, ScanDirection};
use crate::ops::cube_launch::{empty_f32, f32_input, per_item};

/// Time index of step `i` of a scan over `t` positions.
#[cube]
pub(crate) fn time_at(i: usize, t: usize, #[comptime] reverse: bool) -> usize {
    if reverse {
        t - 1 - i
    } else {
        i
    }
}

/// Whether state flows into step `i` (> 0) from step i − 1: 1 − r at the later of the two time indices.
#[cube]
pub(crate) fn keep_at(reset: &Tensor<f32>, row: usize, i: usize, t: usize, #[comptime] reverse: bool) -> f32 {
    if reverse {
        1.0 - reset[row * t + t - i]
    } else {
        1.0 - reset[row * t + i]
    }
}

#[cube(launch)]
fn scan_forward_kernel(
    a: &Tensor<f32>,
    b: &Tensor<f32>,
    reset: &Tensor<f32>,
    h: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (a.shape(0), a.shape(1), a.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let base = row * t * d + j;
    let mut state = 0.0f32;
    for i in 0..t {
        let k = base + time_at(i, t, reverse) * d;
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, reverse) };
        if keep == 0.0 {
            state = b[k];
        } else {
            state = a[k] * keep * state + b[k];
        }
        h[k] = state;
    }
}

#[cube(launch)]
fn scan_backward_kernel(
    g: &Tensor<f32>,
    a: &Tensor<f32>,
    reset: &Tensor<f32>,
    h: &Tensor<f32>,
    da: &mut Tensor<f32>,
    db: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (a.shape(0), a.shape(1), a.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let base = row * t * d + j;
    // dh_i = g_i + c_{i+1} · dh_{i+1}, with c_{i+1} = a_{i+1} · keep_{i+1} carried from the later step.
    let mut dh = 0.0f32;
    let mut keep_next = 0.0f32;
    let mut a_next = 0.0f32;
    for s in 0..t {
        let i = t - 1 - s;
        let k = base + time_at(i, t, reverse) * d;
        if keep_next == 0.0 {
            dh = g[k];
        } else {
            dh = g[k] + a_next * keep_next * dh;
        }
        db[k] = dh;
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, reverse) };
        if keep == 0.0 {
            da[k] = 0.0;
        } else {
            da[k] = dh * keep * h[base + time_at(i - 1, t, reverse) * d];
        }
        keep_next = keep;
        a_next = a[k];
    }
}

impl ScanBackend for CubeBackend {
    fn linear_scan_forward(a: CubeTensor, b: CubeTensor, reset: CubeTensor, direction: ScanDirection) -> CubeTensor {
        let (a, b, reset) = (f32_input(a, "linear_scan"), f32_input(b, "linear_scan"), f32_input(reset, "linear_scan"));
        let dims = a.meta.shape().dims::<3>();
        let h = empty_f32(&a, dims);
        let (count, dim) = per_item(&a, dims[0] * dims[2]);
        scan_forward_kernel::launch(
            &a.client,
            count,
            dim,
            a.clone().into_tensor_arg(),
            b.into_tensor_arg(),
            reset.into_tensor_arg(),
            h.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        h
    }

    fn linear_scan_backward(
        g: CubeTensor,
        a: CubeTensor,
        reset: CubeTensor,
        h: CubeTensor,
        direction: ScanDirection,
    ) -> (CubeTensor, CubeTensor) {
        let op = "linear_scan backward";
        let (g, a, reset, h) = (f32_input(g, op), f32_input(a, op), f32_input(reset, op), f32_input(h, op));
        let dims = a.meta.shape().dims::<3>();
        let (da, db) = (empty_f32(&a, dims), empty_f32(&a, dims));
        let (count, dim) = per_item(&a, dims[0] * dims[2]);
        scan_backward_kernel::launch(
            &a.client,
            count,
            dim,
            g.into_tensor_arg(),
            a.clone().into_tensor_arg(),
            reset.into_tensor_arg(),
            h.into_tensor_arg(),
            da.clone().into_tensor_arg(),
            db.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        (da, db)
    }
}
