//! The controller's reward models on burn, and [`build`], which picks the one a config asks for (design §3.4–3.5,
//! decision A3).
//!
//! The default is `birdie-reward`'s [`ExplicitRewardModel`] (no framework). Here are the reference code's option, a
//! small causal Transformer, and the burn Gated-SSM network the explicit one is tested against, both as
//! [`BurnRewardModel`]: input rows `[losses before the interval (K) | mixture used during it (K)]`, K predicted rewards
//! in [−1, 1] at every row, trained after each evaluation on the whole history exactly as the explicit model is
//! (MSE on scaled targets over a seeded subset of the rows, AdamW, global-norm clip, the cyclic learning rate of design
//! §3.5). Scoring runs the history once; every candidate row is then one step from the carried state (the recurrent
//! model's scan states; the Transformer's key/value cache), all candidates as one batch, read at the candidate row
//! (B6).

mod gated_ssm;
mod row_input;
mod transformer;

use birdie_core::controller::{RewardModel, RewardStateError, TrainSummary};
use birdie_models::SequenceBatch;
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

pub use birdie_reward::{
    explicit_num_params, gather, read_state_header, scale_targets, training_rows, ExplicitNet, ExplicitRewardModel,
    RewardArch, RewardModelConfig,
};
use birdie_run::clip_global_norm;
pub use gated_ssm::GatedSsmRewardNet;
pub use transformer::TransformerRewardNet;

/// The two networks behind one interface.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum RewardNet {
    GatedSsm(GatedSsmRewardNet),
    Transformer(TransformerRewardNet),
}

impl RewardNet {
    /// Predictions at every row `[1, T, K]` of history rows `x` `[1, T, 2K]`.
    fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        match self {
            RewardNet::GatedSsm(n) => n.forward(x, batch),
            RewardNet::Transformer(n) => n.forward(x, batch),
        }
    }

    /// Predictions `[N, K]` at each candidate row `[N, 2K]` following history `x` `[1, T, 2K]` (T ≥ 1).
    fn predict(&self, x: Tensor<3>, batch: &SequenceBatch, candidates: Tensor<2>) -> Tensor<2> {
        match self {
            RewardNet::GatedSsm(n) => n.predict(x, batch, candidates),
            RewardNet::Transformer(n) => n.predict(x, batch, candidates),
        }
    }
}

/// The reward model a config asks for: the explicit Gated-SSM model (the default) or the burn Transformer.
pub fn build(config: RewardModelConfig, arms: usize, seed: u64) -> Box<dyn RewardModel> {
    match config.arch {
        RewardArch::GatedSsm => Box::new(ExplicitRewardModel::new(config, arms, seed)),
        RewardArch::Transformer => Box::new(BurnRewardModel::new(config, arms, seed)),
    }
}

/// Parameters of the reward model `config` builds for `arms` arms.
pub fn num_params(config: &RewardModelConfig, arms: usize) -> usize {
    match config.arch {
        RewardArch::GatedSsm => explicit_num_params(config, arms),
        RewardArch::Transformer => BurnRewardModel::new(config.clone(), arms, 0).num_params(),
    }
}

/// The reward model on burn (both architectures; the Gated-SSM one is the explicit model's test oracle).
pub struct BurnRewardModel {
    config: RewardModelConfig,
    arms: usize,
    device: Device,
    net: Option<RewardNet>,
    optim: ModuleOptimizer,
    /// Global training iteration (the cyclic learning rate's phase).
    iteration: u64,
    /// Seed of the training-row subsets.
    seed: u64,
}

impl std::fmt::Debug for BurnRewardModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurnRewardModel").field("config", &self.config).field("iteration", &self.iteration).finish()
    }
}

/// Row-major `[1, rows, width]` tensor of equal-length rows.
fn rows_tensor(rows: &[Vec<f32>], device: &Device) -> Tensor<3> {
    rows_tensor_of(rows, &(0..rows.len()).collect::<Vec<_>>(), device)
}

/// [`rows_tensor`] of the rows `picked`.
fn rows_tensor_of(rows: &[Vec<f32>], picked: &[usize], device: &Device) -> Tensor<3> {
    let width = rows.first().map_or(0, Vec::len);
    Tensor::<3>::from_data(TensorData::new(gather(rows, picked), [1, picked.len(), width]), device)
}

/// The one-sequence batch of a history of `rows` rows (causal, no resets after the start).
fn history_batch(rows: usize, device: &Device) -> SequenceBatch {
    SequenceBatch::new(&vec![0; rows], &vec![-100; rows], &vec![1; rows], &vec![3; rows], 1, rows, 1, device)
}

impl BurnRewardModel {
    /// A freshly initialised model for `arms` arms; initialisation is seeded by `seed`.
    pub fn new(config: RewardModelConfig, arms: usize, seed: u64) -> Self {
        let device = Device::flex().autodiff();
        let net = birdie_models::seeded(&device, seed, || match config.arch {
            RewardArch::GatedSsm => {
                RewardNet::GatedSsm(GatedSsmRewardNet::new(arms, config.width, config.layers, &device))
            }
            RewardArch::Transformer => RewardNet::Transformer(TransformerRewardNet::new(
                arms,
                config.width,
                config.layers,
                config.heads,
                config.max_rows,
                &device,
            )),
        });
        let optim = AdamWConfig::new().with_weight_decay(config.weight_decay as f32).init();
        BurnRewardModel { config, arms, device, net: Some(net), optim, iteration: 0, seed }
    }

    fn net(&self) -> &RewardNet {
        self.net.as_ref().expect("reward net present between calls")
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        self.net().num_params()
    }

    /// Mean squared error of the current model on a history.
    pub fn mse(&self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> f32 {
        let x = rows_tensor(history, &self.device);
        let t = rows_tensor(targets, &self.device);
        let y = self.net().forward(x, &history_batch(history.len(), &self.device));
        (y - t).powi_scalar(2).mean().into_scalar::<f32>()
    }
}

impl RewardModel for BurnRewardModel {
    fn train(&mut self, history: &[Vec<f32>], targets: &[Vec<f32>]) -> TrainSummary {
        assert_eq!(history.len(), targets.len(), "history rows and reward rows differ in number");
        if history.is_empty() {
            return TrainSummary::default();
        }
        let scaled = scale_targets(targets, self.config.target_rms);
        for _ in 0..self.config.iterations {
            let lr = self.config.learning_rate(self.iteration);
            let picked = training_rows(self.config.row_keep, self.seed, self.iteration, history.len());
            self.iteration += 1;
            let (x, t) =
                (rows_tensor_of(history, &picked, &self.device), rows_tensor_of(&scaled, &picked, &self.device));
            let batch = history_batch(picked.len(), &self.device);
            let net = self.net.take().expect("reward net present");
            let loss = (net.forward(x, &batch) - t).powi_scalar(2).mean();
            let mut grads = GradientsParams::from_grads(loss.backward(), &net);
            clip_global_norm(&mut grads, &net, self.config.grad_clip);
            self.net = Some(self.optim.step(lr, net, grads));
        }
        TrainSummary { iterations: self.config.iterations, final_mse: self.mse(history, &scaled) }
    }

    fn predict(&mut self, history: &[Vec<f32>], candidates: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if candidates.is_empty() {
            return Vec::new();
        }
        let k = self.arms;
        let n = candidates.len();
        let flat: Vec<f32> = candidates.iter().flat_map(|r| r.iter().copied()).collect();
        let out = if history.is_empty() {
            // No history: each candidate is a one-row sequence of its own.
            let rows = Tensor::<3>::from_data(TensorData::new(flat, [n, 1, 2 * k]), &self.device);
            let batch = SequenceBatch::new(
                &vec![0; n],
                &vec![-100; n],
                &(1..=n as i32).map(|_| 1).collect::<Vec<_>>(),
                &vec![3; n],
                n,
                1,
                1,
                &self.device,
            );
            self.net().forward(rows, &batch).reshape([n, k])
        } else {
            let cands = Tensor::<2>::from_data(TensorData::new(flat, [n, 2 * k]), &self.device);
            let x = rows_tensor(history, &self.device);
            self.net().predict(x, &history_batch(history.len(), &self.device), cands)
        };
        let v = out.into_data().try_to_vec::<f32>().expect("f32 predictions");
        v.chunks(k).map(<[f32]>::to_vec).collect()
    }

    fn save(&self) -> Vec<u8> {
        let model = self.net().clone().into_record().into_bytes().expect("serialise the reward model").to_vec();
        let optim = self.optim.to_record().into_bytes().expect("serialise the reward model's optimiser").to_vec();
        let mut out = Vec::with_capacity(model.len() + optim.len() + 32);
        out.extend_from_slice(b"BRDRWM02");
        out.extend_from_slice(&self.iteration.to_le_bytes());
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&(model.len() as u64).to_le_bytes());
        out.extend_from_slice(&model);
        out.extend_from_slice(&optim);
        out
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), RewardStateError> {
        // Version 2: magic, iteration, training-row seed, weights' length; version 1 had no seed.
        let (version, words, rest) = read_state_header(bytes, &[(b"BRDRWM02", 3), (b"BRDRWM01", 2)], "")?;
        let iteration = words[0];
        let seed = if version == 0 { words[1] } else { self.seed };
        let model_len = words[words.len() - 1] as usize;
        let model = rest
            .get(..model_len)
            .ok_or(RewardStateError::Truncated { got: bytes.len(), need: bytes.len() - rest.len() + model_len })?;
        let optim = &rest[model_len..];
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(model.to_vec()))
            .map_err(|e| RewardStateError::Record { part: "weights", message: format!("{e:?}") })?;
        // Load into a copy: a failure leaves the model as it was.
        let net = self
            .net()
            .clone()
            .try_load_record(record)
            .map_err(|e| RewardStateError::Record { part: "weights", message: format!("{e:?}") })?;
        let optim_record =
            burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(optim.to_vec()))
                .map_err(|e| RewardStateError::Record { part: "optimiser", message: format!("{e:?}") })?;
        let fresh = AdamWConfig::new().with_weight_decay(self.config.weight_decay as f32).init();
        self.net = Some(net);
        self.optim = fresh.load_record(optim_record);
        self.iteration = iteration;
        self.seed = seed;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
