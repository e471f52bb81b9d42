//! birdie-train: the learned reward model of the mixture controller (spec §3.4–3.5) and the training utilities it
//! shares with the trainer.

pub mod grad_clip;
pub mod reward_model;

pub use grad_clip::clip_global_norm;
pub use reward_model::{BurnRewardModel, RewardArch, RewardModelConfig};
