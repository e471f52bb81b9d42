//! birdie-train: run configuration ([`TrainConfig`]), the learned reward model of the mixture controller
//! (design §3.4–3.5) and the training utilities they share.

pub mod checkpoint;
pub mod config;
pub mod generate;
pub mod grad_clip;
pub mod optimizer;
pub mod reward_model;
pub mod run_plots;
pub mod safetensors;
pub mod trained;
pub mod trainer;

pub use config::{Procedure, TrainConfig, DEFAULT_PRESET, RUN_PRESETS};
pub use grad_clip::{clip_global_norm, clipped_step};
pub use reward_model::{BurnRewardModel, RewardArch, RewardModelConfig};
pub use trained::TrainedModel;
pub use trainer::{train, StepMetrics, TrainError, TrainRun};
