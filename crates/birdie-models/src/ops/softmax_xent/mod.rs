//! Fused softmax cross-entropy over label positions (design A10: the loss is the mean over label tokens; positions
//! labelled −100 contribute nothing).
//!
//! ```text
//! forward:   ℓ = (1/N_lab) Σ_{i: y_i ≠ −100} (lse_i − z_{i,y_i}),   lse_i = log Σ_v exp z_{i,v}
//! backward:  ∂ℓ/∂z_{i,v} = g/N_lab · (exp(z_{i,v} − lse_i) − [v = y_i])   for labelled rows, 0 otherwise
//! ```
//!
//! The forward keeps only `lse` per row; probabilities are formed once, in the backward, directly into the gradient.

mod autodiff;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube;
mod flex;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use super::widened;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Dispatch, Flex};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// Label value of positions without loss.
pub const IGNORE_INDEX: i32 = -100;

/// Backends that run the fused loss: forward and backward kernels per backend, one backward pass for `Autodiff<B>`
/// over any of them (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait CrossEntropyBackend: Backend {
    /// Mean cross-entropy of `logits` `[rows, vocab]` against `labels` (one per row, −100 = ignore), shape `[1]`, and
    /// each row's log-sum-exp `[rows]` for the backward.
    #[fusion(meta = loss_and_lse)]
    fn softmax_cross_entropy_forward(
        logits: FloatTensor<Self>,
        labels: Arc<Vec<i32>>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// ∂(g · loss)/∂logits from the loss gradient `g` `[1]` and the forward's `lse` (not differentiable itself).
    #[fusion(dtype = logits, shape = logits)]
    fn softmax_cross_entropy_backward(
        g: FloatTensor<Self>,
        logits: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        labels: Arc<Vec<i32>>,
    ) -> FloatTensor<Self>;
}

/// The forward's outputs for the lazy (Fusion) backend: the loss `[1]` and the log-sum-exp `[rows]`.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn loss_and_lse(
    logits: &burn::backend::fusion::custom::TensorSpec,
    labels: &Arc<Vec<i32>>,
) -> (burn::backend::fusion::custom::TensorSpec, burn::backend::fusion::custom::TensorSpec) {
    use burn::backend::fusion::custom::TensorSpec;
    (TensorSpec::new([1].into(), logits.dtype), TensorSpec::new([labels.len()].into(), logits.dtype))
}

/// The fused loss.
///
/// # Shapes
/// `logits`: `[rows, vocab]`; `labels`: `rows` values in `[0, vocab)` or −100. Returns `[1]`.
///
/// # Panics
/// If `labels.len() != rows` or a label is outside `[0, vocab)` and not −100 (validated at the batch boundary).
pub fn softmax_cross_entropy(logits: Tensor<2>, labels: Arc<Vec<i32>>) -> Tensor<1> {
    let logits = widened(logits).into_dispatch();
    let (loss, _lse) = <Dispatch as CrossEntropyBackend>::softmax_cross_entropy_forward(logits, labels);
    Tensor::<1>::from_dispatch(loss)
}

/// The same loss from ordinary tensor ops (test oracle).
pub fn softmax_cross_entropy_reference(logits: Tensor<2>, labels: &[i32]) -> Tensor<1> {
    let [n, _] = logits.dims();
    let device = logits.device();
    let idx: Vec<i64> = labels.iter().map(|&y| if y == IGNORE_INDEX { 0 } else { y as i64 }).collect();
    let mask: Vec<f32> = labels.iter().map(|&y| if y == IGNORE_INDEX { 0.0 } else { 1.0 }).collect();
    let count = mask.iter().sum::<f32>().max(1.0);
    let idx = Tensor::<2, Int>::from_data(TensorData::new(idx, [n, 1]), &device);
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, 1]), &device);
    let picked = log_softmax(logits, 1).gather(1, idx);
    (picked * mask).sum().neg().div_scalar(count)
}

impl CrossEntropyBackend for Flex {
    fn softmax_cross_entropy_forward(
        logits: FloatTensor<Self>,
        labels: Arc<Vec<i32>>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        flex::forward(&logits, &labels)
    }
    fn softmax_cross_entropy_backward(
        g: FloatTensor<Self>,
        logits: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        labels: Arc<Vec<i32>>,
    ) -> FloatTensor<Self> {
        flex::backward(&g, &logits, &labels, &lse)
    }
}
