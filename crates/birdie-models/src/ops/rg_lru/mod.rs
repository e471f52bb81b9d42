//! The RG-LRU (Griffin / Hawk, design §5.1) fused with its scan: gate math and recurrence in one op, one backward.
//!
//! ```text
//! r_t = σ(za_t)                       recurrence gate
//! i_t = σ(zx_t)                       input gate
//! log a_t = −c · r_t · softplus(−Λ)   i.e. a_t = σ(Λ)^(c·r_t), c = 8, computed in log space
//! m_t = 1 − a_t² = −expm1(2·log a_t)  no cancellation as a_t → 1
//! b_t = μ_t ⊙ (i_t ⊙ x_t)             μ_t = 1 where the state starts afresh (f_t = 1), else √m_t
//! h_t = ã_t ⊙ h_{t∓1} + b_t           scan (linear_scan), ã = a ⊙ p
//! ```
//!
//! √ has the bounded gradient g / (2·√max(m, 1/(4G²))), G = 1000. The state starts afresh (f_t = 1) at the first
//! step of the scan (t = 0 forward, t = T − 1 reverse), at a segment boundary (r_t = 1 forward, r_{t+1} = 1 reverse)
//! and wherever the transition is masked (p_t = 0): there h_t = i_t·x_t, as in recurrentgemma, whose multiplier is 1
//! at a document start (docs/models.md, "Matching recurrentgemma"). Λ is recurrentgemma's −a_param.
//!
//! `p` is the transition mask of bidirectional layers' reverse half (1 in the prefix, 0 in the suffix and padding:
//! design §5.3); per decision A6 only the transition is masked (the reverse half's state in the suffix is its own input
//! term i_t·x_t). Segment resets work as in [`linear_scan`](super::linear_scan). The backward recomputes the gates
//! from the inputs instead of storing them, and runs the scan's adjoint recurrence once.

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
use burn::tensor::activation::{sigmoid, softplus};

use super::linear_scan::{linear_scan_reference, ScanDirection};

/// The exponent scale c of a_t = σ(Λ)^(c·r_t).
pub const C: f32 = 8.0;
/// Largest gradient of the bounded square root (design §5.1).
pub const MAX_SQRT_GRADIENT: f32 = 1000.0;

/// Backends that run the fused RG-LRU: forward and backward kernels per backend, one backward pass for `Autodiff<B>`
/// over any of them (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait RgLruBackend: Backend {
    /// Shapes: `za`, `zx`, `x` `[batch, seq, width]`; `lambda` `[width]`; `reset`, `transition_mask` `[batch, seq]`.
    /// Returns `h` like `x`.
    #[fusion(dtype = x, shape = x)]
    fn rg_lru_forward(
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self>;
    /// (dza, dzx, dx, dlambda) from the output gradient `g` and the forward output `h` (not differentiable itself).
    #[allow(clippy::too_many_arguments)] // six inputs, the output, its gradient and the direction
    #[fusion(meta = |_g, _za, _zx, x, lambda, _reset, _mask, _h, _direction| (x.clone(), x.clone(), x.clone(), lambda.clone()))]
    fn rg_lru_backward(
        g: FloatTensor<Self>,
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Inputs of one RG-LRU call.
#[derive(Debug, Clone)]
pub struct RgLruInput {
    /// Recurrence-gate pre-activation `[batch, seq, width]`.
    pub za: Tensor<3>,
    /// Input-gate pre-activation `[batch, seq, width]`.
    pub zx: Tensor<3>,
    /// Input (the conv output) `[batch, seq, width]`.
    pub x: Tensor<3>,
    /// Λ `[width]`.
    pub lambda: Tensor<1>,
    /// 1.0 at segment starts `[batch, seq]`.
    pub reset: Tensor<2>,
    /// Transition mask `[batch, seq]` (all ones for causal layers).
    pub transition_mask: Tensor<2>,
}

/// The fused RG-LRU; returns `h` `[batch, seq, width]`.
pub fn rg_lru(input: RgLruInput, direction: ScanDirection) -> Tensor<3> {
    let RgLruInput { za, zx, x, lambda, reset, transition_mask } = input;
    let dtype = x.dtype();
    let args = (
        widened(za).into_dispatch(),
        widened(zx).into_dispatch(),
        widened(x).into_dispatch(),
        widened(lambda).into_dispatch(),
        widened(reset).into_dispatch(),
        widened(transition_mask).into_dispatch(),
    );
    Tensor::<3>::from_dispatch(<Dispatch as RgLruBackend>::rg_lru_forward(
        args.0, args.1, args.2, args.3, args.4, args.5, direction,
    ))
    .cast(dtype)
}

/// The same computation from ordinary tensor ops (test oracle; plain square-root gradient).
pub fn rg_lru_reference(input: RgLruInput, direction: ScanDirection) -> Tensor<3> {
    let RgLruInput { za, zx, x, lambda, reset, transition_mask } = input;
    let [bs, t, n] = za.dims();
    let r = sigmoid(za);
    let i = sigmoid(zx);
    let sp = softplus(lambda.neg(), 1.0).reshape([1, 1, n]);
    let log_a = (r * sp).mul_scalar(-C);
    let f = fresh_reference(&reset, &transition_mask, direction).reshape([bs, t, 1]);
    let mult = f.clone() + f.neg().add_scalar(1.0) * one_minus_a_squared(log_a.clone()).sqrt();
    let b = mult * i * x;
    let a = log_a.exp() * transition_mask.reshape([bs, t, 1]);
    linear_scan_reference(a, b, reset, direction)
}

/// 1 − a² = −expm1(2·log a) from ordinary tensor ops, with expm1(x) = 2·tanh(x/2) / (1 − tanh(x/2)).
pub(crate) fn one_minus_a_squared<const D: usize>(log_a: Tensor<D>) -> Tensor<D> {
    let th = log_a.tanh(); // tanh(x/2) at x = 2·log a
    th.clone().mul_scalar(-2.0) / th.neg().add_scalar(1.0)
}

/// 1.0 where the scan's state starts afresh `[batch, seq]` (see the module docs), from tensor ops.
fn fresh_reference(reset: &Tensor<2>, mask: &Tensor<2>, direction: ScanDirection) -> Tensor<2> {
    let [bs, t] = reset.dims();
    let edge = Tensor::<2>::ones([bs, 1], &reset.device());
    let boundary = match direction {
        _ if t == 1 => edge,
        ScanDirection::Forward => Tensor::cat(vec![edge, reset.clone().narrow(1, 1, t - 1)], 1),
        ScanDirection::Reverse => Tensor::cat(vec![reset.clone().narrow(1, 1, t - 1), edge], 1),
    };
    boundary.max_pair(mask.clone().neg().add_scalar(1.0)).clamp(0.0, 1.0)
}

impl RgLruBackend for Flex {
    fn rg_lru_forward(
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self> {
        flex::forward(&flex::Inputs::new(&za, &zx, &x, &lambda, &reset, &transition_mask), direction)
    }
    fn rg_lru_backward(
        g: FloatTensor<Self>,
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let inputs = flex::Inputs::new(&za, &zx, &x, &lambda, &reset, &transition_mask);
        flex::backward(&inputs, &g, &h, direction)
    }
}
