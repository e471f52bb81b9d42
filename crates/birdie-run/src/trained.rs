//! A trained model opened from a run directory (its newest checkpoint) or from one checkpoint directory: the run's
//! resolved config, its tokenizer and the weights — what generation and the evaluation suite start from.

use std::path::{Path, PathBuf};

use birdie_data::{Tokenizer, TokenizerError};
use birdie_models::{Model, ModelError};
use burn::prelude::*;

use crate::config::ConfigError;
use crate::safetensors::SafetensorsError;
use crate::{checkpoint, TrainConfig};

/// Positions the opened model accepts (sizes the Transformer's RoPE table only; no weights depend on it), so
/// evaluation prompts may be longer than the training rows.
pub const EVAL_MAX_POSITIONS: usize = 32_768;

/// A model with everything needed to use it.
pub struct TrainedModel {
    /// The run directory (holds `config.toml`).
    pub run_dir: PathBuf,
    /// The checkpoint directory the weights came from.
    pub checkpoint: PathBuf,
    pub config: TrainConfig,
    pub tokenizer: Tokenizer,
    pub model: Model,
}

/// Why a trained model could not be opened; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}: neither a checkpoint nor a run directory with checkpoints/")]
    NotARun(PathBuf),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: data.tokenizer: {source}")]
    Tokenizer { path: PathBuf, source: TokenizerError },
    #[error("{path}: {source}")]
    Model { path: PathBuf, source: ModelError },
    #[error(transparent)]
    Weights(#[from] SafetensorsError),
}

/// (run directory, checkpoint directory) of a run directory (its newest checkpoint) or of a checkpoint directory.
pub fn locate(path: &Path) -> Result<(PathBuf, PathBuf), OpenError> {
    if path.join("model.safetensors").exists() {
        let run = path.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        return Ok((run, path.to_path_buf()));
    }
    let (_, dir) = checkpoint::latest(path).ok_or_else(|| OpenError::NotARun(path.into()))?;
    Ok((path.to_path_buf(), dir))
}

impl TrainedModel {
    /// Opens `path` (run or checkpoint directory).
    pub fn open(path: &Path, device: &Device) -> Result<Self, OpenError> {
        let (run_dir, checkpoint) = locate(path)?;
        let config_path = run_dir.join("config.toml");
        let config = TrainConfig::load_run(&run_dir)?;
        let tokenizer = match config.data.tokenizer.as_str() {
            "bundled" => Tokenizer::bundled(),
            p => Tokenizer::from_file(Path::new(p)),
        }
        .map_err(|source| OpenError::Tokenizer { path: config_path.clone(), source })?;
        let vocab = config.model.vocab_size(tokenizer.vocab_size());
        let model_cfg = config
            .model
            .resolve(vocab, config.data.seq_len.max(EVAL_MAX_POSITIONS))
            .map_err(|source| OpenError::Model { path: config_path.clone(), source })?;
        let model = crate::safetensors::load_into(model_cfg.init(device), &checkpoint.join("model.safetensors"))?;
        Ok(TrainedModel { run_dir, checkpoint, config, tokenizer, model })
    }
}
