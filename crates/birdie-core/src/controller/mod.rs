//! The reward-driven mixture controller's bookkeeping (design §3): evaluation schedule, rewards, history, candidate
//! scoring and the choice of the next mixture. Framework-free: the learned reward model is behind the
//! [`RewardModel`] trait (implemented with burn in `birdie-train`).
//!
//! Protocol (design §3.2, with the update automatic once the last loss of an evaluation is in — B9):
//!
//! ```text
//! if controller.is_eval_step(step) {
//!     let trained_on = controller.last_evaluation_step().map(|s| pipeline.schedule().mean_over(s, step));
//!     controller.begin_evaluation(step, trained_on);
//!     for arm in 0..K { controller.record_validation_loss(arm, mean_loss_of(arm)) }   // the last one updates
//!     pipeline.set_mixture(controller.mixture())
//! }
//! ```
//!
//! At every evaluation after the first, the observed rewards of the interval (old → new losses) and the history row
//! `[old losses | mixture trained on]` extend the history, and the reward model is trained on all of it. The
//! mixture trained on is the one the batches of the interval were really built with, each batch weighted alike:
//! a new mixture reaches the batches only `prefetch` batches after it is set, so the start of every interval
//! still runs on the previous mixture (the caller passes it; without it the controller records its own mixture).
//! From the agent's start step on, the next mixture is chosen by scoring candidate mixtures
//! `[new losses | candidate]` at the candidate row (B6), weighting per-arm predicted rewards by class, averaging the
//! top n, and raising every arm below `min_prob_factor / K` to that floor. Until then the mixture stays the initial
//! (uniform) one.
//!
//! A non-finite validation loss is *missing* for that arm at that evaluation: the evaluation is reported with it,
//! but no reward is computed across it (neither the interval ending there nor the one starting there becomes a
//! history row) and the mixture is kept; no missing loss is ever written into the history.

mod distributed;
mod reward;
mod schedule;
mod selection;
pub mod simulator;

use std::time::Instant;

use rand::Rng;
use serde::{Deserialize, Serialize};

pub use distributed::{distributed_evaluation, reduce_losses, Collective, LocalCollective};
pub use reward::{birdie_reward, rewards, saturated_share, RewardKind};
pub use schedule::{EvalSchedule, ExplorationSchedule};
pub use selection::{
    apply_floor, candidates, explore_action, normalise, scores, top_n_mean, weight_by_loss, ArmClasses, CandidateKind,
};

use crate::setting::{check, InvalidSetting};
use crate::SampleRng;

/// Stream id of the controller's random draws (distinct from the pipeline's streams).
const CONTROLLER_STREAM: u64 = 0xC0_17_80_11;

/// A learned model of the reward of a mixture given the losses before it (design §3.4–3.5).
pub trait RewardModel: Send {
    /// Trains on the whole history: rows `[losses (K) | mixture (K)]`, targets the observed rewards (K).
    fn train(&mut self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> TrainSummary;
    /// Predicted per-arm rewards of each candidate row when it follows `history`, read at the candidate row.
    fn predict(&mut self, history: &[Vec<f32>], candidates: &[Vec<f32>]) -> Vec<Vec<f32>>;
    /// Weights, optimiser state and step counters, for checkpoints.
    fn save(&self) -> Vec<u8>;
    /// Restores what [`RewardModel::save`] wrote; on an error the model is left as it was.
    fn load(&mut self, bytes: &[u8]) -> Result<(), RewardStateError>;
}

/// Why a saved reward-model state could not be restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RewardStateError {
    #[error("reward model state is truncated: {got} bytes where {need} were expected")]
    Truncated { got: usize, need: usize },
    #[error("not a birdie reward-model state{what} (bad magic)")]
    BadMagic { what: &'static str },
    #[error("reward model state holds {saved} parameters, the configured model has {configured}")]
    ParameterCount { saved: usize, configured: usize },
    /// A part the model's framework could not decode (its message).
    #[error("reward model {part}: {message}")]
    Record { part: &'static str, message: String },
}

/// What one reward-model training round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    pub iterations: usize,
    /// Mean squared error on the history after training.
    pub final_mse: f32,
}

/// Controller settings (`[controller]` in a training config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerConfig {
    /// Evaluation steps; default the paper's, compressed to the run length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_steps: Option<Vec<u64>>,
    /// Evaluate every this many steps after the last of `eval_steps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<u64>,
    /// First step at which the agent chooses the mixture (before it: the initial mixture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_start: Option<u64>,
    #[serde(default)]
    pub reward: RewardKind,
    #[serde(default)]
    pub candidates: CandidateKind,
    /// Candidate mixtures per update (default 2048 for `paper`, 16 384 for `reference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_candidates: Option<usize>,
    #[serde(default = "d_top_n")]
    pub top_n: usize,
    /// Weight candidates by the current losses once (never squared, B7).
    #[serde(default)]
    pub loss_weighting: bool,
    /// Weight each arm's predicted reward by (number of classes) / (size of its class) when scoring (design §3.6), so
    /// every objective kind counts the same however many variants it has; false = every arm counts the same.
    #[serde(default = "d_true")]
    pub class_normalisation: bool,
    /// Every arm keeps at least `min_prob_factor / K`.
    #[serde(default = "d_min_prob_factor")]
    pub min_prob_factor: f64,
    /// History rows the reward model trains on (the most recent).
    #[serde(default = "d_max_history")]
    pub max_history: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploration: Option<ExplorationSchedule>,
}

fn d_true() -> bool {
    true
}
fn d_top_n() -> usize {
    8
}
fn d_min_prob_factor() -> f64 {
    0.5
}
fn d_max_history() -> usize {
    2048
}

impl Default for ControllerConfig {
    fn default() -> Self {
        toml::from_str("").expect("defaults parse")
    }
}

impl ControllerConfig {
    /// Checks values; names the key it rejects.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check(self.top_n > 0, "controller.top_n", self.top_n, "at least 1")?;
        let f = self.min_prob_factor;
        check((0.0..=1.0).contains(&f), "controller.min_prob_factor", f, "a value in [0, 1]")?;
        if let Some(n) = self.num_candidates {
            check(n > 0, "controller.num_candidates", n, "at least 1")?;
        }
        if let Some(n) = self.eval_every {
            check(n > 0, "controller.eval_every", n, "at least 1")?;
        }
        if let Some(e) = &self.exploration {
            check(
                0.0 <= e.rate_min && e.rate_min <= e.rate_max && e.rate_max <= 1.0,
                "controller.exploration.[rate_min, rate_max]",
                format!("[{}, {}]", e.rate_min, e.rate_max),
                "0 ≤ rate_min ≤ rate_max ≤ 1",
            )?;
        }
        Ok(())
    }

    /// The evaluation schedule of a `total_steps` run.
    pub fn schedule(&self, total_steps: u64) -> EvalSchedule {
        let mut s = EvalSchedule::paper(total_steps);
        if let Some(steps) = &self.eval_steps {
            let mut steps = steps.clone();
            steps.sort_unstable();
            steps.dedup();
            s.steps = steps;
        }
        if let Some(every) = self.eval_every {
            s.every = every;
        }
        if let Some(start) = self.agent_start {
            s.agent_start = start;
        }
        s
    }

    /// The exploration schedule of a `total_steps` run.
    pub fn exploration(&self, total_steps: u64) -> ExplorationSchedule {
        let mut e = self.exploration.clone().unwrap_or_else(|| ExplorationSchedule::for_run(total_steps));
        e.total_steps = total_steps;
        e
    }

    pub fn num_candidates(&self) -> usize {
        self.num_candidates.unwrap_or(match self.candidates {
            CandidateKind::Paper => 2048,
            CandidateKind::Reference => 4 * 4096,
        })
    }
}

/// Everything the controller carries between evaluations (saved with training checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerState {
    /// The mixture in use.
    pub mixture: Vec<f64>,
    /// Rows `[losses before | mixture during]` of each completed interval.
    pub history: Vec<Vec<f32>>,
    /// Observed rewards of each interval.
    pub targets: Vec<Vec<f32>>,
    /// Losses of the last evaluation.
    pub last_losses: Option<Vec<f64>>,
    /// Completed evaluations (indexes the controller's random draws).
    pub evaluations: u64,
    /// The evaluation in progress: its step and the losses received so far (NaN: received, but missing).
    pub pending_step: Option<u64>,
    pub pending: Vec<Option<f64>>,
    /// The mixture the interval ending at the pending evaluation trained on, when the caller knows it.
    #[serde(default)]
    pub pending_trained_on: Option<Vec<f64>>,
    /// Step of the last completed evaluation.
    #[serde(default)]
    pub last_step: Option<u64>,
}

/// What one evaluation did (logged to metrics.jsonl by the trainer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateReport {
    pub step: u64,
    /// Per-arm validation losses; `None` where the loss was not finite (missing).
    pub losses: Vec<Option<f64>>,
    /// The mixture recorded as the action of the interval that ended here (the batch-weighted mixture the
    /// interval trained on); none at the first evaluation or when a loss was missing.
    pub trained_on: Option<Vec<f64>>,
    /// Observed rewards of the interval that ended here (none at the first evaluation).
    pub rewards: Option<Vec<f64>>,
    pub saturated_share: Option<f64>,
    /// Whether the agent chose the new mixture (false before `agent_start`).
    pub agent: bool,
    pub explored: bool,
    pub mixture: Vec<f64>,
    pub reward_model: Option<TrainSummary>,
    pub seconds: f64,
}

/// Errors of the controller protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControllerError {
    #[error("validation loss for arm {arm}, but there are {arms} arms")]
    NoSuchArm { arm: usize, arms: usize },
    #[error("validation loss for arm {arm} outside an evaluation (call begin_evaluation first)")]
    NotEvaluating { arm: usize },
    #[error("two validation losses for arm {arm} in the evaluation at step {step}")]
    Duplicate { arm: usize, step: u64 },
    #[error("validation loss {loss} for arm {arm} is negative")]
    BadLoss { arm: usize, loss: f64 },
    #[error("the mixture trained on, {got}, is not {arms} finite non-negative weights")]
    BadTrainedOn { got: String, arms: usize },
    #[error("initial mixture has {got} entries for {arms} arms")]
    MixtureLength { got: usize, arms: usize },
    #[error("controller state for {got} arms restored into a controller of {arms} arms")]
    StateArms { got: usize, arms: usize },
    #[error(transparent)]
    RewardModel(#[from] RewardStateError),
}

/// The controller.
pub struct Controller {
    config: ControllerConfig,
    classes: ArmClasses,
    class_weights: Vec<f64>,
    schedule: EvalSchedule,
    exploration: ExplorationSchedule,
    seed: u64,
    state: ControllerState,
    model: Box<dyn RewardModel>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").field("config", &self.config).field("state", &self.state).finish()
    }
}

impl Controller {
    /// A controller over arms of the given kinds (class = kind), starting from `initial` (normalised).
    pub fn new<S: AsRef<str>>(
        config: ControllerConfig,
        total_steps: u64,
        kinds: &[S],
        initial: &[f64],
        seed: u64,
        model: Box<dyn RewardModel>,
    ) -> Result<Self, ControllerError> {
        let classes = ArmClasses::from_kinds(kinds);
        let k = classes.num_arms();
        if initial.len() != k {
            return Err(ControllerError::MixtureLength { got: initial.len(), arms: k });
        }
        let mut mixture = initial.to_vec();
        normalise(&mut mixture);
        Ok(Controller {
            class_weights: if config.class_normalisation { classes.weights() } else { vec![1.0; k] },
            schedule: config.schedule(total_steps),
            exploration: config.exploration(total_steps),
            config,
            classes,
            seed,
            state: ControllerState {
                mixture,
                history: Vec::new(),
                targets: Vec::new(),
                last_losses: None,
                evaluations: 0,
                pending_step: None,
                pending: vec![None; k],
                pending_trained_on: None,
                last_step: None,
            },
            model,
        })
    }

    pub fn num_arms(&self) -> usize {
        self.classes.num_arms()
    }

    /// The mixture the pipeline should use now.
    pub fn mixture(&self) -> &[f64] {
        &self.state.mixture
    }

    pub fn schedule(&self) -> &EvalSchedule {
        &self.schedule
    }

    pub fn exploration_schedule(&self) -> &ExplorationSchedule {
        &self.exploration
    }

    pub fn is_eval_step(&self, step: u64) -> bool {
        self.schedule.is_eval_step(step)
    }

    pub fn state(&self) -> &ControllerState {
        &self.state
    }

    /// Step of the last completed evaluation (where the interval now running began).
    pub fn last_evaluation_step(&self) -> Option<u64> {
        self.state.last_step
    }

    /// Starts the evaluation at `step` (discarding an unfinished one). `trained_on` is the mixture the interval
    /// ending here was really trained on (batch-weighted; the pipeline's `MixtureSchedule::mean_over`); `None`
    /// records the controller's own mixture, as if every batch had used it from the last evaluation on.
    pub fn begin_evaluation(&mut self, step: u64, trained_on: Option<Vec<f64>>) {
        self.state.pending_step = Some(step);
        self.state.pending = vec![None; self.num_arms()];
        self.state.pending_trained_on = trained_on;
    }

    /// Records arm `arm`'s mean validation loss (a non-finite one is recorded as missing); the last one of an
    /// evaluation runs the update and returns its report.
    pub fn record_validation_loss(&mut self, arm: usize, loss: f64) -> Result<Option<UpdateReport>, ControllerError> {
        let k = self.num_arms();
        if arm >= k {
            return Err(ControllerError::NoSuchArm { arm, arms: k });
        }
        let Some(step) = self.state.pending_step else { return Err(ControllerError::NotEvaluating { arm }) };
        if loss < 0.0 {
            return Err(ControllerError::BadLoss { arm, loss });
        }
        if self.state.pending[arm].is_some() {
            return Err(ControllerError::Duplicate { arm, step });
        }
        self.state.pending[arm] = Some(if loss.is_finite() { loss } else { f64::NAN });
        if self.state.pending.iter().all(Option::is_some) {
            let losses: Vec<Option<f64>> = self.state.pending.iter().map(|l| l.filter(|l| l.is_finite())).collect();
            self.state.pending_step = None;
            let trained_on = self.state.pending_trained_on.take();
            return self.update(step, losses, trained_on).map(Some);
        }
        Ok(None)
    }

    /// Runs the update of an evaluation whose losses are all in (`None`: missing), also the entry point of the
    /// distributed path; `trained_on` as in [`Controller::begin_evaluation`].
    pub fn update(
        &mut self,
        step: u64,
        losses: Vec<Option<f64>>,
        trained_on: Option<Vec<f64>>,
    ) -> Result<UpdateReport, ControllerError> {
        let start = Instant::now();
        let k = self.num_arms();
        assert_eq!(losses.len(), k, "update with {} losses for {k} arms", losses.len());
        if let Some(t) = &trained_on {
            if t.len() != k || t.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(ControllerError::BadTrainedOn { got: format!("{t:?}"), arms: k });
            }
        }
        let mut report = UpdateReport {
            step,
            losses: losses.clone(),
            trained_on: None,
            rewards: None,
            saturated_share: None,
            agent: false,
            explored: false,
            mixture: self.state.mixture.clone(),
            reward_model: None,
            seconds: 0.0,
        };
        // A missing loss: no reward across this evaluation, the mixture stays.
        let complete: Option<Vec<f64>> = losses.iter().copied().collect();
        if let Some(losses) = complete {
            if let Some(old) = self.state.last_losses.take() {
                let mut action = trained_on.unwrap_or_else(|| self.state.mixture.clone());
                normalise(&mut action);
                let y = rewards(self.config.reward, &old, &losses);
                report.saturated_share = Some(saturated_share(&y));
                let row: Vec<f32> = old.iter().chain(&action).map(|&v| v as f32).collect();
                self.state.history.push(row);
                self.state.targets.push(y.iter().map(|&v| v as f32).collect());
                report.rewards = Some(y);
                report.trained_on = Some(action);
                let from = self.state.history.len().saturating_sub(self.config.max_history);
                report.reward_model = Some(self.model.train(&self.state.history[from..], &self.state.targets[from..]));
            }
            if step >= self.schedule.agent_start && !self.state.history.is_empty() {
                let (mixture, explored) = self.choose(step, &losses);
                self.state.mixture = mixture;
                report.agent = true;
                report.explored = explored;
            }
            self.state.last_losses = Some(losses);
        } else {
            self.state.last_losses = None;
        }
        self.state.last_step = Some(step);
        self.state.evaluations += 1;
        report.mixture = self.state.mixture.clone();
        report.seconds = start.elapsed().as_secs_f64();
        Ok(report)
    }

    /// The next mixture and whether it came from exploration.
    fn choose(&mut self, step: u64, losses: &[f64]) -> (Vec<f64>, bool) {
        let k = self.num_arms();
        let mut rng = SampleRng::derive(self.seed, CONTROLLER_STREAM, self.state.evaluations);
        let explored = rng.random::<f64>() < self.exploration.rate(step);
        let n = self.config.num_candidates();
        let mut cands = if explored {
            (0..n).map(|_| explore_action(&self.classes, &mut rng)).collect()
        } else {
            candidates(self.config.candidates, n, k, &mut rng)
        };
        if self.config.loss_weighting {
            cands.iter_mut().for_each(|c| weight_by_loss(c, losses));
        }
        let s = self.score(losses, &cands);
        let mut p = top_n_mean(&cands, &s, self.config.top_n);
        apply_floor(&mut p, self.config.min_prob_factor / k as f64);
        (p, explored)
    }

    /// Class-weighted predicted score of each mixture as the next row `[losses | mixture]` after the history.
    pub fn score(&mut self, losses: &[f64], mixtures: &[Vec<f64>]) -> Vec<f64> {
        let rows: Vec<Vec<f32>> =
            mixtures.iter().map(|c| losses.iter().chain(c.iter()).map(|&v| v as f32).collect()).collect();
        let from = self.state.history.len().saturating_sub(self.config.max_history);
        let predictions = self.model.predict(&self.state.history[from..], &rows);
        scores(&predictions, &self.class_weights)
    }

    /// Controller state and reward-model bytes, for a checkpoint.
    pub fn save(&self) -> (ControllerState, Vec<u8>) {
        (self.state.clone(), self.model.save())
    }

    /// Restores what [`Controller::save`] returned.
    pub fn restore(&mut self, state: ControllerState, model: &[u8]) -> Result<(), ControllerError> {
        if state.mixture.len() != self.num_arms() {
            return Err(ControllerError::StateArms { got: state.mixture.len(), arms: self.num_arms() });
        }
        self.model.load(model).map_err(ControllerError::RewardModel)?;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
