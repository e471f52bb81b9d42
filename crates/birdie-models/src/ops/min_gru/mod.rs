//! The minGRU-style recurrence of the `toy` model, read straight from its packed input projection.
//!
//! ```text
//! [z₁ | z₂] = z            (one [batch, seq, 2·width] projection)
//! a_t = σ(z₁_t)
//! h_t = a_t ⊙ h_{t−1} + (1 − a_t) ⊙ z₂_t                     left to right, reset at segment starts
//! ```
//!
//! Backward: with (da, db) from the scan's adjoint, `dz₁ = (da − db·z₂)·a(1−a)` and `dz₂ = db·(1 − a)`, written into
//! one `[batch, seq, 2·width]` gradient. Taking the packed projection whole, instead of two column slices and a
//! negation fed to [`gated_scan`](super::gated_scan), saves the slice copies, the negation and the gradient
//! scatter of the slices in every step.

mod autodiff;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube;
mod flex;
#[cfg(test)]
mod tests;

use super::widened;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use super::linear_scan::{linear_scan_reference, ScanDirection};

/// Backends that run the fused minGRU scan: forward and backward kernels per backend, one backward pass for
/// `Autodiff<B>` over any of them (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait MinGruBackend: Backend {
    /// Shapes: `z` `[batch, seq, 2·width]`, `reset` `[batch, seq]`; returns `h` `[batch, seq, width]`.
    #[fusion(meta = min_gru_output)]
    fn min_gru_forward(z: FloatTensor<Self>, reset: FloatTensor<Self>) -> FloatTensor<Self>;
    /// dz `[batch, seq, 2·width]` from the output gradient `g` and the forward output `h` (not differentiable itself).
    #[fusion(dtype = z, shape = z)]
    fn min_gru_backward(
        g: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        h: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// The output's description for the lazy (Fusion) backend: `z`'s with half the last dimension.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn min_gru_output(
    z: &burn::backend::fusion::custom::TensorSpec,
    _reset: &burn::backend::fusion::custom::TensorSpec,
) -> burn::backend::fusion::custom::TensorSpec {
    let mut out = z.clone();
    let last = out.shape.num_dims() - 1;
    out.shape[last] /= 2;
    out
}

/// The fused minGRU scan over the packed projection `z` `[batch, seq, 2·width]`; returns `h` `[batch, seq, width]`.
pub fn min_gru(z: Tensor<3>, reset: Tensor<2>) -> Tensor<3> {
    let dtype = z.dtype();
    let (z, reset) = (widened(z).into_dispatch(), widened(reset).into_dispatch());
    Tensor::<3>::from_dispatch(<Dispatch as MinGruBackend>::min_gru_forward(z, reset)).cast(dtype)
}

/// The same from ordinary tensor ops (test oracle).
pub fn min_gru_reference(z: Tensor<3>, reset: Tensor<2>) -> Tensor<3> {
    let n = z.dims()[2] / 2;
    let a = sigmoid(z.clone().narrow(2, 0, n));
    let b = (a.clone().neg().add_scalar(1.0)) * z.narrow(2, n, n);
    linear_scan_reference(a, b, reset, ScanDirection::Forward)
}

impl MinGruBackend for Flex {
    fn min_gru_forward(z: FloatTensor<Self>, reset: FloatTensor<Self>) -> FloatTensor<Self> {
        flex::forward(&flex::Inputs::new(&z, &reset))
    }
    fn min_gru_backward(
        g: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        h: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        flex::backward(&flex::Inputs::new(&z, &reset), &g, &h)
    }
}
