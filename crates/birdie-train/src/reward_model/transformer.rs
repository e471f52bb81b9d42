//! The reference code's reward network (design §3.4), as an option: RMSNorm and a linear map of each row to the model
//! width, causal pre-norm Transformer blocks (birdie-models' block, with RoPE), a final RMSNorm, a linear read-out to K
//! rewards and tanh. Candidates are scored from the history's key/value cache.

use birdie_models::decode::LayerState;
use birdie_models::transformer::{AttentionScope, TransformerBlock};
use birdie_models::SequenceBatch;
use burn::nn::{RotaryEncoding, RotaryEncodingConfig};
use burn::prelude::*;

use super::row_input::{RewardReadOut, RowInput};

/// Transformer reward network.
#[derive(Module, Debug)]
pub struct TransformerRewardNet {
    pub rows: RowInput,
    pub blocks: Vec<TransformerBlock>,
    pub read_out: RewardReadOut,
    pub rope: RotaryEncoding,
    pub heads: usize,
}

impl TransformerRewardNet {
    pub fn new(arms: usize, width: usize, layers: usize, heads: usize, max_rows: usize, device: &Device) -> Self {
        let hidden = (width as f64 * 8.0 / 3.0) as usize;
        TransformerRewardNet {
            rows: RowInput::new(arms, width, device),
            blocks: (0..layers).map(|_| TransformerBlock::new(width, hidden, device)).collect(),
            read_out: RewardReadOut::new(arms, width, device),
            rope: RotaryEncodingConfig::new(max_rows + 1, width / heads).init(device),
            heads,
        }
    }

    /// `[B, T, 2K]` → `[B, T, K]`, causal within each row.
    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        let mut h = self.rows.forward(x);
        let scope = AttentionScope::of(batch, false);
        for b in &self.blocks {
            h = b.forward(h, &scope, &self.rope, self.heads).0;
        }
        self.read_out.forward(h)
    }

    /// Predictions at candidate rows `[N, 2K]`, each one step after the history `[1, T, 2K]`.
    pub fn predict(&self, x: Tensor<3>, batch: &SequenceBatch, candidates: Tensor<2>) -> Tensor<2> {
        let n = candidates.dims()[0];
        let t = x.dims()[1];
        let mut h = self.rows.forward(x);
        let scope = AttentionScope::of(batch, false);
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.forward(h, &scope, &self.rope, self.heads);
            states.push(match state {
                LayerState::Attention { k, v } => {
                    LayerState::Attention { k: k.repeat_dim(0, n), v: v.repeat_dim(0, n) }
                }
                other => other,
            });
            h = y;
        }
        let mut c = self.rows.forward(candidates);
        for (b, state) in self.blocks.iter().zip(states.iter_mut()) {
            c = b.step(c, state, t, &self.rope, self.heads);
        }
        self.read_out.forward(c)
    }
}
