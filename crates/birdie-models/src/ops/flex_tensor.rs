//! Flex tensor access shared by the CPU kernels: contiguous f32 views and the scalar gate functions.

use burn::backend::flex::FlexTensor;

/// The tensor itself if it is contiguous from offset 0, else a contiguous copy.
pub(crate) fn contiguous(t: &FlexTensor) -> FlexTensor {
    if t.is_contiguous() && t.layout().start_offset() == 0 {
        t.clone()
    } else {
        t.to_contiguous()
    }
}

/// The f32 values of a contiguous tensor.
pub(crate) fn f32s(t: &FlexTensor) -> &[f32] {
    t.as_slice().expect("f32 tensor")
}

/// σ(z).
#[inline]
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// log(1 + e^z), exact for large z.
#[inline]
pub(crate) fn softplus(z: f32) -> f32 {
    if z > 20.0 {
        z
    } else {
        z.exp().ln_1p()
    }
}
