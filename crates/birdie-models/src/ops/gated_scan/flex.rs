//! CPU kernels of the fused gated scan.

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::prelude::*;
use rayon::prelude::*;

use crate::ops::flex_tensor::{contiguous, f32s, sigmoid};

use super::super::linear_scan::{scan_backward_slices, scan_forward_slices, ScanDims, ScanDirection};

/// Contiguous copies of the op's inputs.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub zf: FlexTensor,
    pub zi: FlexTensor,
    pub z: FlexTensor,
    pub reset: FlexTensor,
    pub mask: FlexTensor,
}

impl Inputs {
    pub fn new(zf: &FlexTensor, zi: &FlexTensor, z: &FlexTensor, reset: &FlexTensor, mask: &FlexTensor) -> Self {
        Inputs {
            zf: contiguous(zf),
            zi: contiguous(zi),
            z: contiguous(z),
            reset: contiguous(reset),
            mask: contiguous(mask),
        }
    }

    fn dims(&self) -> [usize; 3] {
        self.zf.shape().dims::<3>()
    }
}

/// (ã = σ(zf)·p, b = σ(zi)·z).
fn gates(inp: &Inputs) -> (Vec<f32>, Vec<f32>) {
    let [bs, t, n] = inp.dims();
    let (zf, zi, z, mask) = (f32s(&inp.zf), f32s(&inp.zi), f32s(&inp.z), f32s(&inp.mask));
    let mut a = vec![0f32; bs * t * n];
    let mut b = vec![0f32; bs * t * n];
    a.par_chunks_mut(n).zip(b.par_chunks_mut(n)).enumerate().for_each(|(row, (a, b))| {
        let (o, p) = (row * n, mask[row]);
        for j in 0..n {
            a[j] = sigmoid(zf[o + j]) * p;
            b[j] = sigmoid(zi[o + j]) * z[o + j];
        }
    });
    (a, b)
}

pub(super) fn forward(inp: &Inputs, dir: ScanDirection) -> FlexTensor {
    let [bs, t, n] = inp.dims();
    let (a, b) = gates(inp);
    let mut h = vec![0f32; bs * t * n];
    scan_forward_slices(&a, &b, f32s(&inp.reset), &mut h, ScanDims { seq: t, width: n, direction: dir });
    FlexTensor::from_data(TensorData::new(h, [bs, t, n]))
}

/// (dzf, dzi, dz).
pub(super) fn backward(inp: &Inputs, g: &FlexTensor, h: &FlexTensor, dir: ScanDirection) -> [FlexTensor; 3] {
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
        ScanDims { seq: t, width: n, direction: dir },
    );
    let (zf, zi, z, mask) = (f32s(&inp.zf), f32s(&inp.zi), f32s(&inp.z), f32s(&inp.mask));
    let mut dzf = vec![0f32; bs * t * n];
    let mut dzi = vec![0f32; bs * t * n];
    let mut dz = vec![0f32; bs * t * n];
    dzf.par_chunks_mut(n).zip(dzi.par_chunks_mut(n)).zip(dz.par_chunks_mut(n)).enumerate().for_each(
        |(row, ((dzf, dzi), dz))| {
            let (o, p) = (row * n, mask[row]);
            for j in 0..n {
                let k = o + j;
                let f = sigmoid(zf[k]);
                let i = sigmoid(zi[k]);
                dzf[j] = da[k] * p * f * (1.0 - f);
                dzi[j] = db[k] * z[k] * i * (1.0 - i);
                dz[j] = db[k] * i;
            }
        },
    );
    let t3 = |v: Vec<f32>| FlexTensor::from_data(TensorData::new(v, [bs, t, n]));
    [t3(dzf), t3(dzi), t3(dz)]
}
