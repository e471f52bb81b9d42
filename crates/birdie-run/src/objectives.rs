//! The arms a run's procedure trains on: a shipped objective preset, or a `custom` procedure's objectives file.

use std::path::PathBuf;

use birdie_core::config::{arms_from_toml, preset};
use birdie_core::Arm;

use crate::TrainConfig;

/// Why a run's arms could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectivesError {
    #[error("procedure.objectives = {path}: reading it: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Arms(#[from] birdie_core::config::ConfigError),
}

/// The arms of a run's procedure.
pub fn procedure_arms(config: &TrainConfig) -> Result<Vec<Arm>, ObjectivesError> {
    match config.procedure.name.objective_preset() {
        Some(name) => Ok(preset(name)?),
        None => {
            let path = config.procedure.objectives.as_ref().expect("validated: custom has objectives");
            let text =
                std::fs::read_to_string(path).map_err(|source| ObjectivesError::Read { path: path.clone(), source })?;
            Ok(arms_from_toml(&text, &path.display().to_string())?)
        }
    }
}
