//! birdie-train: the trainer ([`train`]), the controller's reward models on burn ([`reward_model`]: the Transformer
//! option, and the burn twin that tests the framework-free default of `birdie-reward`), and a run's plots
//! ([`run_plots`]). What a run is apart from the loop — its config, directory, weights and optimisation step — is
//! `birdie-run`'s, which evaluation shares.

pub mod reward_model;
pub mod run_plots;
pub mod trainer;

pub use reward_model::{BurnRewardModel, RewardArch, RewardModelConfig};
pub use trainer::{train, StepMetrics, TrainError, TrainRun, Training};
