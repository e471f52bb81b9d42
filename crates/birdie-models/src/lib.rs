//! birdie-models: fused ops and models on burn 0.22.1 (Flex CPU backend).
//!
//! - [`ops`]: fused kernels with hand-written backward passes, each beside a naive tensor-op reference;
//! - models: [`Hawk`], [`GatedSsm`], [`Transformer`] (each with the bidirectional-prefix option) and the [`Toy`]
//!   benchmark model, behind [`Model`] / [`ModelConfig`] with size presets; inputs are a [`SequenceBatch`].

pub mod batch;
pub mod decode;
pub mod device;
mod embedding;
pub mod gated_ssm;
pub mod hawk;
mod lm_head;
pub mod model;
pub mod ops;
pub mod precision;
mod seeded;
pub mod spec;
pub mod test_values;
pub mod toy;
pub mod transformer;

pub use batch::SequenceBatch;
pub use decode::{DecodeState, LayerState};
pub use device::{DeviceChoice, DeviceError};
pub use gated_ssm::{GatedSsm, GatedSsmConfig};
pub use hawk::{Hawk, HawkConfig};
pub use model::{Arch, Model, ModelConfig, ModelError};
pub use precision::{Precision, PrecisionError};
pub use seeded::seeded;
pub use spec::ModelSpec;
pub use toy::{Toy, ToyConfig};
pub use transformer::{Transformer, TransformerConfig};
