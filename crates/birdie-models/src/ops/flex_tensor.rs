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

pub(crate) use super::fast_math::{exp, sigmoid};

/// log(1 + e^z), exact for large z.
#[inline]
pub(crate) fn softplus(z: f32) -> f32 {
    if z > 20.0 {
        z
    } else {
        z.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp_matches_libm() {
        let mut worst = 0.0f64;
        for i in -870_000..=880_000 {
            let x = i as f32 * 1e-4;
            let (got, want) = (super::exp(x) as f64, (x as f64).exp());
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 5e-7, "relative error {worst}");
        assert!(super::exp(-1000.0) < 1e-37 && super::exp(1000.0).is_finite());
        assert_eq!(super::sigmoid(0.0), 0.5);
    }
}
