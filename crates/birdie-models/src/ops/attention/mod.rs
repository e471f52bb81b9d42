//! Masked multi-head attention of the Transformer, fused: the mask is computed from segment ids and the prefix flags
//! inside the kernels, and the backward recomputes the scores instead of storing them (FlashAttention's idea), so no
//! `[seq, seq]` tensor exists in forward or backward: memory is O(batch · heads · seq · head_dim).
//!
//! ```text
//! allowed(i, j) = seg_i = seg_j ∧ (j ≤ i ∨ (prefix-LM ∧ prefix_i ∧ prefix_j))
//! s_ij = q_i · k_j / √d                  over allowed j only
//! lse_i = log Σ_j exp s_ij,   P_ij = exp(s_ij − lse_i),   o_i = Σ_j P_ij v_j
//! ```
//!
//! Backward, from the output gradient dO and the forward's `o` and `lse` (kept per row, `[batch, heads, seq]`):
//!
//! ```text
//! D_i = dO_i · o_i
//! dS_ij = P_ij (dO_i · v_j − D_i)
//! dq_i = Σ_j dS_ij k_j / √d,   dk_j = Σ_i dS_ij q_i / √d,   dv_j = Σ_i P_ij dO_i
//! ```
//!
//! Every query attends at least to itself (j = i is always allowed), so each row's softmax is well defined. The
//! `_reference` twin is the plain form: a `[batch, 1, seq, seq]` additive bias, softmax and two matmuls.

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
use burn::tensor::activation::softmax;

/// Which keys a query sees besides the causal ones of its own segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionMask {
    /// Keys at or before the query, in its segment.
    Causal,
    /// As `Causal`, and every prefix key of the segment for a prefix query (the prefix-LM mask, design §2.5).
    PrefixLm,
}

/// Backends that run the fused attention: forward and backward kernels per backend, one backward pass for
/// `Autodiff<B>` over any of them (autodiff.rs).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait AttentionBackend: Backend {
    /// Shapes: `q`, `k`, `v` `[batch, heads, seq, head_dim]`; `segments` (segment ids as f32) and `prefix` (1.0 in the
    /// bidirectional prefix) `[batch, seq]`. Returns the output like `q` and each row's log-sum-exp
    /// `[batch, heads, seq]` for the backward.
    #[fusion(meta = output_and_lse)]
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        segments: FloatTensor<Self>,
        prefix: FloatTensor<Self>,
        mask: AttentionMask,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// (dq, dk, dv) from the output gradient `g` and the forward's `out` and `lse` (not differentiable itself).
    #[allow(clippy::too_many_arguments)] // five inputs, the two forward outputs, the gradient and the mask kind
    #[fusion(meta = |_g, q, k, v, _segments, _prefix, _out, _lse, _mask| (q.clone(), k.clone(), v.clone()))]
    fn attention_backward(
        g: FloatTensor<Self>,
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        segments: FloatTensor<Self>,
        prefix: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        mask: AttentionMask,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The forward's outputs for the lazy (Fusion) backend: the output like `q` and the log-sum-exp without `head_dim`.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn output_and_lse(
    q: &burn::backend::fusion::custom::TensorSpec,
    _k: &burn::backend::fusion::custom::TensorSpec,
    _v: &burn::backend::fusion::custom::TensorSpec,
    _segments: &burn::backend::fusion::custom::TensorSpec,
    _prefix: &burn::backend::fusion::custom::TensorSpec,
    _mask: &AttentionMask,
) -> (burn::backend::fusion::custom::TensorSpec, burn::backend::fusion::custom::TensorSpec) {
    use burn::backend::fusion::custom::TensorSpec;
    let [b, h, t, _] = q.shape.dims::<4>();
    (q.clone(), TensorSpec::new([b, h, t].into(), q.dtype))
}

/// The fused masked attention.
///
/// # Shapes
/// `q`, `k`, `v`: `[batch, heads, seq, head_dim]`; `segments`, `prefix`: `[batch, seq]`. Returns `[batch, heads, seq,
/// head_dim]`.
pub fn masked_attention(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    segments: Tensor<2>,
    prefix: Tensor<2>,
    mask: AttentionMask,
) -> Tensor<4> {
    let dtype = q.dtype();
    let (out, _lse) = <Dispatch as AttentionBackend>::attention_forward(
        widened(q).into_dispatch(),
        widened(k).into_dispatch(),
        widened(v).into_dispatch(),
        widened(segments).into_dispatch(),
        widened(prefix).into_dispatch(),
        mask,
    );
    Tensor::<4>::from_dispatch(out).cast(dtype)
}

/// The same from ordinary tensor ops (test oracle): an additive bias `[batch, 1, seq, seq]` built on the host from
/// the mask rule, softmax and matmuls.
pub fn masked_attention_reference(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    segments: Tensor<2>,
    prefix: Tensor<2>,
    mask: AttentionMask,
) -> Tensor<4> {
    let [b, _, t, hd] = q.dims();
    let seg: Vec<f32> = segments.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 segments");
    let pre: Vec<f32> = prefix.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 prefix");
    let mut bias = vec![-1e9f32; b * t * t];
    for r in 0..b {
        for i in 0..t {
            for j in 0..t {
                let (x, y) = (r * t + i, r * t + j);
                let both_prefix = mask == AttentionMask::PrefixLm && pre[x] == 1.0 && pre[y] == 1.0;
                if seg[x] == seg[y] && (j <= i || both_prefix) {
                    bias[(r * t + i) * t + j] = 0.0;
                }
            }
        }
    }
    let bias = Tensor::<4>::from_data(TensorData::new(bias, [b, 1, t, t]), &q.device());
    let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((hd as f32).sqrt()) + bias;
    softmax(scores, 3).matmul(v)
}

impl AttentionBackend for Flex {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        segments: FloatTensor<Self>,
        prefix: FloatTensor<Self>,
        mask: AttentionMask,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        flex::forward(&flex::Inputs::new(&q, &k, &v, &segments, &prefix, mask))
    }
    fn attention_backward(
        g: FloatTensor<Self>,
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        segments: FloatTensor<Self>,
        prefix: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        mask: AttentionMask,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        flex::backward(&flex::Inputs::new(&q, &k, &v, &segments, &prefix, mask), &g, &out, &lse)
    }
}
