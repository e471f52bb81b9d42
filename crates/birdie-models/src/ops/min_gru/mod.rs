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
mod flex;
#[cfg(test)]
mod tests;

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use super::linear_scan::{linear_scan_reference, ScanDirection};

/// Backends that run the fused minGRU scan.
#[backend_extension(Autodiff, Flex)]
pub trait MinGruBackend: Backend {
    /// Shapes: `z` `[batch, seq, 2·width]`, `reset` `[batch, seq]`; returns `h` `[batch, seq, width]`.
    fn min_gru_forward(z: FloatTensor<Self>, reset: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The fused minGRU scan over the packed projection `z` `[batch, seq, 2·width]`; returns `h` `[batch, seq, width]`.
pub fn min_gru(z: Tensor<3>, reset: Tensor<2>) -> Tensor<3> {
    Tensor::<3>::from_dispatch(<Dispatch as MinGruBackend>::min_gru_forward(z.into_dispatch(), reset.into_dispatch()))
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
}
