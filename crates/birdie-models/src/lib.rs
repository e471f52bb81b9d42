//! birdie-models: fused ops and models on burn 0.22.1 (Flex CPU backend).
//!
//! - [`ops`]: fused kernels with hand-written backward passes, each beside a naive tensor-op reference.

pub mod batch;
pub mod gated_ssm;
pub mod hawk;
pub mod ops;
pub mod transformer;

pub use batch::SequenceBatch;
pub use gated_ssm::{GatedSsm, GatedSsmConfig};
pub use hawk::{Hawk, HawkConfig};
pub use transformer::{Transformer, TransformerConfig};
