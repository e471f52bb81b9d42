//! [`TrainError`]: what stops training, each naming the file, key or value concerned.

use std::path::PathBuf;

use birdie_core::controller::ControllerError;
use birdie_core::PipelineError;
use birdie_data::ShardError;
use birdie_models::ModelError;
use birdie_run::ObjectivesError;

use super::RestoreError;

/// Errors that stop training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Objectives(#[from] ObjectivesError),
    #[error("[run] device: {0}")]
    Device(#[from] birdie_models::DeviceError),
    #[error("[run] precision: {0}")]
    Precision(#[from] birdie_models::PrecisionError),
    #[error("data.seq_len = {seq_len} is shorter than arm {arm}'s minimum sample of {need} tokens")]
    SeqLenTooShort { seq_len: usize, arm: String, need: usize },
    #[error("data: {0}")]
    Shards(#[from] ShardError),
    #[error("data: {0}")]
    Pipeline(#[from] PipelineError),
    #[error("controller: {0}")]
    Controller(#[from] ControllerError),
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("--resume: no checkpoint under {0}")]
    NoCheckpoint(PathBuf),
    #[error("--resume: no usable checkpoint: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    NoUsableCheckpoint(Vec<RestoreError>),
    #[error(
        "the loss or the gradient norm was not finite for {0} steps in a row (last at step {1}); lower optimizer.lr \
         or check the data"
    )]
    Diverged(usize, u64),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("plotting the run: {0}")]
    Plot(#[from] crate::run_plots::RunPlotError),
}

impl TrainError {
    /// An error writing `path`.
    pub(super) fn write(path: &std::path::Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
        move |source| TrainError::Write { path: path.to_path_buf(), source }
    }
}
