//! `toy`: the benchmark model of stack.md, kept exactly so step times compare with the measured anchors.
//!
//! ```text
//! tokens [8, 256] → Embedding(512, 256) → 2 × { z = Linear(256→512)(x); a = σ(z₁); b = (1−a)·z₂;
//!                                               h_t = a_t·h_{t−1} + b_t; x += Linear(256→256)(h) }
//! → Linear(256→512) → cross-entropy
//! ```
//!
//! `(1 − σ(z₁))·z₂ = σ(−z₁)·z₂`, so the gates and scan are one fused `gated_scan(z₁, −z₁, z₂)`.

use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::batch::SequenceBatch;
use crate::lm_head;
use crate::ops::gated_scan::gated_scan;
use crate::ops::linear_scan::ScanDirection;

/// Toy model sizes (stack.md: V 512, D 256, 2 layers).
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
        let mut x = self.embed.forward(batch.tokens.clone());
        for l in &self.layers {
            let d = x.dims()[2];
            let z = l.in_proj.forward(x.clone());
            let z1 = z.clone().narrow(2, 0, d);
            let z2 = z.narrow(2, d, d);
            let h =
                gated_scan(z1.clone(), z1.neg(), z2, batch.reset.clone(), batch.ones.clone(), ScanDirection::Forward);
            x = x + l.out_proj.forward(h);
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
