//! The reward of one evaluation interval, per arm, from the validation losses before and after it (design §3.3).

use serde::{Deserialize, Serialize};

/// Which reward function the controller uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardKind {
    /// design §3.3 with the code's sign (improvement → positive): `−100e·tanh(e·√(new·old)·x³)`, x the relative
    /// change, NaN → 0, clamped to [−1, 1]. Saturates at ±1 for relative changes of about 5–7 % when losses are
    /// 5–9 nats.
    #[default]
    Birdie,
    /// Non-saturating: each arm's relative improvement standardised across the arms of this evaluation,
    /// `tanh((x̄ − x_i)/σ_x)` — which arms improved more than the others, whatever the overall scale (a change
    /// common to all arms is invisible to it).
    Standardised,
    /// Linear in the relative improvement, without the cubic: `tanh(−x / 0.01)`, i.e. 0.76 for a 1 % improvement;
    /// keeps small changes and common changes visible.
    Relative,
}

/// Relative change that gives a `Relative` reward of tanh(1) ≈ 0.76.
pub const RELATIVE_SCALE: f64 = 0.01;

/// Rewards of `old` → `new` (mean validation losses per arm).
pub fn rewards(kind: RewardKind, old: &[f64], new: &[f64]) -> Vec<f64> {
    assert_eq!(old.len(), new.len(), "reward of loss vectors of different lengths");
    match kind {
        RewardKind::Birdie => old.iter().zip(new).map(|(&o, &n)| birdie_reward(o, n)).collect(),
        RewardKind::Standardised => {
            let x: Vec<f64> = old.iter().zip(new).map(|(&o, &n)| (n - o) / (o + 1e-8)).collect();
            let k = x.len().max(1) as f64;
            let mean = x.iter().sum::<f64>() / k;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k).sqrt();
            x.iter().map(|v| if v.is_finite() { ((mean - v) / (sd + 1e-8)).tanh() } else { 0.0 }).collect()
        }
        RewardKind::Relative => old
            .iter()
            .zip(new)
            .map(|(&o, &n)| {
                let r = (-(n - o) / (o + 1e-8) / RELATIVE_SCALE).tanh();
                if r.is_finite() {
                    r
                } else {
                    0.0
                }
            })
            .collect(),
    }
}

/// design §3.3 for one arm.
pub fn birdie_reward(old: f64, new: f64) -> f64 {
    let e = std::f64::consts::E;
    let x = (new - old) / (old + 1e-8);
    let s = (new * old).sqrt();
    let r = -100.0 * e * (e * s * x.powi(3)).tanh();
    if r.is_nan() {
        0.0
    } else {
        r.clamp(-1.0, 1.0)
    }
}

/// Share of rewards at ±1 (saturated).
pub fn saturated_share(rewards: &[f64]) -> f64 {
    if rewards.is_empty() {
        return 0.0;
    }
    rewards.iter().filter(|r| r.abs() >= 1.0 - 1e-9).count() as f64 / rewards.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_of_spec_3_3() {
        for (old, new, want) in [
            (4.5, 4.2, 0.9518),
            (0.6, 0.5207, 0.9535),
            (3.0, 2.9, 0.0807),
            (3.0, 2.8, 0.6345),
            (3.0, 2.7, 1.0),
            (2.0, 1.9, 0.1800),
            (1.0, 0.9, 0.7010),
            (0.5, 0.45, 0.3505),
            (3.0, 3.1, -0.0835),
            (3.0, 3.3, -1.0),
            (2.5, 2.5, 0.0),
        ] {
            let got = birdie_reward(old, new);
            assert!((got - want).abs() < 1e-4, "{old} -> {new}: {got} vs {want}");
        }
        assert_eq!(birdie_reward(f64::NAN, 1.0), 0.0);
    }

    #[test]
    fn saturation_and_the_standardised_alternative() {
        let old = [6.0, 6.0, 6.0, 6.0];
        let new = [5.5, 5.6, 5.9, 6.1];
        let b = rewards(RewardKind::Birdie, &old, &new);
        assert_eq!(saturated_share(&b), 0.5, "{b:?}");
        let s = rewards(RewardKind::Standardised, &old, &new);
        assert!(s.iter().all(|r| r.abs() < 1.0), "{s:?}");
        assert!(s[0] > s[1] && s[1] > s[2] && s[2] > s[3], "ordered by improvement: {s:?}");
        assert_eq!(saturated_share(&s), 0.0);
        let r = rewards(RewardKind::Relative, &old, &new);
        assert!((r[2] - (1.0f64 / 60.0 / 0.01).tanh()).abs() < 1e-9 && r[3] < 0.0, "{r:?}");
        assert_eq!(rewards(RewardKind::Relative, &[2.0], &[2.0]), vec![0.0]);
    }
}
