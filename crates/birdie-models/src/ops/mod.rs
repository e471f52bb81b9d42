//! Fused ops: a burn backend extension per op (`#[backend_extension(Autodiff, Flex)]`), a Flex CPU kernel, one
//! hand-written backward, and a `_reference` twin built from ordinary tensor ops that tests compare against.

pub mod attention;
pub use birdie_math as fast_math;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod cube_launch;
mod flex_tensor;
pub mod gated_scan;
#[cfg(all(test, any(feature = "wgpu", feature = "cuda")))]
mod gpu_test;
pub mod linear_scan;
pub mod min_gru;
pub mod rg_lru;
pub mod softmax_xent;

/// The fused kernels compute in f32 whatever the caller's dtype (mixed bf16, `crate::Precision`): each op's entry
/// widens its inputs with this, so scan states, softmax sums and gradients are f32, and casts its output back to the
/// dtype of its main input. A no-op at f32.
pub(crate) fn widened<const D: usize>(t: burn::prelude::Tensor<D>) -> burn::prelude::Tensor<D> {
    t.cast(burn::tensor::DType::F32)
}

pub use attention::{masked_attention, masked_attention_reference, AttentionMask};
pub use gated_scan::{gated_scan, gated_scan_reference};
pub use linear_scan::{linear_scan, linear_scan_reference, ScanDirection};
pub use min_gru::{min_gru, min_gru_reference};
pub use rg_lru::{rg_lru, rg_lru_reference, RgLruInput};
pub use softmax_xent::{softmax_cross_entropy, softmax_cross_entropy_reference};
