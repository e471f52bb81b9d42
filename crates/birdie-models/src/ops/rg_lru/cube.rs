//! CubeCL kernels of the fused RG-LRU: one thread per (row, channel), gates computed in the time loop. The backward
//! writes each thread's partial sum of dΛ to a `[batch, width]` buffer, summed over the batch afterwards.

use burn::backend::ops::FloatTensorOps;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::super::linear_scan::cube::{keep_at, time_at};
use super::super::linear_scan::ScanDirection;
use super::{RgLruBackend, C, MAX_SQRT_GRADIENT};
use crate::ops::cube_launch::{empty_f32, expm1, f32_input, per_item, sigmoid, softplus};

/// 1.0 where the state starts afresh at step `i` (the first step, a segment boundary, or a masked transition).
#[cube]
#[allow(clippy::manual_clamp)] // spelled out inside a kernel, as the CPU kernel's clamp(0, 1)
fn fresh_at(reset: &Tensor<f32>, p: f32, row: usize, i: usize, t: usize, #[comptime] reverse: bool) -> f32 {
    let mut boundary = 1.0f32;
    if i > 0 {
        boundary = 1.0 - keep_at(reset, row, i, t, reverse);
    }
    let f = if 1.0 - p > boundary { 1.0 - p } else { boundary };
    if f > 1.0 {
        1.0f32
    } else if f < 0.0 {
        0.0f32
    } else {
        f
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)] // six inputs and the output
fn rg_lru_forward_kernel(
    za: &Tensor<f32>,
    zx: &Tensor<f32>,
    x: &Tensor<f32>,
    lambda: &Tensor<f32>,
    reset: &Tensor<f32>,
    mask: &Tensor<f32>,
    h: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (x.shape(0), x.shape(1), x.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let sp = softplus(-lambda[j]);
    let mut state = 0.0f32;
    for i in 0..t {
        let ti = time_at(i, t, reverse);
        let k = (row * t + ti) * d + j;
        let p = mask[row * t + ti];
        let f = fresh_at(reset, p, row, i, t, reverse);
        let r = sigmoid(za[k]);
        let ig = sigmoid(zx[k]);
        let log_a = -C * r * sp;
        let mut m = -expm1(2.0 * log_a);
        if m < 0.0 {
            m = 0.0;
        }
        let b = (f + (1.0 - f) * m.sqrt()) * ig * x[k];
        let keep = if i == 0 { 0.0f32 } else { keep_at(reset, row, i, t, reverse) };
        if keep == 0.0 {
            state = b;
        } else {
            state = log_a.exp() * p * keep * state + b;
        }
        h[k] = state;
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)] // six inputs, the output, its gradient and four gradients
fn rg_lru_backward_kernel(
    g: &Tensor<f32>,
    za: &Tensor<f32>,
    zx: &Tensor<f32>,
    x: &Tensor<f32>,
    lambda: &Tensor<f32>,
    reset: &Tensor<f32>,
    mask: &Tensor<f32>,
    h: &Tensor<f32>,
    dza: &mut Tensor<f32>,
    dzx: &mut Tensor<f32>,
    dx: &mut Tensor<f32>,
    dlambda_partial: &mut Tensor<f32>,
    #[comptime] reverse: bool,
) {
    let (rows, t, d) = (x.shape(0), x.shape(1), x.shape(2));
    if ABSOLUTE_POS >= rows * d {
        terminate!();
    }
    let (row, j) = (ABSOLUTE_POS / d, ABSOLUTE_POS % d);
    let sp = softplus(-lambda[j]);
    let sig_neg_lam = sigmoid(-lambda[j]);
    let floor = 1.0 / (4.0 * MAX_SQRT_GRADIENT * MAX_SQRT_GRADIENT);
    let mut dlam = 0.0f32;
    let mut dh = 0.0f32;
    let mut keep_next = 0.0f32;
    let mut a_next = 0.0f32;
    for s in 0..t {
        let i = t - 1 - s;
        let ti = time_at(i, t, reverse);
        let k = (row * t + ti) * d + j;
        let p = mask[row * t + ti];
        let f = fresh_at(reset, p, row, i, t, reverse);
        let r = sigmoid(za[k]);
        let ig = sigmoid(zx[k]);
        let log_a = -C * r * sp;
        let a = log_a.exp();
        let m = -expm1(2.0 * log_a);
        let mut m_pos = m;
        if m_pos < 0.0 {
            m_pos = 0.0;
        }
        let mut m_floor = m;
        if m_floor < floor {
            m_floor = floor;
        }
        let mult = f + (1.0 - f) * m_pos.sqrt();
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
        // b = mult · i · x; mult depends on a only where the state does not start afresh.
        let ga = da * p + (1.0 - f) * dh * ig * x[k] * (-a / m_floor.sqrt());
        dza[k] = ga * (-C * sp * a) * r * (1.0 - r);
        dzx[k] = dh * mult * x[k] * ig * (1.0 - ig);
        dx[k] = dh * mult * ig;
        dlam += ga * (C * r * a) * sig_neg_lam;
        keep_next = keep;
        a_next = a * p;
    }
    dlambda_partial[ABSOLUTE_POS] = dlam;
}

impl RgLruBackend for CubeBackend {
    fn rg_lru_forward(
        za: CubeTensor,
        zx: CubeTensor,
        x: CubeTensor,
        lambda: CubeTensor,
        reset: CubeTensor,
        transition_mask: CubeTensor,
        direction: ScanDirection,
    ) -> CubeTensor {
        let op = "rg_lru";
        let x = f32_input(x, op);
        let dims = x.meta.shape().dims::<3>();
        let h = empty_f32(&x, dims);
        let (count, dim) = per_item(&x, dims[0] * dims[2]);
        rg_lru_forward_kernel::launch(
            &x.client.clone(),
            count,
            dim,
            f32_input(za, op).into_tensor_arg(),
            f32_input(zx, op).into_tensor_arg(),
            x.into_tensor_arg(),
            f32_input(lambda, op).into_tensor_arg(),
            f32_input(reset, op).into_tensor_arg(),
            f32_input(transition_mask, op).into_tensor_arg(),
            h.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        h
    }

    fn rg_lru_backward(
        g: CubeTensor,
        za: CubeTensor,
        zx: CubeTensor,
        x: CubeTensor,
        lambda: CubeTensor,
        reset: CubeTensor,
        transition_mask: CubeTensor,
        h: CubeTensor,
        direction: ScanDirection,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        let op = "rg_lru backward";
        let x = f32_input(x, op);
        let [bs, t, n] = x.meta.shape().dims::<3>();
        let (dza, dzx, dx) = (empty_f32(&x, [bs, t, n]), empty_f32(&x, [bs, t, n]), empty_f32(&x, [bs, t, n]));
        let partial = empty_f32(&x, [bs, n]);
        let (count, dim) = per_item(&x, bs * n);
        rg_lru_backward_kernel::launch(
            &x.client.clone(),
            count,
            dim,
            f32_input(g, op).into_tensor_arg(),
            f32_input(za, op).into_tensor_arg(),
            f32_input(zx, op).into_tensor_arg(),
            x.into_tensor_arg(),
            f32_input(lambda, op).into_tensor_arg(),
            f32_input(reset, op).into_tensor_arg(),
            f32_input(transition_mask, op).into_tensor_arg(),
            f32_input(h, op).into_tensor_arg(),
            dza.clone().into_tensor_arg(),
            dzx.clone().into_tensor_arg(),
            dx.clone().into_tensor_arg(),
            partial.clone().into_tensor_arg(),
            direction == ScanDirection::Reverse,
        );
        let dlambda = CubeBackend::float_reshape(CubeBackend::float_sum_dim(partial, 0), [n].into());
        (dza, dzx, dx, dlambda)
    }
}
