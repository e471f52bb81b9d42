//! CPU kernels of the fused RG-LRU: gates elementwise (parallel over the batch), then the scan kernels.

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use rayon::prelude::*;

use crate::ops::fast_math::expm1;
use crate::ops::flex_tensor::{contiguous, exp, f32s, sigmoid, softplus};

use super::super::linear_scan::{scan_backward_slices, scan_forward_slices, ScanDims, ScanDirection};
use super::{C, MAX_SQRT_GRADIENT};

/// Contiguous copies of the op's inputs.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub za: FlexTensor,
    pub zx: FlexTensor,
    pub x: FlexTensor,
    pub lambda: FlexTensor,
    pub reset: FlexTensor,
    pub mask: FlexTensor,
}

impl Inputs {
    pub fn new(
        za: &FlexTensor,
        zx: &FlexTensor,
        x: &FlexTensor,
        lambda: &FlexTensor,
        reset: &FlexTensor,
        mask: &FlexTensor,
    ) -> Self {
        Inputs {
            za: contiguous(za),
            zx: contiguous(zx),
            x: contiguous(x),
            lambda: contiguous(lambda),
            reset: contiguous(reset),
            mask: contiguous(mask),
        }
    }

    fn dims(&self) -> [usize; 3] {
        self.za.shape().dims::<3>()
    }
}

/// 1.0 where the scan's state starts afresh, `[batch, seq]`: the first step in the scan's direction, a segment
/// boundary (r_t forward, r_{t+1} reverse), or a masked transition (p_t = 0). The input multiplier is 1 there.
fn fresh(inp: &Inputs, dir: ScanDirection) -> Vec<f32> {
    let [bs, t, _] = inp.dims();
    let (reset, mask) = (f32s(&inp.reset), f32s(&inp.mask));
    (0..bs * t)
        .map(|row| {
            let ti = row % t;
            let boundary = match dir {
                ScanDirection::Forward if ti == 0 => 1.0,
                ScanDirection::Forward => reset[row],
                ScanDirection::Reverse if ti + 1 == t => 1.0,
                ScanDirection::Reverse => reset[row + 1],
            };
            boundary.max(1.0 - mask[row]).clamp(0.0, 1.0)
        })
        .collect()
}

/// Masked transitions ã = a·p and inputs b = (f + (1 − f)·√(1 − a²))·i·x for the scan, f = [`fresh`].
fn gates(inp: &Inputs, fresh: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let [bs, t, n] = inp.dims();
    let (za, zx, x, lam, mask) = (f32s(&inp.za), f32s(&inp.zx), f32s(&inp.x), f32s(&inp.lambda), f32s(&inp.mask));
    let sp: Vec<f32> = lam.iter().map(|&l| softplus(-l)).collect();
    let mut a = vec![0f32; bs * t * n];
    let mut b = vec![0f32; bs * t * n];
    a.par_chunks_mut(n).zip(b.par_chunks_mut(n)).enumerate().for_each(|(row, (a, b))| {
        let o = row * n;
        let (p, f) = (mask[row], fresh[row]);
        for j in 0..n {
            let r = sigmoid(za[o + j]);
            let i = sigmoid(zx[o + j]);
            let log_a = -C * r * sp[j];
            let root = (-expm1(2.0 * log_a)).max(0.0).sqrt();
            b[j] = (f + (1.0 - f) * root) * i * x[o + j];
            a[j] = exp(log_a) * p;
        }
    });
    (a, b)
}

pub(super) fn forward(inp: &Inputs, dir: ScanDirection) -> FlexTensor {
    let [bs, t, n] = inp.dims();
    let (a, b) = gates(inp, &fresh(inp, dir));
    let mut h = vec![0f32; bs * t * n];
    scan_forward_slices(&a, &b, f32s(&inp.reset), &mut h, ScanDims { seq: t, width: n, direction: dir });
    FlexTensor::from_data(TensorData::new(h, [bs, t, n]))
}

/// Gradients (dza, dzx, dx, dlambda) given the output gradient `g` and the forward output `h`.
pub(super) fn backward(
    inp: &Inputs,
    g: &FlexTensor,
    h: &FlexTensor,
    dir: ScanDirection,
) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
    let [bs, t, n] = inp.dims();
    let fresh = fresh(inp, dir);
    let (a_masked, _) = gates(inp, &fresh);
    let mut da = vec![0f32; bs * t * n];
    let mut db = vec![0f32; bs * t * n];
    let g = contiguous(g);
    let h = contiguous(h);
    scan_backward_slices(
        f32s(&g),
        &a_masked,
        f32s(&inp.reset),
        f32s(&h),
        (&mut da, &mut db),
        ScanDims { seq: t, width: n, direction: dir },
    );
    let (za, zx, x, lam, mask) = (f32s(&inp.za), f32s(&inp.zx), f32s(&inp.x), f32s(&inp.lambda), f32s(&inp.mask));
    let sp: Vec<f32> = lam.iter().map(|&l| softplus(-l)).collect();
    let sig_neg_lam: Vec<f32> = lam.iter().map(|&l| sigmoid(-l)).collect();
    let floor = 1.0 / (4.0 * MAX_SQRT_GRADIENT * MAX_SQRT_GRADIENT);
    let mut dza = vec![0f32; bs * t * n];
    let mut dzx = vec![0f32; bs * t * n];
    let mut dx = vec![0f32; bs * t * n];
    // Per batch element: gate gradients and a partial sum of dΛ.
    let partial: Vec<Vec<f64>> = dza
        .par_chunks_mut(t * n)
        .zip(dzx.par_chunks_mut(t * n))
        .zip(dx.par_chunks_mut(t * n))
        .enumerate()
        .map(|(bi, ((dza, dzx), dx))| {
            let mut dlam = vec![0f64; n];
            for ti in 0..t {
                let row = bi * t + ti;
                let o = row * n;
                let (p, f) = (mask[row], fresh[row]);
                for j in 0..n {
                    let k = o + j;
                    let r = sigmoid(za[k]);
                    let i = sigmoid(zx[k]);
                    let log_a = -C * r * sp[j];
                    let a = exp(log_a);
                    let m = -expm1(2.0 * log_a); // 1 − a²
                    let mult = f + (1.0 - f) * m.max(0.0).sqrt();
                    // b = mult · i · x; mult depends on a only where the state does not start afresh
                    let gb = db[k];
                    let ga = da[k] * p + (1.0 - f) * gb * i * x[k] * (-a / m.max(floor).sqrt());
                    // a = exp(−c·r·sp): ∂a/∂r = −c·sp·a, ∂a/∂sp = −c·r·a, ∂sp/∂Λ = −σ(−Λ)
                    dza[ti * n + j] = ga * (-C * sp[j] * a) * r * (1.0 - r);
                    dzx[ti * n + j] = gb * mult * x[k] * i * (1.0 - i);
                    dx[ti * n + j] = gb * mult * i;
                    dlam[j] += f64::from(ga * (C * r * a) * sig_neg_lam[j]);
                }
            }
            dlam
        })
        .collect();
    let mut dlam = vec![0f32; n];
    for p in &partial {
        for j in 0..n {
            dlam[j] += p[j] as f32;
        }
    }
    let t3 = |v: Vec<f32>| FlexTensor::from_data(TensorData::new(v, [bs, t, n]));
    (t3(dza), t3(dzx), t3(dx), FlexTensor::from_data(TensorData::new(dlam, [n])))
}
