//! Writing a checkpoint of a run under way (the layout is [`birdie_run::checkpoint`]'s).

use std::collections::BTreeMap;
use std::path::Path;

use birdie_run::checkpoint::{self, TrainerState};

use super::{TrainError, Training};

/// Writes `RUN/checkpoints/step-N` for the steps completed so far, keeping the last `checkpoint.keep`.
pub(super) fn save(t: &Training, run_dir: &Path) -> Result<(), TrainError> {
    let done = t.completed;
    let state = TrainerState {
        format: checkpoint::FORMAT,
        step: done,
        tokens: t.tokens,
        pipeline: t.pipeline.state().clone(),
        controller: t.controller.as_ref().map(|c| c.save().0),
    };
    checkpoint::save(run_dir, done, t.config.checkpoint.keep, |tmp| {
        let meta =
            BTreeMap::from([("format".to_string(), "pt".to_string()), ("birdie_step".to_string(), done.to_string())]);
        birdie_run::safetensors::write(t.model(), &tmp.join("model.safetensors"), &meta)
            .map_err(std::io::Error::other)?;
        let optim_bytes = t.optimizer.to_record().into_bytes().map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        checkpoint::write_synced(&tmp.join("optimizer.bpk"), &optim_bytes)?;
        if let Some(c) = t.controller.as_ref() {
            checkpoint::write_synced(&tmp.join("reward_model.bin"), &c.save().1)?;
        }
        let json = serde_json::to_vec(&state).expect("trainer state serialises");
        checkpoint::write_synced(&tmp.join("trainer.json"), &json)
    })
    .map_err(TrainError::write(&run_dir.join("checkpoints")))?;
    Ok(())
}
