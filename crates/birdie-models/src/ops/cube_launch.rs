//! What the fused ops' CubeCL kernels share (compiled with the `wgpu` or `cuda` feature): contiguous f32 inputs,
//! fresh f32 outputs, launch grids, and the scalar gate functions inside kernels.
//!
//! The scans run one thread per (row, channel), sequential over time: channels are contiguous, so the threads of a
//! cube read consecutive addresses at every step (coalesced). A chunked two-pass scan would add parallelism over time
//! for short batches and narrow layers (docs/gpu.md); one thread per (row, channel) already fills a GPU when
//! batch × width is in the tens of thousands.

use burn::tensor::{DType, Shape};
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

/// Threads per cube of the fused ops' kernels.
pub(crate) const CUBE_THREADS: u32 = 128;

/// `t` as a contiguous f32 tensor; `op` names the caller in the panic for other element types.
pub(crate) fn f32_input(t: CubeTensor, op: &str) -> CubeTensor {
    assert_eq!(t.dtype, DType::F32, "{op}: the CubeCL kernels take f32 tensors, got {:?}", t.dtype);
    into_contiguous(t)
}

/// An uninitialised f32 tensor of `shape` on `like`'s device.
pub(crate) fn empty_f32(like: &CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    empty_device_dtype(like.client.clone(), like.device.clone(), shape.into(), DType::F32)
}

/// One thread per item: (cube count, cube dim) for `items` work items, read in kernels as `ABSOLUTE_POS`.
pub(crate) fn per_item(like: &CubeTensor, items: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(CUBE_THREADS);
    (cubecl::calculate_cube_count_elemwise(&like.client, items, dim), dim)
}

/// One cube per row: (cube count, cube dim) for `rows` rows, read in kernels as `CUBE_POS`.
pub(crate) fn per_row(like: &CubeTensor, rows: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(CUBE_THREADS);
    (cubecl::calculate_cube_count_elemwise(&like.client, rows * CUBE_THREADS as usize, dim), dim)
}

/// σ(x) = 1 / (1 + e^(−x)).
#[cube]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// log(1 + e^z), exact for large z; log(1 + u) by Kahan's w = 1 + u, u·ln(w)/(w − 1), accurate for small u.
#[cube]
pub(crate) fn softplus(z: f32) -> f32 {
    if z > 20.0 {
        z
    } else {
        let u = z.exp();
        let w = 1.0 + u;
        if w == 1.0 {
            u
        } else {
            u * w.ln() / (w - 1.0)
        }
    }
}

/// e^x − 1 without cancellation near 0: 2·tanh(x/2) / (1 − tanh(x/2)).
#[cube]
pub(crate) fn expm1(x: f32) -> f32 {
    let th = (x * 0.5).tanh();
    2.0 * th / (1.0 - th)
}
