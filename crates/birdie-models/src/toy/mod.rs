//! `toy`: a fixed small benchmark model, kept unchanged so step times stay comparable across versions.
//!
//! ```text
//! tokens [8, 256] → Embedding(512, 256) → 2 × { z = Linear(256→512)(x); a = σ(z₁); b = (1−a)·z₂;
//!                                               h_t = a_t·h_{t−1} + b_t; x += Linear(256→256)(h) }
//! → Linear(256→512) → cross-entropy
//! ```
//!
//! The gates and scan are one fused op, [`min_gru`], reading the packed projection `[z₁ | z₂]` directly.

use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;

use burn::tensor::activation::sigmoid;

use crate::batch::SequenceBatch;
use crate::decode::{last_position, LayerState};
use crate::lm_head;
use crate::ops::min_gru::min_gru;

/// Toy model sizes (V 512, D 256, 2 layers).
#[derive(Config, Debug)]
pub struct ToyConfig {
    #[config(default = 512)]
    pub vocab_size: usize,
    #[config(default = 256)]
    pub d_model: usize,
    #[config(default = 2)]
    pub num_layers: usize,
}

impl ToyConfig {
    pub fn num_params(&self) -> usize {
        let (d, v) = (self.d_model, self.vocab_size);
        v * d + self.num_layers * ((d * 2 * d + 2 * d) + (d * d + d)) + (d * v + v)
    }

    pub fn init(&self, device: &Device) -> Toy {
        let d = self.d_model;
        Toy {
            embed: EmbeddingConfig::new(self.vocab_size, d).init(device),
            layers: (0..self.num_layers)
                .map(|_| ToyLayer {
                    in_proj: LinearConfig::new(d, 2 * d).init(device),
                    out_proj: LinearConfig::new(d, d).init(device),
                })
                .collect(),
            head: LinearConfig::new(d, self.vocab_size).init(device),
        }
    }
}

#[derive(Module, Debug)]
pub struct ToyLayer {
    /// `[d → 2d]`: gate logits z₁ and input z₂.
    pub in_proj: Linear,
    pub out_proj: Linear,
}

#[derive(Module, Debug)]
pub struct Toy {
    pub embed: Embedding,
    pub layers: Vec<ToyLayer>,
    pub head: Linear,
}

impl Toy {
    pub fn forward(&self, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(batch).0
    }

    /// Logits and the per-layer scan state after the last position (the prompt pass of generation).
    pub fn forward_with_state(&self, batch: &SequenceBatch) -> (Tensor<3>, Vec<LayerState>) {
        let mut x = self.embed.forward(batch.tokens.clone());
        let mut states = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let h = min_gru(l.in_proj.forward(x.clone()), batch.reset.clone());
            states.push(LayerState::Recurrent { h: last_position(&h), conv: None });
            x = x + l.out_proj.forward(h);
        }
        (self.head.forward(x), states)
    }

    /// Logits `[batch, vocab]` of one new token per row, advancing `states`.
    pub fn step(&self, tokens: Tensor<1, Int>, states: &mut [LayerState]) -> Tensor<2> {
        let mut x = self.embed.forward(tokens.unsqueeze_dim::<2>(1)).squeeze_dim::<2>(1);
        for (l, state) in self.layers.iter().zip(states) {
            let LayerState::Recurrent { h, .. } = state else { panic!("a toy layer needs a recurrent state") };
            let d = x.dims()[1];
            let z = l.in_proj.forward(x.clone());
            let z1 = z.clone().narrow(1, 0, d);
            *h = sigmoid(z1.clone()) * h.clone() + sigmoid(z1.neg()) * z.narrow(1, d, d);
            x = x + l.out_proj.forward(h.clone());
        }
        self.head.forward(x)
    }

    pub fn loss(&self, batch: &SequenceBatch) -> Tensor<1> {
        lm_head::loss(self.forward(batch), batch)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;

    use super::*;

    #[test]
    fn parameter_count_matches_formula() {
        let cfg = ToyConfig::new();
        assert_eq!(cfg.init(&Device::flex()).num_params(), cfg.num_params());
    }
}
