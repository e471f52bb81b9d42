//! The reference code's reward network (spec §3.4), as an option: RMSNorm and a linear map of each row to the model
//! width, causal pre-norm Transformer blocks (birdie-models' block, with RoPE), a final RMSNorm, a linear read-out to K
//! rewards and tanh. Candidates are scored from the history's key/value cache.

use birdie_models::decode::LayerState;
use birdie_models::transformer::{attention_bias, TransformerBlock};
use birdie_models::SequenceBatch;
use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig, RotaryEncoding, RotaryEncodingConfig};
use burn::prelude::*;
use burn::tensor::activation::tanh;

/// Transformer reward network.
#[derive(Module, Debug)]
pub struct TransformerRewardNet {
    pub loss_norm: RmsNorm,
    pub action_norm: RmsNorm,
    pub input: Linear,
    pub blocks: Vec<TransformerBlock>,
    pub norm: RmsNorm,
    pub out: Linear,
    pub rope: RotaryEncoding,
    pub heads: usize,
    pub arms: usize,
}

impl TransformerRewardNet {
    pub fn new(arms: usize, width: usize, layers: usize, heads: usize, max_rows: usize, device: &Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        let hidden = (width as f64 * 8.0 / 3.0) as usize;
        TransformerRewardNet {
            loss_norm: RmsNormConfig::new(arms).init(device),
            action_norm: RmsNormConfig::new(arms).init(device),
            input: lin(2 * arms, width),
            blocks: (0..layers).map(|_| TransformerBlock::new(width, hidden, device)).collect(),
            norm: RmsNormConfig::new(width).init(device),
            out: lin(width, arms),
            rope: RotaryEncodingConfig::new(max_rows + 1, width / heads).init(device),
            heads,
            arms,
        }
    }

    fn embed<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let k = self.arms;
        let loss = self.loss_norm.forward(x.clone().narrow(D - 1, 0, k));
        let action = self.action_norm.forward(x.narrow(D - 1, k, k));
        self.input.forward(Tensor::cat(vec![loss, action], D - 1))
    }

    fn read_out<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        tanh(self.out.forward(self.norm.forward(x)))
    }

    /// `[B, T, 2K]` → `[B, T, K]`, causal within each row.
    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        let mut h = self.embed(x);
        let bias = attention_bias(batch, false, &h.device());
        for b in &self.blocks {
            h = b.forward(h, &bias, &self.rope, self.heads).0;
        }
        self.read_out(h)
    }

    /// Predictions at candidate rows `[N, 2K]`, each one step after the history `[1, T, 2K]`.
    pub fn predict(&self, x: Tensor<3>, batch: &SequenceBatch, candidates: Tensor<2>) -> Tensor<2> {
        let n = candidates.dims()[0];
        let t = x.dims()[1];
        let mut h = self.embed(x);
        let bias = attention_bias(batch, false, &h.device());
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.forward(h, &bias, &self.rope, self.heads);
            states.push(match state {
                LayerState::Attention { k, v } => {
                    LayerState::Attention { k: k.repeat_dim(0, n), v: v.repeat_dim(0, n) }
                }
                other => other,
            });
            h = y;
        }
        let mut c = self.embed(candidates);
        for (b, state) in self.blocks.iter().zip(states.iter_mut()) {
            c = b.step(c, state, t, &self.rope, self.heads);
        }
        self.read_out(c)
    }
}
