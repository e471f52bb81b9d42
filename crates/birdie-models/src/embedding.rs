//! The token embedding of Hawk and the Transformer, as recurrentgemma's embedder: weights normal with std 1/√d and
//! the looked-up rows multiplied by √d, so the residual stream starts at unit scale and the tied logits
//! RMSNorm(x)·Eᵀ start with unit standard deviation.
//!
//! ```text
//! x = √d · E[token]        E [vocab, d] ~ N(0, 1/d)
//! ```

use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::prelude::*;

/// A `[vocab, d]` embedding, normal with std 1/√d.
pub(crate) fn init(vocab: usize, d: usize, device: &Device) -> Embedding {
    EmbeddingConfig::new(vocab, d)
        .with_initializer(Initializer::Normal { mean: 0.0, std: (1.0 / d as f64).sqrt() })
        .init(device)
}

/// `√d · E[tokens]`: `[batch, seq]` → `[batch, seq, d]`.
pub(crate) fn embed(embedding: &Embedding, tokens: Tensor<2, Int>) -> Tensor<3> {
    let d = embedding.weight.dims()[1];
    embedding.forward(tokens).mul_scalar((d as f32).sqrt())
}

/// `√d · E[tokens]` of one token per row: `[batch]` → `[batch, d]`.
pub(crate) fn embed_one(embedding: &Embedding, tokens: Tensor<1, Int>) -> Tensor<2> {
    embed(embedding, tokens.unsqueeze_dim::<2>(1)).squeeze_dim::<2>(1)
}
