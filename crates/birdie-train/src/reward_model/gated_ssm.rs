//! The paper's reward network (A.1.5): separate RMSNorms for the loss half and the action half of each row, a
//! linear map to the model width, Gated-SSM blocks (birdie-models' block and fused scan), a final RMSNorm, a linear
//! read-out to K rewards and tanh.

use birdie_models::decode::LayerState;
use birdie_models::gated_ssm::GatedSsmBlock;
use birdie_models::SequenceBatch;
use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::tanh;

/// Gated-SSM reward network.
#[derive(Module, Debug)]
pub struct GatedSsmRewardNet {
    pub loss_norm: RmsNorm,
    pub action_norm: RmsNorm,
    /// `[2K → width]`, no bias.
    pub input: Linear,
    pub blocks: Vec<GatedSsmBlock>,
    pub norm: RmsNorm,
    /// `[width → K]`, no bias.
    pub out: Linear,
    pub arms: usize,
}

impl GatedSsmRewardNet {
    pub fn new(arms: usize, width: usize, layers: usize, device: &Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        GatedSsmRewardNet {
            loss_norm: RmsNormConfig::new(arms).init(device),
            action_norm: RmsNormConfig::new(arms).init(device),
            input: lin(2 * arms, width),
            blocks: (0..layers).map(|_| GatedSsmBlock::new(width, width, false, device)).collect(),
            norm: RmsNormConfig::new(width).init(device),
            out: lin(width, arms),
            arms,
        }
    }

    /// Rows `[…, 2K]` → `[…, width]`.
    fn embed<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let k = self.arms;
        let loss = self.loss_norm.forward(x.clone().narrow(D - 1, 0, k));
        let action = self.action_norm.forward(x.narrow(D - 1, k, k));
        self.input.forward(Tensor::cat(vec![loss, action], D - 1))
    }

    fn read_out<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        tanh(self.out.forward(self.norm.forward(x)))
    }

    /// `[1, T, 2K]` → `[1, T, K]`.
    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        let mut h = self.embed(x);
        for b in &self.blocks {
            h = b.forward(h, batch);
        }
        self.read_out(h)
    }

    /// Predictions at candidate rows `[N, 2K]`, each one step after the history `[1, T, 2K]`.
    pub fn predict(&self, x: Tensor<3>, batch: &SequenceBatch, candidates: Tensor<2>) -> Tensor<2> {
        let n = candidates.dims()[0];
        let mut h = self.embed(x);
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.forward_with_state(h, batch);
            states.push(match state {
                LayerState::Recurrent { h, conv } => LayerState::Recurrent { h: h.repeat_dim(0, n), conv },
                other => other,
            });
            h = y;
        }
        let mut c = self.embed(candidates);
        for (b, state) in self.blocks.iter().zip(states.iter_mut()) {
            c = b.step(c, state);
        }
        self.read_out(c)
    }
}
