//! The language-model output shared by every architecture: final hidden states → logits (untied head or the
//! transposed embedding matrix) and the mean cross-entropy over label positions (design A10).

use burn::nn::{Embedding, Initializer, Linear, LinearConfig};
use burn::prelude::*;

use crate::batch::SequenceBatch;
use crate::ops::softmax_xent::softmax_cross_entropy;

/// An untied head `[d → vocab]`, no bias, normal with std 1/√d: unit-scale initial logits of RMS-normalised inputs,
/// as with the tied embedding (see [`crate::embedding`]).
pub(crate) fn init_head(d: usize, vocab: usize, device: &Device) -> Linear {
    LinearConfig::new(d, vocab)
        .with_bias(false)
        .with_initializer(Initializer::Normal { mean: 0.0, std: (1.0 / d as f64).sqrt() })
        .init(device)
}

/// Logits `[batch, seq, vocab]` of hidden states `x` `[batch, seq, d]`: `head(x)`, or `x · Eᵀ` when tied.
pub(crate) fn logits(x: Tensor<3>, head: Option<&Linear>, embed: &Embedding) -> Tensor<3> {
    match head {
        Some(h) => h.forward(x),
        None => {
            let [bs, t, d] = x.dims();
            let w = embed.weight.val(); // [vocab, d]
            let vocab = w.dims()[0];
            x.reshape([bs * t, d]).matmul(w.transpose()).reshape([bs, t, vocab])
        }
    }
}

/// Mean cross-entropy of `logits` against the batch's labels.
pub(crate) fn loss(logits: Tensor<3>, batch: &SequenceBatch) -> Tensor<1> {
    let [bs, t, v] = logits.dims();
    softmax_cross_entropy(logits.reshape([bs * t, v]), batch.labels.clone())
}

/// Logits `[batch, vocab]` of one position per row.
pub(crate) fn logits_2d(x: Tensor<2>, head: Option<&Linear>, embed: &Embedding) -> Tensor<2> {
    match head {
        Some(h) => h.forward(x),
        None => x.matmul(embed.weight.val().transpose()),
    }
}
