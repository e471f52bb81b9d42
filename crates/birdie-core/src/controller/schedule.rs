//! When the controller evaluates, and how often it explores — both derived from the run's total steps (B10).

use serde::{Deserialize, Serialize};

/// The paper's evaluation steps for its 32 768-step runs (design §3.2, A12), then one every 1000.
pub const PAPER_EVAL_STEPS: [u64; 7] = [10, 50, 250, 500, 1000, 1500, 2000];
pub const PAPER_EVAL_EVERY: u64 = 1000;
/// The paper's agent takes control at its third evaluation (step 250).
pub const PAPER_AGENT_START: u64 = 250;
pub const PAPER_RUN_STEPS: u64 = 32_768;

/// Evaluation steps: an explicit list, then one every `every` steps after the last listed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSchedule {
    pub steps: Vec<u64>,
    pub every: u64,
    /// First evaluation step at which the agent's choice replaces the initial mixture.
    pub agent_start: u64,
}

impl EvalSchedule {
    /// The paper's schedule, compressed in proportion when the run is shorter than the paper's 32 768 steps
    /// (never stretched), with duplicate steps removed.
    pub fn paper(total_steps: u64) -> Self {
        let f = (total_steps as f64 / PAPER_RUN_STEPS as f64).min(1.0);
        let scale = |s: u64| ((s as f64 * f).round() as u64).max(1);
        let mut steps: Vec<u64> = PAPER_EVAL_STEPS.iter().map(|&s| scale(s)).collect();
        steps.dedup();
        EvalSchedule { steps, every: scale(PAPER_EVAL_EVERY), agent_start: scale(PAPER_AGENT_START) }
    }

    /// Whether `step` is an evaluation step.
    pub fn is_eval_step(&self, step: u64) -> bool {
        if self.steps.contains(&step) {
            return true;
        }
        let last = self.steps.last().copied().unwrap_or(0);
        step > last && self.every > 0 && (step - last) % self.every == 0
    }

    /// Every evaluation step up to and including `until`.
    pub fn steps_until(&self, until: u64) -> Vec<u64> {
        (0..=until).filter(|&s| self.is_eval_step(s)).collect()
    }
}

/// The exploration rate over the run (design §3.6 `make_cosine_decay_schedule`), with every length a fraction of the
/// run's total steps instead of the reference's fixed 16 384 (B10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorationSchedule {
    /// Run length the fractions refer to.
    #[serde(default)]
    pub total_steps: u64,
    #[serde(default = "d_rate_min")]
    pub rate_min: f64,
    #[serde(default = "d_rate_max")]
    pub rate_max: f64,
    /// Rate during the first `cook_period · total` steps.
    #[serde(default = "d_cook_prob")]
    pub cook_prob: f64,
    #[serde(default = "d_cook_period")]
    pub cook_period: f64,
    /// The cosine starts after `warmup · total` steps …
    #[serde(default = "d_warmup")]
    pub warmup: f64,
    /// … and reaches `rate_min` at `decay · total` steps.
    #[serde(default = "d_decay")]
    pub decay: f64,
}

fn d_rate_min() -> f64 {
    0.2
}
fn d_rate_max() -> f64 {
    0.5
}
fn d_cook_prob() -> f64 {
    1.0
}
fn d_cook_period() -> f64 {
    0.05
}
fn d_warmup() -> f64 {
    0.1
}
fn d_decay() -> f64 {
    0.5
}

impl ExplorationSchedule {
    /// The reference's shape (rates 0.2–0.5, cook 1.0 for 5 %, warm-up 10 %, decay over half the run).
    pub fn for_run(total_steps: u64) -> Self {
        ExplorationSchedule {
            total_steps,
            rate_min: d_rate_min(),
            rate_max: d_rate_max(),
            cook_prob: d_cook_prob(),
            cook_period: d_cook_period(),
            warmup: d_warmup(),
            decay: d_decay(),
        }
    }

    /// Probability of exploring at `step`.
    pub fn rate(&self, step: u64) -> f64 {
        if self.rate_max <= 1e-4 {
            return 0.0;
        }
        let n = self.total_steps as f64;
        let s = step as f64;
        if s < (n * self.cook_period).floor() {
            return self.cook_prob;
        }
        let warm = n * self.warmup;
        let span = (n * self.decay - 1.0 - warm).max(1.0);
        let u = (s - warm).clamp(0.0, span);
        let v = self.rate_min + (self.rate_max - self.rate_min) / 2.0 * (1.0 + (std::f64::consts::PI * u / span).cos());
        v.clamp(self.rate_min, self.rate_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_schedule_at_full_length_and_scaled() {
        let s = EvalSchedule::paper(32_768);
        assert_eq!(s.steps_until(5000), vec![10, 50, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000]);
        assert_eq!(s.agent_start, 250);
        let short = EvalSchedule::paper(3277); // a tenth
        assert_eq!(short.steps_until(600), vec![1, 5, 25, 50, 100, 150, 200, 300, 400, 500, 600]);
        assert_eq!(short.agent_start, 25);
        assert!(!short.is_eval_step(0) && !short.is_eval_step(250));
        let long = EvalSchedule::paper(100_000);
        assert_eq!(long, EvalSchedule::paper(32_768), "never stretched");
        let tiny = EvalSchedule::paper(100);
        assert_eq!((tiny.steps.clone(), tiny.every, tiny.agent_start), (vec![1, 2, 3, 5, 6], 3, 1));
    }

    #[test]
    fn exploration_matches_the_reference_at_16384_steps() {
        // design §3.6: s<819: 1.0; 819–1638: 0.50; 2048: 0.497; 4096: 0.407; 6000: 0.275; 8000: 0.201; ≥8191: 0.20.
        let e = ExplorationSchedule::for_run(16_384);
        for (step, want) in
            [(0, 1.0), (818, 1.0), (819, 0.5), (1638, 0.5), (2048, 0.497), (4096, 0.407), (6000, 0.275), (8000, 0.201)]
        {
            assert!((e.rate(step) - want).abs() < 1.5e-3, "step {step}: {} vs {want}", e.rate(step));
        }
        assert_eq!(e.rate(8191), 0.2);
        assert_eq!(e.rate(1_000_000), 0.2);
    }

    #[test]
    fn exploration_scales_with_the_run_length() {
        for total in [1000u64, 10_000, 100_000] {
            let e = ExplorationSchedule::for_run(total);
            let at = |frac: f64| e.rate((frac * total as f64) as u64);
            assert_eq!(at(0.01), 1.0, "cook period of {total}");
            assert!((at(0.07) - 0.5).abs() < 1e-9, "warm-up of {total}");
            assert!((at(0.3) - 0.35).abs() < 0.01, "middle of the decay of {total}: {}", at(0.3));
            assert_eq!(at(0.6), 0.2, "after the decay of {total}");
        }
    }
}
