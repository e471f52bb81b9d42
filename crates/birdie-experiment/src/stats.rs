//! The statistics of the report: means over seeds with Student-t 95% confidence intervals, and the paired t-test of
//! two variants' results on the same seeds. Pure functions; the Student-t distribution goes through the regularized
//! incomplete beta function (continued fraction, Numerical Recipes §6.4), so no table limits the degrees of freedom.

/// The arithmetic mean (NaN for no values).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample standard deviation (n − 1 in the denominator); `None` for fewer than two values.
pub fn sample_sd(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m).powi(2)).sum();
    Some((ss / (xs.len() - 1) as f64).sqrt())
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; relative error ≈ 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1].
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast below the mean of the distribution; use the symmetry above it.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The two-sided p-value of `t`: P(|T| ≥ |t|), computed from the tail directly (no 1 − x cancellation).
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The quantile t_{p, df} of Student's t (0 < p < 1), by bisection on the CDF to machine precision.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0 && df > 0.0, "t_quantile({p}, {df}): expected 0 < p < 1 and df > 0");
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let mut hi = 1.0;
    while student_t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= f64::EPSILON * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// t_{0.975, df}: the multiplier of a two-sided 95% interval.
pub fn t975(df: usize) -> f64 {
    t_quantile(0.975, df as f64)
}

/// A mean over seeds and its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    pub n: usize,
    pub mean: f64,
    /// t_{0.975, n−1} · sd / √n; `None` for a single value (no interval).
    pub half_width: Option<f64>,
}

/// The mean of `xs` with its Student-t 95% confidence interval (none for n < 2).
pub fn mean_ci95(xs: &[f64]) -> MeanCi {
    let n = xs.len();
    let half_width = sample_sd(xs).map(|sd| t975(n - 1) * sd / (n as f64).sqrt());
    MeanCi { n, mean: mean(xs), half_width }
}

/// The paired comparison of two samples on the same seeds: differences `a[i] − b[i]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    pub n: usize,
    pub mean_diff: f64,
    /// The t-test, absent for n < 2 or when every difference is the same (zero variance: no test).
    pub test: Option<PairedTest>,
}

/// A paired t-test's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTest {
    /// 95% confidence interval of the mean difference.
    pub ci: (f64, f64),
    pub t: f64,
    /// Two-sided p-value with n − 1 degrees of freedom.
    pub p: f64,
}

impl Paired {
    /// Whether the 95% interval excludes 0 (equivalently p < 0.05); false without a test.
    pub fn significant(&self) -> bool {
        self.test.is_some_and(|t| t.ci.0 > 0.0 || t.ci.1 < 0.0)
    }
}

/// Compares `a` with `b` pairwise (same seeds in the same order).
pub fn paired(a: &[f64], b: &[f64]) -> Paired {
    assert_eq!(a.len(), b.len(), "paired samples must have equal lengths");
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = diffs.len();
    let mean_diff = mean(&diffs);
    let test = sample_sd(&diffs).filter(|sd| *sd > 0.0 && sd.is_finite()).map(|sd| {
        let se = sd / (n as f64).sqrt();
        let df = (n - 1) as f64;
        let half = t_quantile(0.975, df) * se;
        let t = mean_diff / se;
        PairedTest { ci: (mean_diff - half, mean_diff + half), t, p: two_sided_p(t, df) }
    });
    Paired { n, mean_diff, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mean_and_sample_sd_by_hand() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), 5.0);
        // Σ(x − 5)² = 32, / 7.
        assert!(close(sample_sd(&xs).unwrap(), (32.0f64 / 7.0).sqrt(), 1e-12));
        assert_eq!(sample_sd(&[1.0]), None);
        assert!(mean(&[]).is_nan());
    }

    #[test]
    fn ln_gamma_and_the_incomplete_beta_match_closed_forms() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-13));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-13));
        // I_x(1, 1) = x; I_x(2, 1) = x²; I_x(1, 2) = 1 − (1 − x)²; I_x(a, b) = 1 − I_{1−x}(b, a).
        assert!(close(incomplete_beta(1.0, 1.0, 0.3), 0.3, 1e-14));
        assert!(close(incomplete_beta(2.0, 1.0, 0.7), 0.49, 1e-14));
        assert!(close(incomplete_beta(1.0, 2.0, 0.2), 0.36, 1e-14));
        let (a, b, x) = (3.5, 0.5, 0.62);
        assert!(close(incomplete_beta(a, b, x), 1.0 - incomplete_beta(b, a, 1.0 - x), 1e-14));
    }

    /// Against the standard table of t_{0.975, df}.
    #[test]
    fn t_quantiles_match_the_table() {
        for (df, want) in [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (9, 2.2622), (29, 2.0452)] {
            assert!(close(t975(df), want, 5e-4), "df {df}: {} vs {want}", t975(df));
        }
        assert!(close(t975(100_000), 1.95996, 1e-4));
        assert!(close(t_quantile(0.025, 4.0), -2.7764, 5e-4));
        // df = 1 is the Cauchy distribution: t_p = tan(π (p − ½)).
        assert!(close(t975(1), (std::f64::consts::PI * 0.475).tan(), 1e-9));
    }

    #[test]
    fn t_cdf_and_p_values_match_known_values() {
        assert!(close(student_t_cdf(0.0, 3.0), 0.5, 1e-15));
        // df = 1: F(t) = ½ + atan(t) / π.
        assert!(close(student_t_cdf(1.5, 1.0), 0.5 + 1.5f64.atan() / std::f64::consts::PI, 1e-13));
        // df = 2: F(t) = ½ + t / (2 √(2 + t²)).
        assert!(close(student_t_cdf(-0.7, 2.0), 0.5 - 0.7 / (2.0 * (2.0f64 + 0.49).sqrt()), 1e-13));
        assert!(close(two_sided_p(2.0, 4.0), 0.1161, 1e-4), "{}", two_sided_p(2.0, 4.0));
        assert!(close(two_sided_p(3.0, 9.0), 0.01496, 1e-5), "{}", two_sided_p(3.0, 9.0));
        assert!(close(two_sided_p(-3.0, 9.0), two_sided_p(3.0, 9.0), 1e-15));
    }

    #[test]
    fn the_confidence_interval_of_a_mean() {
        // 1, 2, 3: mean 2, sd 1, half-width t(2) / √3 = 4.3027 / 1.7321 = 2.4841.
        let ci = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!((ci.n, ci.mean), (3, 2.0));
        assert!(close(ci.half_width.unwrap(), 2.4841, 1e-4));
        assert_eq!(mean_ci95(&[0.4]), MeanCi { n: 1, mean: 0.4, half_width: None });
    }

    #[test]
    fn the_paired_t_test_by_hand() {
        // Differences 1, 2, 3, 2, 2: mean 2, sd √0.5, se √0.1, t = 6.3246, df 4.
        let a = [3.0, 5.0, 6.0, 4.0, 2.0];
        let b = [2.0, 3.0, 3.0, 2.0, 0.0];
        let p = paired(&a, &b);
        let t = p.test.unwrap();
        assert_eq!((p.n, p.mean_diff), (5, 2.0));
        assert!(close(t.t, 2.0 / 0.1f64.sqrt(), 1e-12));
        let half = 2.7764 * 0.1f64.sqrt();
        assert!(close(t.ci.0, 2.0 - half, 2e-4) && close(t.ci.1, 2.0 + half, 2e-4));
        assert!(close(t.p, 0.003198, 2e-6), "{}", t.p);
        assert!(p.significant());
        // Differences 1, −1, 2: mean 2/3, sd √(7/3), t = 0.7559, df 2 → p = 0.5286; the CI holds 0.
        let p = paired(&[1.0, 0.0, 2.0], &[0.0, 1.0, 0.0]);
        assert!(close(p.test.unwrap().p, 0.5286, 1e-4) && !p.significant());
    }

    #[test]
    fn no_test_without_variance_or_with_one_pair() {
        let same = paired(&[2.0, 3.0, 4.0], &[1.0, 2.0, 3.0]);
        assert_eq!((same.mean_diff, same.test), (1.0, None));
        assert!(!same.significant());
        let one = paired(&[2.0], &[1.0]);
        assert_eq!((one.n, one.test), (1, None));
    }
}
