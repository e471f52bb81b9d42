//! birdie-run: what a training run is, apart from the training loop — so training (`birdie-train`) and evaluation
//! (`birdie-eval`) both build on it and evaluation never depends on the trainer.
//!
//! - [`config`]: [`TrainConfig`], one run as a TOML file, and the built-in run presets ([`RUN_PRESETS`]);
//! - [`objectives`]: the arms a run's procedure trains on;
//! - the run directory: [`checkpoint`] (its layout), [`safetensors`] (weights), [`trained`] (opening a trained model);
//! - one optimisation step, as the trainer and evaluation fine-tuning take it: [`optimizer`] (AdamW with decay
//!   groups), [`config::warmup_cosine`] (the schedule), [`grad_clip`] (global-norm clipping), [`batch`] (packed
//!   batch → model inputs);
//! - [`generate`]: text generation from a trained model.

pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod generate;
pub mod grad_clip;
pub mod objectives;
pub mod optimizer;
pub mod safetensors;
pub mod trained;

pub use batch::sequence_batch;
pub use config::{ConfigError, Procedure, RunSettings, TrainConfig, DEFAULT_PRESET, RUN_PRESETS};
pub use grad_clip::{clip_global_norm, clipped_step};
pub use objectives::{procedure_arms, ObjectivesError};
pub use trained::{OpenError, TrainedModel};
