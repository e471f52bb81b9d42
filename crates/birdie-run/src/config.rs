//! `TrainConfig`: one training run as a TOML file — model, data, procedure, optimiser, schedule, controller.
//!
//! ```toml
//! total_steps = 300          # every schedule (LR, exploration, evaluations) comes from this
//! seed = 0
//!
//! [model]                    # birdie_models::ModelSpec
//! arch = "hawk"
//! preset = "tiny"
//! bidirectional = true
//!
//! [data]
//! shards = "bundled"         # the bundled corpus (prepared into the cache), or a shard directory
//! tokenizer = "bundled"      # or a tokenizer.json
//! batch_size = 8
//! seq_len = 256
//! validation_rows = 8       # per arm, at every evaluation
//!
//! [procedure]
//! name = "birdie"            # birdie | birdie-causal | ntp | ul2 | ul2-decoder | fixed-ratio | custom
//! # objectives = "my-arms.toml"   (custom: a TOML file of [[arms]])
//!
//! [optimizer]
//! lr = 1e-3
//! betas = [0.9, 0.95]
//! eps = 1e-8
//! weight_decay = 0.1         # not on RG-LRU parameters, the Gated SSM's W_f, norms, biases
//! grad_clip = 1.0            # global norm
//!
//! [schedule]
//! warmup_steps = 20          # linear warm-up, then cosine to min_lr_ratio · lr at total_steps
//! min_lr_ratio = 0.1
//!
//! [checkpoint]
//! every = 100                # and always at the last step of a call
//! keep = 3
//!
//! [controller]               # birdie_core::ControllerConfig (procedures with a controller)
//! [reward_model]             # RewardModelConfig
//!
//! [run]
//! device = "cpu"             # cpu | cuda | cuda:N | wgpu (GPU builds: docs/gpu.md); --device overrides it
//! precision = "f32"          # f32 | bf16 (mixed: bf16 activations, f32 masters and scan state); --precision
//! ```

use std::path::{Path, PathBuf};

use birdie_core::ControllerConfig;
use birdie_models::{DeviceChoice, ModelSpec, Precision};
use serde::{Deserialize, Serialize};

use birdie_core::setting::{check, InvalidSetting};
use birdie_models::ModelError;
use birdie_reward::RewardModelConfig;

/// The training procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Procedure {
    /// The `birdie` objective preset with the reward-driven controller and the bidirectional model.
    Birdie,
    /// `birdie` with the model's bidirectional option off.
    BirdieCausal,
    Ntp,
    Ul2,
    Ul2Decoder,
    FixedRatio,
    /// The arms of `procedure.objectives`, with the controller.
    Custom,
}

impl Procedure {
    /// Whether the controller re-chooses the mixture.
    pub fn uses_controller(self) -> bool {
        matches!(self, Procedure::Birdie | Procedure::BirdieCausal | Procedure::Custom)
    }

    /// The objective preset, for the procedures that have one.
    pub fn objective_preset(self) -> Option<&'static str> {
        match self {
            Procedure::Birdie | Procedure::BirdieCausal => Some("birdie"),
            Procedure::Ntp => Some("ntp"),
            Procedure::Ul2 => Some("ul2"),
            Procedure::Ul2Decoder => Some("ul2-decoder"),
            Procedure::FixedRatio => Some("fixed-ratio"),
            Procedure::Custom => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureConfig {
    pub name: Procedure,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    #[serde(default = "d_bundled")]
    pub shards: String,
    #[serde(default = "d_bundled")]
    pub tokenizer: String,
    #[serde(default = "d_batch")]
    pub batch_size: usize,
    #[serde(default = "d_seq")]
    pub seq_len: usize,
    /// Data worker threads (0 = as many as compute threads: the cores, or the CLI's `--threads`); never changes the
    /// batches.
    #[serde(default)]
    pub workers: usize,
    /// Validation rows per arm at each evaluation (packed like training, design A10).
    #[serde(default = "d_validation_rows")]
    pub validation_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    #[serde(default = "d_lr")]
    pub lr: f64,
    #[serde(default = "d_betas")]
    pub betas: [f64; 2],
    #[serde(default = "d_eps")]
    pub eps: f64,
    #[serde(default = "d_wd")]
    pub weight_decay: f64,
    #[serde(default = "d_clip")]
    pub grad_clip: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    #[serde(default = "d_warmup")]
    pub warmup_steps: u64,
    #[serde(default = "d_min_lr_ratio")]
    pub min_lr_ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    #[serde(default = "d_ckpt_every")]
    pub every: u64,
    #[serde(default = "d_keep")]
    pub keep: usize,
}

/// Where a run computes (`[run]`). Not part of what the run learns: a run may resume on another device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// `cpu` (default), `cuda`, `cuda:N` or `wgpu`; `--device` overrides it.
    #[serde(default)]
    pub device: DeviceChoice,
    /// `f32` (default) or `bf16`: mixed precision, bf16 activations and matrix products over f32 master weights
    /// (`birdie_models::Precision`); the training steps and the validation losses. `--precision` overrides it.
    #[serde(default)]
    pub precision: Precision,
}

impl RunSettings {
    fn is_default(&self) -> bool {
        *self == RunSettings::default()
    }
}

/// A training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub total_steps: u64,
    #[serde(default)]
    pub seed: u64,
    pub model: ModelSpec,
    pub data: DataConfig,
    pub procedure: ProcedureConfig,
    #[serde(default = "d_optimizer")]
    pub optimizer: OptimizerConfig,
    #[serde(default = "d_schedule")]
    pub schedule: ScheduleConfig,
    #[serde(default = "d_checkpoint")]
    pub checkpoint: CheckpointConfig,
    #[serde(default)]
    pub controller: ControllerConfig,
    #[serde(default)]
    pub reward_model: RewardModelConfig,
    #[serde(default, skip_serializing_if = "RunSettings::is_default")]
    pub run: RunSettings,
}

fn d_bundled() -> String {
    "bundled".into()
}
fn d_batch() -> usize {
    8
}
fn d_seq() -> usize {
    256
}
fn d_validation_rows() -> usize {
    8
}
fn d_lr() -> f64 {
    1e-3
}
fn d_betas() -> [f64; 2] {
    [0.9, 0.95]
}
fn d_eps() -> f64 {
    1e-8
}
fn d_wd() -> f64 {
    0.1
}
fn d_clip() -> f64 {
    1.0
}
fn d_warmup() -> u64 {
    20
}
fn d_min_lr_ratio() -> f64 {
    0.1
}
fn d_ckpt_every() -> u64 {
    100
}
fn d_keep() -> usize {
    3
}
fn d_optimizer() -> OptimizerConfig {
    toml::from_str("").expect("defaults parse")
}
fn d_schedule() -> ScheduleConfig {
    toml::from_str("").expect("defaults parse")
}
fn d_checkpoint() -> CheckpointConfig {
    toml::from_str("").expect("defaults parse")
}

/// Errors reading a training config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{path}: {source}")]
    Invalid { path: PathBuf, source: InvalidConfig },
}

/// A config that parses but whose values do not fit together; names the key it rejects.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidConfig {
    #[error(transparent)]
    Setting(#[from] InvalidSetting),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Built-in run presets (`configs/*.toml`).
pub const RUN_PRESETS: [(&str, &str); 8] = [
    ("tiny-hawk-birdie", include_str!("../presets/tiny-hawk-birdie.toml")),
    ("tiny-hawk-birdie-causal", include_str!("../presets/tiny-hawk-birdie-causal.toml")),
    ("tiny-hawk-ntp", include_str!("../presets/tiny-hawk-ntp.toml")),
    ("tiny-gated-ssm-birdie", include_str!("../presets/tiny-gated-ssm-birdie.toml")),
    ("tiny-transformer-birdie", include_str!("../presets/tiny-transformer-birdie.toml")),
    ("small-hawk-birdie", include_str!("../presets/small-hawk-birdie.toml")),
    ("small-hawk-ntp", include_str!("../presets/small-hawk-ntp.toml")),
    ("small-gated-ssm-birdie", include_str!("../presets/small-gated-ssm-birdie.toml")),
];

/// The default run: `tiny-hawk-birdie`.
pub const DEFAULT_PRESET: &str = "tiny-hawk-birdie";

impl TrainConfig {
    /// Parses and checks a config; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let cfg: TrainConfig =
            toml::from_str(text).map_err(|source| ConfigError::Parse { path: origin.to_path_buf(), source })?;
        cfg.validate().map_err(|source| ConfigError::Invalid { path: origin.to_path_buf(), source })?;
        Ok(cfg)
    }

    /// A config file, or a preset name.
    pub fn load(name_or_path: &str) -> Result<Self, ConfigError> {
        if let Some((_, text)) = RUN_PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            return Self::from_toml(text, Path::new(&format!("preset {name_or_path}")));
        }
        let path = Path::new(name_or_path);
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::from_toml(&text, path)
    }

    /// The config of a run directory (`RUN/config.toml`, as the trainer wrote it). A relative `procedure.objectives`
    /// there names the run's own copy of the objectives file, so it is read from the run directory; a run written
    /// before runs kept that copy names a path relative to the working directory, which is kept as it is when the run
    /// directory has no such file.
    pub fn load_run(run_dir: &Path) -> Result<Self, ConfigError> {
        let mut cfg = Self::load(&run_dir.join("config.toml").to_string_lossy())?;
        if let Some(p) = cfg.procedure.objectives.as_mut() {
            if p.is_relative() && run_dir.join(&*p).exists() {
                *p = run_dir.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// Checks values across sections; names the key it rejects.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        check(self.total_steps > 0, "total_steps", 0, "at least 1")?;
        let p = self.procedure.name;
        check(
            !(p == Procedure::BirdieCausal && self.model.bidirectional),
            "model.bidirectional",
            true,
            "false with procedure.name = \"birdie-causal\" (birdie-causal is birdie with the bidirectional option \
             off; use procedure \"birdie\" or set bidirectional = false)",
        )?;
        match (p, &self.procedure.objectives) {
            (Procedure::Custom, None) => check(
                false,
                "procedure.objectives",
                "(absent)",
                "a TOML file of [[arms]] with procedure.name = \"custom\"",
            )?,
            (Procedure::Custom, Some(_)) | (_, None) => {}
            (_, Some(path)) => check(
                false,
                "procedure.objectives",
                path.display(),
                "no objectives file: it is only read with procedure.name = \"custom\"",
            )?,
        }
        let d = &self.data;
        check(d.validation_rows > 0, "data.validation_rows", d.validation_rows, "at least 1")?;
        check(d.batch_size > 0, "data.batch_size", d.batch_size, "at least 1")?;
        check(d.seq_len >= 16, "data.seq_len", d.seq_len, "at least 16 tokens")?;
        let o = &self.optimizer;
        check(o.lr.is_finite() && o.lr > 0.0, "optimizer.lr", o.lr, "a positive number")?;
        let betas = format!("{:?}", o.betas);
        check(o.betas.iter().all(|b| (0.0..1.0).contains(b)), "optimizer.betas", betas, "two values in [0, 1)")?;
        check(o.weight_decay >= 0.0, "optimizer.weight_decay", o.weight_decay, "a value ≥ 0")?;
        check(o.grad_clip >= 0.0, "optimizer.grad_clip", o.grad_clip, "a value ≥ 0 (0 = no clipping)")?;
        check(o.eps > 0.0, "optimizer.eps", o.eps, "a positive number")?;
        let r = self.schedule.min_lr_ratio;
        check((0.0..=1.0).contains(&r), "schedule.min_lr_ratio", r, "a value in [0, 1]")?;
        check(self.checkpoint.every > 0, "checkpoint.every", 0, "at least 1")?;
        check(self.checkpoint.keep > 0, "checkpoint.keep", 0, "at least 1")?;
        self.model.resolve(512, self.data.seq_len)?;
        self.controller.validate()?;
        self.reward_model.validate()?;
        Ok(())
    }

    /// The learning rate at `step` (0-based): linear warm-up to `lr`, then cosine to `min_lr_ratio · lr` at
    /// `total_steps`.
    pub fn learning_rate(&self, step: u64) -> f64 {
        warmup_cosine(self.optimizer.lr, self.schedule.warmup_steps, self.total_steps, self.schedule.min_lr_ratio, step)
    }

    /// The config as TOML with every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a config serialises")
    }
}

/// Linear warmup to `peak` over `warmup` steps, then cosine decay to `peak · min_ratio` at step `total`.
pub fn warmup_cosine(peak: f64, warmup: u64, total: u64, min_ratio: f64, step: u64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let t = ((step - warmup) as f64 / span).min(1.0);
    let min = peak * min_ratio;
    min + (peak - min) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_round_trips() {
        for (name, _) in RUN_PRESETS {
            let cfg = TrainConfig::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let again = TrainConfig::from_toml(&cfg.to_toml(), Path::new("round trip")).unwrap();
            assert_eq!(again, cfg, "{name}");
        }
        let d = TrainConfig::load(DEFAULT_PRESET).unwrap();
        assert_eq!((d.model.arch.as_str(), d.model.preset.as_str(), d.model.bidirectional), ("hawk", "tiny", true));
        assert_eq!(d.procedure.name, Procedure::Birdie);
    }

    #[test]
    fn invalid_configs_name_the_key() {
        let base = TrainConfig::load(DEFAULT_PRESET).unwrap().to_toml();
        let err = |edit: &dyn Fn(&str) -> String| {
            TrainConfig::from_toml(&edit(&base), Path::new("x.toml")).unwrap_err().to_string()
        };
        assert!(err(&|b| b.replace("name = \"birdie\"", "name = \"birdie-causal\"")).contains("birdie-causal"));
        assert!(err(&|b| b.replace("name = \"birdie\"", "name = \"custom\"")).contains("procedure.objectives"));
        assert!(err(&|b| b.replace("total_steps = ", "total_steps = 0 #")).contains("total_steps"));
        assert!(err(&|b| b.replace("lr = 0.001", "lr = -1.0")).contains("optimizer.lr"));
        assert!(err(&|b| b.replace("[optimizer]", "[optimizer]\nmomentum = 0.9")).contains("momentum"));
        assert!(err(&|b| b.replace("preset = \"tiny\"", "preset = \"huge\"")).contains("huge"));
        assert!(err(&|b| b.replace("[optimizer]", "[optimiser]")).contains("optimiser"));
    }

    #[test]
    fn architecture_errors_name_the_key_and_list_every_allowed_value() {
        let base = TrainConfig::load(DEFAULT_PRESET).unwrap().to_toml();
        let err = |from: &str, to: &str| {
            assert_eq!(base.matches(from).count(), 1, "{from}");
            TrainConfig::from_toml(&base.replace(from, to), Path::new("x.toml")).unwrap_err().to_string()
        };
        let model = err("arch = \"hawk\"", "arch = \"mamba\"");
        for needle in ["model.arch", "mamba", "hawk", "gated-ssm", "transformer", "toy"] {
            assert!(model.contains(needle), "{needle}: {model}");
        }
        // The reward model's own architecture key says whose it is, and where the trained model's is set.
        let reward = err("arch = \"gated-ssm\"", "arch = \"mamba\"");
        for needle in ["reward_model.arch", "mamba", "gated-ssm or transformer", "model.arch: hawk"] {
            assert!(reward.contains(needle), "{needle}: {reward}");
        }
    }

    #[test]
    fn learning_rate_warms_up_then_decays_to_the_floor() {
        let mut c = TrainConfig::load(DEFAULT_PRESET).unwrap();
        c.total_steps = 120;
        c.schedule.warmup_steps = 20;
        c.optimizer.lr = 1e-3;
        assert!((c.learning_rate(0) - 5e-5).abs() < 1e-12);
        assert!((c.learning_rate(19) - 1e-3).abs() < 1e-12);
        assert!((c.learning_rate(20) - 1e-3).abs() < 1e-12);
        assert!((c.learning_rate(70) - 5.5e-4).abs() < 1e-9);
        assert!((c.learning_rate(120) - 1e-4).abs() < 1e-12);
        assert!((c.learning_rate(500) - 1e-4).abs() < 1e-12);
    }
}
