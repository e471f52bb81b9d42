//! Branch-free `exp`, `expm1` and `σ` that vectorise inside kernels' loops (libm's `expf` is a scalar call), shared by the
//! fused ops and the controller's explicit reward network.

/// e^x, branch-free so the kernels' loops vectorise (libm's `expf` is a scalar call): x = n·ln2 + r with
/// |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial (relative error < 2·10⁻⁷), times 2^n built in the exponent bits.
/// Inputs are clamped to [−87, 88], the range whose result is a normal f32.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
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

/// e^x − 1 without the cancellation of `exp(x) − 1` near 0, branch-free: for |x| < 0.35 the degree-7 Taylor
/// polynomial (truncation < 2·10⁻⁸ relative), elsewhere `exp(x) − 1` (no cancellation once |x| ≥ 0.35), chosen by a
/// select. The RG-LRU's 1 − a² = −expm1(2·log a) keeps its relative precision as a → 1.
#[inline(always)]
pub fn expm1(x: f32) -> f32 {
    let p = x
        * (1.0
            + x * (1.0 / 2.0
                + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 + x * (1.0 / 5040.0)))))));
    let e = exp(x) - 1.0;
    if x.abs() < 0.35 {
        p
    } else {
        e
    }
}

/// σ(z).
#[inline(always)]
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

#[cfg(test)]
mod tests {
    #[test]
    fn expm1_matches_f64_across_the_rg_lru_range() {
        let mut worst = 0.0f64;
        let mut check = |x: f32| {
            let (got, want) = (super::expm1(x) as f64, (x as f64).exp_m1());
            if want != 0.0 {
                worst = worst.max(((got - want) / want).abs());
            }
        };
        for i in 0..=2_000_000 {
            check(-20.0 * i as f32 / 2e6);
        }
        for k in 1..=38 {
            check(-(10f32.powi(-k)));
            check(-3.3 * 10f32.powi(-k));
            check(10f32.powi(-k));
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(super::expm1(0.0), 0.0);
        assert_eq!(super::expm1(-200.0), -1.0);
    }
}
