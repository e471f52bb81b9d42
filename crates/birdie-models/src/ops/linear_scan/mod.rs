//! The diagonal linear recurrence at the heart of every SSM layer (design §5; docs/models.md):
//!
//! ```text
//! forward:  h_t = a_t · (1 − r_t)     · h_{t−1} + b_t      (t = 0 … T−1)
//! reverse:  h_t = a_t · (1 − r_{t+1}) · h_{t+1} + b_t      (t = T−1 … 0)
//! ```
//!
//! `r` marks segment starts (1 where a new packed sample begins, design §2.5): the state never flows across a sample
//! boundary in either direction. The reverse direction is the bidirectional layers' right-to-left half (design §5.3);
//! blocking it in the suffix is the caller's job (a_t = 0 where `attention_mask ≠ 1`).
//!
//! Backward by the adjoint recurrence, with c_t the effective transition of step t:
//!
//! ```text
//! dh_t = g_t + c_{next(t)} · dh_{next(t)}      (next = t+1 forward, t−1 reverse)
//! db_t = dh_t
//! da_t = dh_t · keep_t · h_{prev(t)}           (keep_t = 1 − r_t forward, 1 − r_{t+1} reverse)
//! ```
//!
//! `r` gets no gradient. [`linear_scan_reference`] computes the same with ordinary tensor ops (one step at a time).

mod autodiff;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub(crate) mod cube;
mod flex;
#[cfg(test)]
mod tests;

use super::widened;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex};
use burn::prelude::*;

pub use flex::{scan_backward_slices, scan_forward_slices, ScanDims};

/// Direction of the recurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanDirection {
    /// Left to right (causal).
    Forward,
    /// Right to left (the reverse half of bidirectional layers).
    Reverse,
}

/// Backends that run the fused scan: a forward and a backward kernel per backend (Flex on the CPU, CubeCL on GPUs),
/// and for `Autodiff<B>` one backward pass, written once over any such `B` (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait ScanBackend: Backend {
    /// The scan. Shapes: `a`, `b` `[batch, seq, width]`, `reset` `[batch, seq]`; returns `h` like `a`.
    #[fusion(dtype = a, shape = a)]
    fn linear_scan_forward(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self>;
    /// (da, db) of the scan from the output gradient `g` and the forward output `h` (not differentiable itself).
    #[fusion(meta = |_g, a, _reset, _h, _direction| (a.clone(), a.clone()))]
    fn linear_scan_backward(
        g: FloatTensor<Self>,
        a: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The fused scan.
///
/// # Shapes
/// `a`, `b`: `[batch, seq, width]`; `reset`: `[batch, seq]` (1.0 at segment starts, else 0.0).
/// Returns `h`: `[batch, seq, width]`.
pub fn linear_scan(a: Tensor<3>, b: Tensor<3>, reset: Tensor<2>, direction: ScanDirection) -> Tensor<3> {
    let dtype = a.dtype();
    let (a, b, r) = (widened(a).into_dispatch(), widened(b).into_dispatch(), widened(reset).into_dispatch());
    Tensor::<3>::from_dispatch(<Dispatch as ScanBackend>::linear_scan_forward(a, b, r, direction)).cast(dtype)
}

/// The scan as ordinary tensor ops, one time step after another (test oracle).
pub fn linear_scan_reference(a: Tensor<3>, b: Tensor<3>, reset: Tensor<2>, direction: ScanDirection) -> Tensor<3> {
    let [bs, t, d] = a.dims();
    let device = a.device();
    let keep = reset.neg().add_scalar(1.0).reshape([bs, t, 1]);
    let mut h = Tensor::<3>::zeros([bs, 1, d], &device);
    let mut outs: Vec<Tensor<3>> = Vec::with_capacity(t);
    let steps: Vec<usize> = match direction {
        ScanDirection::Forward => (0..t).collect(),
        ScanDirection::Reverse => (0..t).rev().collect(),
    };
    for (i, &ti) in steps.iter().enumerate() {
        let at = a.clone().narrow(1, ti, 1);
        let bt = b.clone().narrow(1, ti, 1);
        h = if i == 0 {
            bt
        } else {
            let k = match direction {
                ScanDirection::Forward => keep.clone().narrow(1, ti, 1),
                ScanDirection::Reverse => keep.clone().narrow(1, ti + 1, 1),
            };
            at * k * h + bt
        };
        outs.push(h.clone());
    }
    if direction == ScanDirection::Reverse {
        outs.reverse();
    }
    Tensor::cat(outs, 1)
}

/// `reset` from packed segment ids (row-major `[batch, seq]`): 1.0 where a segment starts (t = 0 or the id changes).
pub fn resets_from_segments(segment_ids: &[i32], batch: usize, seq: usize) -> Vec<f32> {
    let mut r = vec![0f32; batch * seq];
    for b in 0..batch {
        for t in 0..seq {
            let i = b * seq + t;
            if t == 0 || segment_ids[i] != segment_ids[i - 1] {
                r[i] = 1.0;
            }
        }
    }
    r
}

impl ScanBackend for Flex {
    fn linear_scan_forward(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self> {
        flex::forward(&a, &b, &reset, direction)
    }
    fn linear_scan_backward(
        g: FloatTensor<Self>,
        a: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        flex::backward(&g, &a, &reset, &h, direction)
    }
}
