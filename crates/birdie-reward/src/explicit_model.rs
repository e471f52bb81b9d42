//! The default reward model: [`ExplicitNet`] (the paper's Gated-SSM network with hand-written forward and backward
//! passes) trained exactly as `birdie_train`'s `BurnRewardModel` trains its burn twin — MSE on the scaled rewards of each
//! iteration's subset of the history rows, global-norm clipping, AdamW (burn's: β = (0.9, 0.999), ε = 1e-5, decoupled
//! weight decay) in one fused loop over the flat parameters, the cyclic learning rate carried across updates.

use birdie_core::controller::{RewardModel, RewardStateError, TrainSummary};
use birdie_core::SampleRng;
use rand::Rng;
use rayon::prelude::*;

use crate::explicit_net::ExplicitNet;
use crate::{gather, read_state_header, scale_targets, training_rows, RewardModelConfig};

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;
/// State format: magic, then iteration, AdamW steps, training-row seed and parameter count as u64, then parameters and
/// both moments as f32 (all little-endian). Version 1 had no seed (the loading model keeps its own).
const MAGIC: &[u8; 8] = b"BRDRWX02";
const MAGIC_V1: &[u8; 8] = b"BRDRWX01";

/// Σ x² of a chunk, in eight f32 lanes (vectorisable), then f64.
fn sum_of_squares(x: &[f32]) -> f64 {
    let mut lanes = [0.0f32; 8];
    let mut it = x.chunks_exact(8);
    for c in &mut it {
        for j in 0..8 {
            lanes[j] += c[j] * c[j];
        }
    }
    let tail: f32 = it.remainder().iter().map(|v| v * v).sum();
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail)
}

/// The explicit Gated-SSM reward model with its optimiser state.
#[derive(Debug, Clone)]
pub struct ExplicitRewardModel {
    config: RewardModelConfig,
    net: ExplicitNet,
    m: Vec<f32>,
    v: Vec<f32>,
    /// AdamW steps taken (bias correction).
    steps: u64,
    /// Global training iteration (the cyclic learning rate's phase).
    iteration: u64,
    /// Seed of the training-row subsets.
    seed: u64,
}

impl ExplicitRewardModel {
    /// A freshly initialised model for `arms` arms, seeded by `seed`.
    pub fn new(config: RewardModelConfig, arms: usize, seed: u64) -> Self {
        let mut rng = SampleRng::derive(seed, 0x7277_6d78, 0);
        let net = ExplicitNet::new(arms, config.width, config.layers, &mut || rng.random::<f32>());
        Self::from_net(config, net, seed)
    }

    /// A model around given weights (fresh optimiser state); `seed` seeds the training-row subsets.
    pub fn from_net(config: RewardModelConfig, net: ExplicitNet, seed: u64) -> Self {
        let n = net.params.len();
        ExplicitRewardModel { config, net, m: vec![0.0; n], v: vec![0.0; n], steps: 0, iteration: 0, seed }
    }

    pub fn net(&self) -> &ExplicitNet {
        &self.net
    }

    pub fn num_params(&self) -> usize {
        self.net.params.len()
    }

    /// One AdamW step on every parameter with gradient `g` scaled by `scale` (the clipping factor), in parallel
    /// chunks.
    fn adamw(&mut self, g: &[f32], scale: f32, lr: f64) {
        self.steps += 1;
        let t = self.steps as i32;
        let (c1, c2) = (1.0 - BETA_1.powi(t), 1.0 - BETA_2.powi(t));
        let lr = lr as f32;
        let keep = 1.0 - lr * self.config.weight_decay as f32;
        let chunk = self.net.params.len().div_ceil(2 * rayon::current_num_threads().max(1)).max(4096);
        self.net
            .params
            .par_chunks_mut(chunk)
            .zip(self.m.par_chunks_mut(chunk))
            .zip(self.v.par_chunks_mut(chunk))
            .zip(g.par_chunks(chunk))
            .for_each(|(((p, m), v), g)| {
                let n = p.len();
                let (m, v, g) = (&mut m[..n], &mut v[..n], &g[..n]);
                let (inv_c1, inv_c2) = (1.0 / c1, 1.0 / c2);
                for i in 0..n {
                    let gi = g[i] * scale;
                    m[i] = BETA_1 * m[i] + (1.0 - BETA_1) * gi;
                    v[i] = BETA_2 * v[i] + (1.0 - BETA_2) * gi * gi;
                    p[i] = p[i] * keep - lr * (m[i] * inv_c1) / ((v[i] * inv_c2).sqrt() + EPSILON);
                }
            });
    }

    /// Mean squared error of the current model on a history.
    pub fn mse(&self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> f32 {
        let y = self.net.forward(&history.concat(), history.len()).y;
        let t = targets.concat();
        y.iter().zip(&t).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / t.len().max(1) as f32
    }
}

impl RewardModel for ExplicitRewardModel {
    fn train(&mut self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> TrainSummary {
        assert_eq!(history.len(), targets.len(), "history rows and reward rows differ in number");
        if history.is_empty() {
            return TrainSummary::default();
        }
        let scaled = scale_targets(targets, self.config.target_rms);
        let mut grad = vec![0.0; self.net.params.len()];
        for _ in 0..self.config.iterations {
            let lr = self.config.learning_rate(self.iteration);
            let picked = training_rows(self.config.row_keep, self.seed, self.iteration, history.len());
            self.iteration += 1;
            let (x, t) = (gather(history, &picked), gather(&scaled, &picked));
            let forward = self.net.forward(&x, picked.len());
            self.net.backward_into(&forward, &t, &mut grad);
            let norm = grad.par_chunks(1 << 16).map(sum_of_squares).sum::<f64>().sqrt();
            let clip = self.config.grad_clip;
            let scale = if norm.is_finite() && norm > clip && clip > 0.0 { (clip / norm) as f32 } else { 1.0 };
            self.adamw(&grad, scale, lr);
        }
        TrainSummary { iterations: self.config.iterations, final_mse: self.mse(history, &scaled) }
    }

    fn predict(&mut self, history: &[Vec<f32>], candidates: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if candidates.is_empty() {
            return Vec::new();
        }
        let y = self.net.predict(&history.concat(), history.len(), &candidates.concat(), candidates.len());
        y.chunks(self.net.arms).map(<[f32]>::to_vec).collect()
    }

    fn save(&self) -> Vec<u8> {
        let n = self.net.params.len();
        let mut out = Vec::with_capacity(40 + 12 * n);
        out.extend_from_slice(MAGIC);
        for v in [self.iteration, self.steps, self.seed, n as u64] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for x in self.net.params.iter().chain(&self.m).chain(&self.v) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), RewardStateError> {
        let (version, words, body) =
            read_state_header(bytes, &[(MAGIC, 4), (MAGIC_V1, 3)], " of the explicit Gated-SSM model")?;
        let (iteration, steps) = (words[0], words[1]);
        let (seed, n) = if version == 0 { (words[2], words[3] as usize) } else { (self.seed, words[2] as usize) };
        if n != self.net.params.len() {
            return Err(RewardStateError::ParameterCount { saved: n, configured: self.net.params.len() });
        }
        if body.len() != 12 * n {
            return Err(RewardStateError::Truncated { got: bytes.len(), need: bytes.len() - body.len() + 12 * n });
        }
        let floats: Vec<f32> =
            body.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        self.net.params.copy_from_slice(&floats[..n]);
        self.m.copy_from_slice(&floats[n..2 * n]);
        self.v.copy_from_slice(&floats[2 * n..]);
        self.iteration = iteration;
        self.steps = steps;
        self.seed = seed;
        Ok(())
    }
}
