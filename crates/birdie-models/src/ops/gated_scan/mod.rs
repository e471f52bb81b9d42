//! The Gated SSM's recurrence (design §5.2) fused with its sigmoid gates: one op, one backward.
//!
//! ```text
//! f_t = σ(zf_t)       forget gate          i_t = σ(zi_t)       input gate
//! h_t = (f_t ⊙ p_t) ⊙ h_{t∓1} + i_t ⊙ z_t                     scan (linear_scan)
//! ```
//!
//! `p` is the transition mask of bidirectional layers' reverse half (design §5.3; all ones for causal layers);
//! segment resets as in [`linear_scan`](super::linear_scan). Backward: with (da, db) from the scan's adjoint,
//! `dzf = da·p·f(1−f)`, `dzi = db·z·i(1−i)`, `dz = db·i`. Gates are recomputed in the backward, not stored.

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

/// Backends that run the fused gated scan: forward and backward kernels per backend, one backward pass for
/// `Autodiff<B>` over any of them (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait GatedScanBackend: Backend {
    /// Shapes: `zf`, `zi`, `z` `[batch, seq, width]`; `reset`, `transition_mask` `[batch, seq]`; returns `h` like `z`.
    #[fusion(dtype = z, shape = z)]
    fn gated_scan_forward(
        zf: FloatTensor<Self>,
        zi: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self>;
    /// (dzf, dzi, dz) from the output gradient `g` and the forward output `h` (not differentiable itself).
    #[allow(clippy::too_many_arguments)] // five inputs, the output, its gradient and the direction
    #[fusion(meta = |_g, _zf, _zi, z, _reset, _mask, _h, _direction| (z.clone(), z.clone(), z.clone()))]
    fn gated_scan_backward(
        g: FloatTensor<Self>,
        zf: FloatTensor<Self>,
        zi: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The fused gated scan; returns `h` `[batch, seq, width]`.
pub fn gated_scan(
    zf: Tensor<3>,
    zi: Tensor<3>,
    z: Tensor<3>,
    reset: Tensor<2>,
    transition_mask: Tensor<2>,
    direction: ScanDirection,
) -> Tensor<3> {
    let dtype = z.dtype();
    let a = (
        widened(zf).into_dispatch(),
        widened(zi).into_dispatch(),
        widened(z).into_dispatch(),
        widened(reset).into_dispatch(),
        widened(transition_mask).into_dispatch(),
    );
    Tensor::<3>::from_dispatch(<Dispatch as GatedScanBackend>::gated_scan_forward(a.0, a.1, a.2, a.3, a.4, direction))
        .cast(dtype)
}

/// The same from ordinary tensor ops (test oracle).
pub fn gated_scan_reference(
    zf: Tensor<3>,
    zi: Tensor<3>,
    z: Tensor<3>,
    reset: Tensor<2>,
    transition_mask: Tensor<2>,
    direction: ScanDirection,
) -> Tensor<3> {
    let [bs, t, _] = zf.dims();
    let a = sigmoid(zf) * transition_mask.reshape([bs, t, 1]);
    let b = sigmoid(zi) * z;
    linear_scan_reference(a, b, reset, direction)
}

impl GatedScanBackend for Flex {
    fn gated_scan_forward(
        zf: FloatTensor<Self>,
        zi: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self> {
        flex::forward(&flex::Inputs::new(&zf, &zi, &z, &reset, &transition_mask), direction)
    }
    fn gated_scan_backward(
        g: FloatTensor<Self>,
        zf: FloatTensor<Self>,
        zi: FloatTensor<Self>,
        z: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [dzf, dzi, dz] =
            flex::backward(&flex::Inputs::new(&zf, &zi, &z, &reset, &transition_mask), &g, &h, direction);
        (dzf, dzi, dz)
    }
}
