//! birdie-core: the Birdie procedure's data side, with no ML-framework dependency.
//!
//! - [`objectives`]: the eight pre-training objectives on token ids (design §1);
//! - [`Arm`] / [`ObjectiveSpec`]: one entry of the objective mixture, with paradigm placement and length range;
//! - [`packing`]: the packed batch format of design §2 (`PackedBatch`);
//! - [`controller`]: the reward-driven mixture controller's bookkeeping (design §3), behind a [`RewardModel`] trait;
//! - [`SampleRng`]: the seeded generator every random draw comes from.

pub mod arm;
pub mod config;
pub mod controller;
pub mod objectives;
pub mod packing;
pub mod pipeline;
pub mod rng;
pub mod setting;

pub use arm::{Arm, ArmError, ObjectiveSpec, ParadigmPlacement};
pub use controller::{Controller, ControllerConfig, ControllerState, RewardModel, UpdateReport};
pub use objectives::{Objective, Sample, SampleError};
pub use packing::{Batcher, PackedBatch, Packer};
pub use pipeline::{Pipeline, PipelineConfig, PipelineError, PipelineState};
pub use rng::SampleRng;
pub use setting::InvalidSetting;
