//! CPU kernels of the fused minGRU scan.

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use rayon::prelude::*;

use crate::ops::flex_tensor::{contiguous, f32s, sigmoid};

use super::super::linear_scan::{scan_backward_slices, scan_forward_slices, ScanDims, ScanDirection};

/// Contiguous copies of the op's inputs.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub z: FlexTensor,
    pub reset: FlexTensor,
}

impl Inputs {
    pub fn new(z: &FlexTensor, reset: &FlexTensor) -> Self {
        Inputs { z: contiguous(z), reset: contiguous(reset) }
    }

    /// (batch, seq, width of h).
    fn dims(&self) -> [usize; 3] {
        let [bs, t, n2] = self.z.shape().dims::<3>();
        assert!(n2 % 2 == 0, "min_gru: the packed projection has odd width {n2}");
        [bs, t, n2 / 2]
    }
}

/// (a = σ(z₁), b = (1 − a)·z₂).
fn gates(inp: &Inputs) -> (Vec<f32>, Vec<f32>) {
    let [bs, t, n] = inp.dims();
    let z = f32s(&inp.z);
    let mut a = vec![0f32; bs * t * n];
    let mut b = vec![0f32; bs * t * n];
    a.par_chunks_mut(n).zip(b.par_chunks_mut(n)).enumerate().for_each(|(row, (a, b))| {
        let (z1, z2) = z[row * 2 * n..(row + 1) * 2 * n].split_at(n);
        for j in 0..n {
            let s = sigmoid(z1[j]);
            a[j] = s;
            b[j] = (1.0 - s) * z2[j];
        }
    });
    (a, b)
}

pub(super) fn forward(inp: &Inputs) -> FlexTensor {
    let [bs, t, n] = inp.dims();
    let (a, b) = gates(inp);
    let mut h = vec![0f32; bs * t * n];
    scan_forward_slices(
        &a,
        &b,
        f32s(&inp.reset),
        &mut h,
        ScanDims { seq: t, width: n, direction: ScanDirection::Forward },
    );
    FlexTensor::from_data(TensorData::new(h, [bs, t, n]))
}

/// dz `[batch, seq, 2·width]`.
pub(super) fn backward(inp: &Inputs, g: &FlexTensor, h: &FlexTensor) -> FlexTensor {
    let [bs, t, n] = inp.dims();
    let (a, _) = gates(inp);
    let (g, h) = (contiguous(g), contiguous(h));
    let mut da = vec![0f32; bs * t * n];
    let mut db = vec![0f32; bs * t * n];
    scan_backward_slices(
        f32s(&g),
        &a,
        f32s(&inp.reset),
        f32s(&h),
        (&mut da, &mut db),
        ScanDims { seq: t, width: n, direction: ScanDirection::Forward },
    );
    let z = f32s(&inp.z);
    let mut dz = vec![0f32; bs * t * 2 * n];
    dz.par_chunks_mut(2 * n).enumerate().for_each(|(row, dz)| {
        let (dz1, dz2) = dz.split_at_mut(n);
        let z2 = &z[row * 2 * n + n..(row + 1) * 2 * n];
        let o = row * n;
        for j in 0..n {
            let (s, da, db) = (a[o + j], da[o + j], db[o + j]);
            dz1[j] = (da - db * z2[j]) * s * (1.0 - s);
            dz2[j] = db * (1.0 - s);
        }
    });
    FlexTensor::from_data(TensorData::new(dz, [bs, t, 2 * n]))
}
