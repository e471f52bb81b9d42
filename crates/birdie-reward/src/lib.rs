//! birdie-reward: the Birdie controller's learned reward model without an ML framework (design §3.4–3.5, decision A3).
//!
//! Input per history row: `[losses before the interval (K) | mixture used during it (K)]`; output: K predicted
//! rewards in [−1, 1] (tanh), at every row, causally. [`ExplicitRewardModel`] is the paper's architecture — Gated-SSM
//! blocks with separate RMSNorms for the loss half and the action half of each row — with hand-written forward and
//! backward passes ([`ExplicitNet`]), trained after each evaluation on the whole history (up to the controller's
//! `max_history` rows): MSE against the observed rewards, AdamW (weight decay 0.1), global gradient-norm clip 1.0, the
//! cyclic learning rate of design §3.5 (triangular between lr/1000 and lr over `iterations` steps, one cycle per
//! update, the phase carried across updates).
//!
//! [`RewardModelConfig`] (`[reward_model]` in a training config) also chooses the reference code's small causal
//! Transformer, which lives on burn in `birdie-train` with a burn twin of the Gated-SSM network that tests this one.
//! This crate has no ML framework so that bindings (the Python package) can carry the controller alone.

mod dot_rows;
mod explicit_model;
mod explicit_net;
mod matmul;

use birdie_core::controller::RewardStateError;
use birdie_core::setting::{check, InvalidSetting};
use rand::Rng;
use serde::{Deserialize, Serialize};

pub use explicit_model::ExplicitRewardModel;
pub use explicit_net::{ExplicitNet, Offsets};

/// Reward-model architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardArch {
    /// The paper's: Gated-SSM blocks.
    #[default]
    GatedSsm,
    /// The reference code's: a small causal Transformer.
    Transformer,
}

impl<'de> Deserialize<'de> for RewardArch {
    /// Names the key, so an unknown value is not mistaken for one of `model.arch`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "gated-ssm" => Ok(RewardArch::GatedSsm),
            "transformer" => Ok(RewardArch::Transformer),
            other => Err(serde::de::Error::custom(format!(
                "reward_model.arch = \"{other}\": expected gated-ssm or transformer (the controller's reward model; \
                 the trained model's architecture is model.arch: hawk, gated-ssm, transformer or toy)"
            ))),
        }
    }
}

/// Reward-model settings (`[reward_model]` in a training config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardModelConfig {
    #[serde(default)]
    pub arch: RewardArch,
    #[serde(default = "d_width")]
    pub width: usize,
    #[serde(default = "d_layers")]
    pub layers: usize,
    /// Attention heads (Transformer only).
    #[serde(default = "d_heads")]
    pub heads: usize,
    /// Peak of the cyclic learning rate.
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Training iterations after each evaluation (one learning-rate cycle).
    #[serde(default = "d_iterations")]
    pub iterations: usize,
    #[serde(default = "d_weight_decay")]
    pub weight_decay: f64,
    /// Global gradient-norm clip.
    #[serde(default = "d_grad_clip")]
    pub grad_clip: f64,
    /// RMS the training targets are scaled to (one factor for the whole history; 0 = raw rewards).
    #[serde(default = "d_target_rms")]
    pub target_rms: f64,
    /// Share of the history rows each training iteration trains on: a fresh seeded subset every iteration, in the
    /// recorded order (1 = every row every time, the reference's training). With a short history a recurrent net
    /// otherwise fits each reward by the row's position and learns little about the mixture (docs/controller.md).
    #[serde(default = "d_row_keep")]
    pub row_keep: f64,
    /// Longest history (rows) the model is built for (the Transformer's positions).
    #[serde(default = "d_max_rows")]
    pub max_rows: usize,
}

fn d_width() -> usize {
    256
}
fn d_layers() -> usize {
    4
}
fn d_heads() -> usize {
    4
}
fn d_lr() -> f64 {
    5e-4
}
fn d_iterations() -> usize {
    200
}
fn d_weight_decay() -> f64 {
    0.1
}
fn d_grad_clip() -> f64 {
    1.0
}
fn d_target_rms() -> f64 {
    0.3
}
fn d_row_keep() -> f64 {
    0.5
}
fn d_max_rows() -> usize {
    2049
}

impl Default for RewardModelConfig {
    fn default() -> Self {
        RewardModelConfig {
            arch: RewardArch::default(),
            width: d_width(),
            layers: d_layers(),
            heads: d_heads(),
            lr: d_lr(),
            iterations: d_iterations(),
            weight_decay: d_weight_decay(),
            grad_clip: d_grad_clip(),
            target_rms: d_target_rms(),
            row_keep: d_row_keep(),
            max_rows: d_max_rows(),
        }
    }
}

impl RewardModelConfig {
    /// Checks values; names the key it rejects.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        for (key, v) in
            [("width", self.width), ("layers", self.layers), ("heads", self.heads), ("max_rows", self.max_rows)]
        {
            check(v > 0, &format!("reward_model.{key}"), v, "a positive integer")?;
        }
        if self.arch == RewardArch::Transformer {
            check(
                self.width % self.heads == 0 && (self.width / self.heads) % 2 == 0,
                "reward_model.heads",
                self.heads,
                &format!("a divisor of width = {} leaving an even head width", self.width),
            )?;
        }
        check(
            self.row_keep > 0.0 && self.row_keep <= 1.0,
            "reward_model.row_keep",
            self.row_keep,
            "a share in (0, 1]",
        )?;
        check(self.lr.is_finite() && self.lr > 0.0, "reward_model.lr", self.lr, "a positive number")
    }

    /// The learning rate at global training iteration `it`: torch's `CyclicLR(base = lr/1000, max = lr,
    /// step_size_up = iterations/2, mode "exp_range", gamma 1)`, i.e. triangular.
    pub fn learning_rate(&self, it: u64) -> f64 {
        let up = (self.iterations as f64 / 2.0).max(1.0);
        let base = self.lr * 1e-3;
        let it = it as f64;
        let cycle = (1.0 + it / (2.0 * up)).floor();
        let x = (it / up - 2.0 * cycle + 1.0).abs();
        base + (self.lr - base) * (1.0 - x).max(0.0)
    }
}

/// Targets scaled by one common factor so their RMS is `target_rms` (at most ×1000; 0 = raw): the Birdie reward of
/// small loss changes is tiny (its cubic), and a regression onto values of 10⁻³ barely moves the weights. One factor
/// for all arms and rows keeps every ranking of candidates the model would make on the raw scale.
pub fn scale_targets(targets: &[Vec<f32>], target_rms: f64) -> Vec<Vec<f32>> {
    let n: usize = targets.iter().map(Vec::len).sum();
    let rms = (targets.iter().flatten().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / n.max(1) as f64).sqrt();
    let factor = if target_rms > 0.0 && rms > 0.0 { (target_rms / rms).min(1000.0) } else { 1.0 };
    targets.iter().map(|r| r.iter().map(|&v| ((f64::from(v) * factor) as f32).clamp(-1.0, 1.0)).collect()).collect()
}

/// Stream of the reward models' row-subset draws.
const ROW_SUBSET_STREAM: u64 = 0x726f_7773;

/// The history rows (of `rows`) that global training iteration `iteration` trains on, in the recorded order: each
/// kept with probability `keep`, drawn from (`seed`, iteration); all of them when the draw keeps none.
pub fn training_rows(keep: f64, seed: u64, iteration: u64, rows: usize) -> Vec<usize> {
    if keep >= 1.0 || rows == 0 {
        return (0..rows).collect();
    }
    let mut rng = birdie_core::SampleRng::derive(seed, ROW_SUBSET_STREAM, iteration);
    let kept: Vec<usize> = (0..rows).filter(|_| rng.random::<f64>() < keep).collect();
    if kept.is_empty() {
        (0..rows).collect()
    } else {
        kept
    }
}

/// The rows `picked` of `m`, concatenated.
pub fn gather(m: &[Vec<f32>], picked: &[usize]) -> Vec<f32> {
    picked.iter().flat_map(|&r| m[r].iter().copied()).collect()
}

/// The header of a saved reward-model state: which of `versions` (magic, number of u64 header words) it is, its
/// words, and the bytes after them.
pub fn read_state_header<'a>(
    bytes: &'a [u8],
    versions: &[(&[u8; 8], usize)],
    what: &'static str,
) -> Result<(usize, Vec<u64>, &'a [u8]), RewardStateError> {
    let magic = bytes.get(..8).ok_or(RewardStateError::Truncated { got: bytes.len(), need: 8 })?;
    let (version, &(_, words)) = versions
        .iter()
        .enumerate()
        .find(|(_, (m, _))| magic == m.as_slice())
        .ok_or(RewardStateError::BadMagic { what })?;
    let end = 8 + 8 * words;
    let header = bytes.get(8..end).ok_or(RewardStateError::Truncated { got: bytes.len(), need: end })?;
    let values = header.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).collect();
    Ok((version, values, &bytes[end..]))
}

/// Parameters of the explicit Gated-SSM network for `arms` arms.
pub fn explicit_num_params(config: &RewardModelConfig, arms: usize) -> usize {
    Offsets::new(arms, config.width, config.layers).total
}
