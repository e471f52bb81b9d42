//! `--resume`: the newest checkpoint that loads completely; a damaged one is reported (naming the file) and the
//! previous one is used.

use std::path::{Path, PathBuf};

use birdie_core::Controller;
use birdie_models::Model;
use birdie_run::checkpoint::{self, TrainerState};
use burn::optim::ModuleOptimizer;

use super::TrainError;

/// The model, optimiser and controller restored from the newest usable checkpoint of `run_dir`, with its trainer
/// state.
pub(super) fn latest(
    run_dir: &Path,
    model: Model,
    optim: ModuleOptimizer,
    mut controller: Option<&mut Controller>,
) -> Result<(Model, ModuleOptimizer, TrainerState), TrainError> {
    let all = checkpoint::all(run_dir);
    if all.is_empty() {
        return Err(TrainError::NoCheckpoint(run_dir.join("checkpoints")));
    }
    let mut errors = Vec::new();
    for (_, dir) in all {
        match restore(&dir, model.clone(), optim.clone(), controller.as_deref_mut()) {
            Ok(restored) => {
                if !errors.is_empty() {
                    let skipped: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    tracing::warn!("{}; resuming from {}", skipped.join("; "), dir.display());
                }
                return Ok(restored);
            }
            Err(e) => errors.push(e),
        }
    }
    Err(TrainError::NoUsableCheckpoint(errors))
}

/// Loads a checkpoint into copies of the model and optimiser and into the controller; every file is read and
/// checked before anything is applied, so a damaged checkpoint changes nothing. Errors name the file.
fn restore(
    dir: &Path,
    model: Model,
    optim: ModuleOptimizer,
    controller: Option<&mut Controller>,
) -> Result<(Model, ModuleOptimizer, TrainerState), RestoreError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| RestoreError::Io { path, source })
    };
    let state_path = dir.join("trainer.json");
    let state: TrainerState = serde_json::from_slice(&read("trainer.json")?)
        .map_err(|source| RestoreError::State { path: state_path.clone(), source })?;
    let optim_record =
        burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(read("optimizer.bpk")?))
            .map_err(|e| RestoreError::Optimizer { path: dir.join("optimizer.bpk"), message: format!("{e:?}") })?;
    let model = birdie_run::safetensors::load_into(model, &dir.join("model.safetensors"))?;
    if let Some(c) = controller {
        let cstate = state.controller.clone().ok_or(RestoreError::NoControllerState(state_path))?;
        let bytes = read("reward_model.bin")?;
        c.restore(cstate, &bytes)
            .map_err(|source| RestoreError::Controller { path: dir.join("reward_model.bin"), source })?;
    }
    Ok((model, optim.load_record(optim_record), state))
}

/// Why a checkpoint could not be restored; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a trainer state: {source}")]
    State { path: PathBuf, source: serde_json::Error },
    /// burn's record error, which is not an error type, as its debug text.
    #[error("{path}: not an optimiser record: {message}")]
    Optimizer { path: PathBuf, message: String },
    #[error(transparent)]
    Weights(#[from] birdie_run::safetensors::SafetensorsError),
    #[error("{0}: no controller state")]
    NoControllerState(PathBuf),
    #[error("{path}: {source}")]
    Controller { path: PathBuf, source: birdie_core::controller::ControllerError },
}
