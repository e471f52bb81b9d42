//! birdie-models: fused ops and models on burn 0.22.1 (Flex CPU backend).
//!
//! - [`ops`]: fused kernels with hand-written backward passes, each beside a naive tensor-op reference.

pub mod ops;
