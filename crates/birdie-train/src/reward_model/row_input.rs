//! The input and output ends shared by both reward networks: separate RMSNorms for the loss half and the action half
//! of each history row `[losses (K) | mixture (K)]`, a linear map to the model width; and at the end RMSNorm, a
//! linear read-out to K rewards and tanh.

use burn::nn::{Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::tanh;

/// Rows `[…, 2K]` → `[…, width]`.
#[derive(Module, Debug)]
pub struct RowInput {
    pub loss_norm: RmsNorm,
    pub action_norm: RmsNorm,
    /// `[2K → width]`, no bias.
    pub input: Linear,
    pub arms: usize,
}

impl RowInput {
    pub fn new(arms: usize, width: usize, device: &Device) -> Self {
        RowInput {
            loss_norm: RmsNormConfig::new(arms).init(device),
            action_norm: RmsNormConfig::new(arms).init(device),
            input: LinearConfig::new(2 * arms, width).with_bias(false).init(device),
            arms,
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let k = self.arms;
        let loss = self.loss_norm.forward(x.clone().narrow(D - 1, 0, k));
        let action = self.action_norm.forward(x.narrow(D - 1, k, k));
        self.input.forward(Tensor::cat(vec![loss, action], D - 1))
    }
}

/// `[…, width]` → K rewards in [−1, 1].
#[derive(Module, Debug)]
pub struct RewardReadOut {
    pub norm: RmsNorm,
    /// `[width → K]`, no bias.
    pub out: Linear,
}

impl RewardReadOut {
    pub fn new(arms: usize, width: usize, device: &Device) -> Self {
        RewardReadOut {
            norm: RmsNormConfig::new(width).init(device),
            out: LinearConfig::new(width, arms).with_bias(false).init(device),
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        tanh(self.out.forward(self.norm.forward(x)))
    }
}
