//! [`Settings`]: what the Python package passes for a run, already translated from the reference's config keys.

use birdie_core::config::{arms_from_toml, import_birdie_rl, preset};
use birdie_core::setting::{check, InvalidSetting};
use birdie_core::{Arm, ControllerConfig, PipelineConfig};
use birdie_reward::{RewardArch, RewardModelConfig};
use serde::Deserialize;

/// Where the objectives come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Objectives {
    /// A shipped mixture: birdie, ul2, ul2-decoder, ntp, fixed-ratio.
    Preset { name: String },
    /// A TOML document of `[[arms]]`; `name` names it in errors.
    Toml { text: String, name: String },
    /// The reference implementation's list of objective dictionaries, as JSON.
    BirdieRl { json: String, name: String },
}

/// A run's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub batch_size: usize,
    pub seq_len: usize,
    pub seed: u64,
    /// Data worker threads (0 = one per core); never changes the batches.
    pub workers: usize,
    /// Training steps of the run (the controller's schedules are laid out over it).
    pub total_steps: u64,
    /// Evaluate every this many steps (None: the paper's schedule compressed to the run).
    pub eval_every: Option<u64>,
    /// Validation rows per objective at each evaluation.
    pub validation_rows: usize,
    pub objectives: Objectives,
    /// Re-choose the mixture at evaluations (false: the objectives' fixed probabilities).
    pub controller: bool,
    #[serde(default)]
    pub controller_config: ControllerConfig,
    #[serde(default)]
    pub reward_model: RewardModelConfig,
    pub rank: usize,
    pub world_size: usize,
}

impl Settings {
    /// Parses the JSON the package writes; an error in a nested table names it (`reward_model: unknown field …`).
    pub fn from_json(text: &str) -> Result<Settings, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for key in ["controller_config", "reward_model"] {
            if let Some(v) = value.get(key) {
                let checked = if key == "reward_model" {
                    serde_json::from_value::<RewardModelConfig>(v.clone()).map(drop)
                } else {
                    serde_json::from_value::<ControllerConfig>(v.clone()).map(drop)
                };
                checked.map_err(|e| format!("{key}: {e}"))?;
            }
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    /// Checks values; the keys named are the Python config's.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check(self.batch_size > 0, "batch_size", self.batch_size, "at least 1")?;
        check(self.seq_len >= 16, "sequence_length", self.seq_len, "at least 16 tokens")?;
        check(self.total_steps > 0, "num_steps", self.total_steps, "at least 1")?;
        check(self.validation_rows > 0, "validation_rows", self.validation_rows, "at least 1")?;
        check(self.world_size > 0, "world_size", self.world_size, "at least 1")?;
        check(self.rank < self.world_size, "rank", self.rank, &format!("below world_size = {}", self.world_size))?;
        if let Some(n) = self.eval_every {
            check(n > 0, "steps_between_evaluations", n, "at least 1")?;
        }
        check(
            self.reward_model.arch == RewardArch::GatedSsm,
            "reward_model.arch",
            "transformer",
            "gated-ssm (the Transformer reward model needs birdie's burn build; the package carries the explicit \
             Gated-SSM network)",
        )?;
        self.controller_config.validate()?;
        self.reward_model.validate()
    }

    /// The arms the objectives name.
    pub fn arms(&self) -> Result<Vec<Arm>, birdie_core::config::ConfigError> {
        match &self.objectives {
            Objectives::Preset { name } => preset(name),
            Objectives::Toml { text, name } => arms_from_toml(text, name),
            Objectives::BirdieRl { json, name } => Ok(import_birdie_rl(json, name)?.0),
        }
    }

    /// The controller's settings, with `eval_every` as its schedule (an evaluation at step 0, then every
    /// `eval_every` steps) unless the controller settings give their own steps.
    pub fn controller_settings(&self) -> ControllerConfig {
        let mut c = self.controller_config.clone();
        if let (Some(n), None) = (self.eval_every, &c.eval_steps) {
            c.eval_steps = Some(vec![0]);
            c.eval_every = Some(n);
        }
        c
    }

    /// The pipeline's shape.
    pub fn pipeline_config(&self) -> PipelineConfig {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = if self.workers == 0 { cores } else { self.workers };
        PipelineConfig {
            batch_size: self.batch_size,
            seq_len: self.seq_len,
            seed: self.seed,
            workers,
            ..PipelineConfig::default()
        }
    }
}
