//! The paper's reward network (A.1.5): separate RMSNorms for the loss half and the action half of each row, a
//! linear map to the model width, Gated-SSM blocks (birdie-models' block and fused scan), a final RMSNorm, a linear
//! read-out to K rewards and tanh.

use birdie_models::decode::LayerState;
use birdie_models::gated_ssm::GatedSsmBlock;
use birdie_models::SequenceBatch;
use burn::prelude::*;

use super::row_input::{RewardReadOut, RowInput};

/// Gated-SSM reward network.
#[derive(Module, Debug)]
pub struct GatedSsmRewardNet {
    pub rows: RowInput,
    pub blocks: Vec<GatedSsmBlock>,
    pub read_out: RewardReadOut,
}

impl GatedSsmRewardNet {
    pub fn new(arms: usize, width: usize, layers: usize, device: &Device) -> Self {
        GatedSsmRewardNet {
            rows: RowInput::new(arms, width, device),
            blocks: (0..layers).map(|_| GatedSsmBlock::new(width, width, false, device)).collect(),
            read_out: RewardReadOut::new(arms, width, device),
        }
    }

    /// `[1, T, 2K]` → `[1, T, K]`.
    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        let mut h = self.rows.forward(x);
        for b in &self.blocks {
            h = b.forward(h, batch);
        }
        self.read_out.forward(h)
    }

    /// Predictions at candidate rows `[N, 2K]`, each one step after the history `[1, T, 2K]`.
    pub fn predict(&self, x: Tensor<3>, batch: &SequenceBatch, candidates: Tensor<2>) -> Tensor<2> {
        let n = candidates.dims()[0];
        let mut h = self.rows.forward(x);
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.forward_with_state(h, batch);
            states.push(match state {
                LayerState::Recurrent { h, conv } => LayerState::Recurrent { h: h.repeat_dim(0, n), conv },
                other => other,
            });
            h = y;
        }
        let mut c = self.rows.forward(candidates);
        for (b, state) in self.blocks.iter().zip(states.iter_mut()) {
            c = b.step(c, state);
        }
        self.read_out.forward(c)
    }
}
