//! birdie-models: fused ops and models on burn 0.22.1 (Flex CPU backend).
//!
//! - [`ops`]: fused kernels with hand-written backward passes, each beside a naive tensor-op reference.

pub mod batch;
pub mod hawk;
pub mod ops;

pub use batch::SequenceBatch;
pub use hawk::{Hawk, HawkConfig};
