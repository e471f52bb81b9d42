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

/// e^x, branch-free so the kernels' loops vectorise (libm's `expf` is a scalar call): x = n·ln2 + r with
/// |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial (relative error < 2·10⁻⁷), times 2^n built in the exponent bits.
/// Inputs are clamped to [−87, 88], the range whose result is a normal f32.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³: adding and subtracting it rounds to the nearest integer
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// σ(z).
#[inline(always)]
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
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
