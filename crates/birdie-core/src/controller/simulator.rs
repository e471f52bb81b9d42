//! A synthetic training process for the controller (`birdie controller simulate` and the controller tests).
//!
//! Between evaluations each arm's validation loss moves as
//! `L_i ← L_i · (1 − η · Σ_j T_ij · p_j) + ε_i`, `ε_i ~ N(0, (σ·L_i)²)`: training on arm j helps arm i by `T_ij`.
//! [`SimulatedProcess::birdie`] is the process of the controller issue over the `birdie` preset's first 15 arms
//! (η 0.02, σ 0.005, L₀ 6; T: 1 on the diagonal, 0.5 between infilling arms, 0.6 from copying to deshuffling, 0.4
//! from prefix-LM to NTP, and the NTP arm's own diagonal fading linearly from 1 to 0.1 over the run).
//!
//! Like the trainer, the simulation applies a new mixture late: the first `delay` of each interval still trains on
//! the previous mixture (the pipeline's prefetch over the steps between evaluations, 8/25 by default), and the
//! controller records the mixture really trained on, `delay·p_prev + (1 − delay)·p_new`.

use rand_distr::{Distribution, StandardNormal};

use crate::SampleRng;

/// Stream of the simulator's noise.
const NOISE_STREAM: u64 = 0x51_u64;

/// The process: transfer matrix (possibly changing over the run) and noise.
#[derive(Debug, Clone)]
pub struct SimulatedProcess {
    /// Arm kinds (classes for the controller).
    pub kinds: Vec<String>,
    /// `T_ij` at the start and at the end of the run (linear in between).
    pub transfer_start: Vec<Vec<f64>>,
    pub transfer_end: Vec<Vec<f64>>,
    pub eta: f64,
    pub sigma: f64,
    pub initial_loss: f64,
    /// Share of each interval still trained on the previous mixture (prefetch / steps between evaluations).
    pub delay: f64,
}

/// The trainer's default share of an interval on the previous mixture: a prefetch of 8 batches over 25 steps.
pub const DEFAULT_DELAY: f64 = 8.0 / 25.0;

impl SimulatedProcess {
    /// The process over the given arm kinds (registry names).
    pub fn birdie<S: AsRef<str>>(kinds: &[S]) -> Self {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_ref().to_string()).collect();
        let k = kinds.len();
        let is = |i: usize, name: &str| kinds[i] == name;
        let entry = |i: usize, j: usize| -> f64 {
            if i == j {
                1.0
            } else if is(i, "infilling") && is(j, "infilling") {
                0.5
            } else if is(i, "deshuffling") && is(j, "copying") {
                0.6
            } else if is(i, "next_token_prediction") && is(j, "prefix_language_modeling") {
                0.4
            } else {
                0.0
            }
        };
        let t: Vec<Vec<f64>> = (0..k).map(|i| (0..k).map(|j| entry(i, j)).collect()).collect();
        let mut end = t.clone();
        for (i, row) in end.iter_mut().enumerate() {
            if is(i, "next_token_prediction") {
                row[i] = 0.1;
            }
        }
        SimulatedProcess {
            kinds,
            transfer_start: t,
            transfer_end: end,
            eta: 0.02,
            sigma: 0.005,
            initial_loss: 6.0,
            delay: DEFAULT_DELAY,
        }
    }

    /// A process with one clearly best arm `best`: training on it helps every arm by 0.8, others help only
    /// themselves by 0.3, and the validation noise is a tenth of the specified process's (σ = 0.0005) so that the
    /// best arm's effect stands out of it. At σ = 0.005 it does not within 10 evaluations: the mixtures a controller
    /// can choose (top-8 means of uniform candidates, floored) move the best arm's share only between about 0.03 and
    /// 0.10, and a least-squares fit of the mean improvement on that share over the runs' own histories has a
    /// t statistic of −1.2 … 0.9 for seeds 0–4 (2.8 … 5.6 at σ = 0.0005 for four of them; docs/controller.md).
    pub fn one_best_arm<S: AsRef<str>>(kinds: &[S], best: usize) -> Self {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_ref().to_string()).collect();
        let k = kinds.len();
        let t: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| {
                        if j == best {
                            0.8
                        } else if i == j {
                            0.3
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        SimulatedProcess {
            kinds,
            transfer_start: t.clone(),
            transfer_end: t,
            eta: 0.02,
            sigma: 0.0005,
            initial_loss: 6.0,
            delay: DEFAULT_DELAY,
        }
    }

    pub fn num_arms(&self) -> usize {
        self.kinds.len()
    }

    /// `T` at evaluation interval `e` of `n`.
    fn transfer(&self, e: usize, n: usize) -> Vec<Vec<f64>> {
        let f = if n > 1 { e as f64 / (n - 1) as f64 } else { 0.0 };
        self.transfer_start
            .iter()
            .zip(&self.transfer_end)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + (y - x) * f).collect())
            .collect()
    }

    /// The mixture an interval trains on when `new` was set at its start and `previous` was in force before.
    pub fn trained_on(&self, previous: &[f64], new: &[f64]) -> Vec<f64> {
        previous.iter().zip(new).map(|(p, q)| self.delay * p + (1.0 - self.delay) * q).collect()
    }

    /// Losses after interval `e` of `n` under mixture `p`, with the interval's noise drawn from (seed, e).
    pub fn advance(&self, losses: &[f64], p: &[f64], e: usize, n: usize, seed: u64) -> Vec<f64> {
        let t = self.transfer(e, n);
        let mut rng = SampleRng::derive(seed, NOISE_STREAM, e as u64);
        losses
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let drive: f64 = t[i].iter().zip(p).map(|(tij, pj)| tij * pj).sum();
                let z: f64 = StandardNormal.sample(&mut rng);
                (l * (1.0 - self.eta * drive) + self.sigma * l * z).max(0.0)
            })
            .collect()
    }

    /// Total loss reduction of `n` intervals under one fixed mixture (same noise as any other run of this seed).
    pub fn fixed_mixture_reduction(&self, p: &[f64], n: usize, seed: u64) -> f64 {
        let mut l = vec![self.initial_loss; self.num_arms()];
        for e in 0..n {
            l = self.advance(&l, p, e, n, seed);
        }
        self.num_arms() as f64 * self.initial_loss - l.iter().sum::<f64>()
    }

    /// The best fixed mixture in hindsight among `tries` random ones (and the uniform one): (mixture, reduction).
    pub fn best_fixed(&self, n: usize, seed: u64, tries: usize) -> (Vec<f64>, f64) {
        let k = self.num_arms();
        let mut rng = SampleRng::derive(seed, NOISE_STREAM + 1, 0);
        let uniform = vec![1.0 / k as f64; k];
        let mut best = (uniform.clone(), self.fixed_mixture_reduction(&uniform, n, seed));
        for _ in 0..tries {
            // Dirichlet(1/2)-like draws: squared uniforms, normalised, reach corners as well as the middle.
            let mut p: Vec<f64> = (0..k).map(|_| rand::Rng::random::<f64>(&mut rng).powi(2)).collect();
            super::normalise(&mut p);
            let r = self.fixed_mixture_reduction(&p, n, seed);
            if r > best.1 {
                best = (p, r);
            }
        }
        best
    }
}

/// Runs `controller` against the process for `evals` intervals: an evaluation before the first interval and after
/// each. The controller's schedule must evaluate at steps 0, 1, …, evals (see [`simulation_config`]). Each interval
/// trains on the delayed mixture (`process.delay`), and the controller is told so.
/// Returns every evaluation's report and the total loss reduction.
pub fn run_simulation(
    process: &SimulatedProcess,
    controller: &mut super::Controller,
    evals: usize,
    seed: u64,
) -> Result<(Vec<super::UpdateReport>, f64), super::ControllerError> {
    let k = process.num_arms();
    let mut losses = vec![process.initial_loss; k];
    let mut reports = Vec::with_capacity(evals + 1);
    let mut previous = controller.mixture().to_vec();
    for e in 0..=evals {
        let mut trained_on = None;
        if e > 0 {
            let p = process.trained_on(&previous, controller.mixture());
            losses = process.advance(&losses, &p, e - 1, evals, seed);
            trained_on = Some(p);
        }
        previous = controller.mixture().to_vec();
        controller.begin_evaluation(e as u64, trained_on);
        let mut report = None;
        for (arm, &l) in losses.iter().enumerate() {
            report = controller.record_validation_loss(arm, l)?;
        }
        reports.push(report.expect("the last loss of an evaluation updates"));
    }
    Ok((reports, k as f64 * process.initial_loss - losses.iter().sum::<f64>()))
}

/// Controller settings for a simulation of `evals` intervals: an evaluation at every step, the agent acting from
/// the second evaluation on, and every arm weighted alike when scoring candidates (no class normalisation): a
/// simulation is judged by its total loss reduction, which counts every arm alike, and with class normalisation the
/// controller would pursue another objective (on the `birdie` process it favours the single-arm kinds, where the
/// total favours the six infilling arms that help each other).
pub fn simulation_config(base: &super::ControllerConfig) -> super::ControllerConfig {
    let mut c = base.clone();
    c.class_normalisation = false;
    c.eval_steps = Some(vec![0]);
    c.eval_every = Some(1);
    c.agent_start = Some(1);
    c
}
