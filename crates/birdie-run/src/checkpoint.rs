//! Checkpoints: `checkpoints/step-NNNNNNNN/` in the run directory with `model.safetensors` (weights, with parameter
//! ids in the metadata), `optimizer.bpk` (AdamW moments), `reward_model.bin` (the controller's model and optimiser)
//! and `trainer.json` (step, tokens, pipeline state, controller state). Written into a temporary directory, each file
//! fsynced, then renamed into place (a crash never leaves a half checkpoint under a real name); the last `keep` are
//! kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use birdie_core::{ControllerState, PipelineState};
use serde::{Deserialize, Serialize};

/// The trainer's part of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    pub format: u32,
    /// Steps completed.
    pub step: u64,
    pub tokens: u64,
    pub pipeline: PipelineState,
    pub controller: Option<ControllerState>,
}

pub const FORMAT: u32 = 1;

/// Directory of the checkpoint at `step`.
pub fn checkpoint_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join("checkpoints").join(format!("step-{step:08}"))
}

/// Every checkpoint (a `step-N` directory with a `trainer.json`), newest first.
pub fn all(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join("checkpoints")) else { return Vec::new() };
    let mut v: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix("step-")?.parse::<u64>().ok()?;
            e.path().join("trainer.json").exists().then(|| (step, e.path()))
        })
        .collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.0));
    v
}

/// The checkpoint with the highest step, if any.
pub fn latest(run_dir: &Path) -> Option<(u64, PathBuf)> {
    all(run_dir).into_iter().next()
}

/// Writes one file and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a checkpoint atomically: `fill` writes the files into the temporary directory it is given.
pub fn save(
    run_dir: &Path,
    step: u64,
    keep: usize,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    let root = run_dir.join("checkpoints");
    std::fs::create_dir_all(&root)?;
    let tmp = root.join(format!(".tmp-step-{step:08}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    fill(&tmp)?;
    let dest = checkpoint_dir(run_dir, step);
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::rename(&tmp, &dest)?;
    if let Ok(d) = std::fs::File::open(&root) {
        d.sync_all().ok(); // directory fsync is not supported everywhere
    }
    prune(&root, keep)?;
    Ok(dest)
}

/// Removes all but the newest `keep` checkpoints.
fn prune(root: &Path, keep: usize) -> std::io::Result<()> {
    let mut steps: BTreeMap<u64, PathBuf> = BTreeMap::new();
    for e in std::fs::read_dir(root)?.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(s) = name.strip_prefix("step-").and_then(|s| s.parse::<u64>().ok()) {
            steps.insert(s, e.path());
        }
    }
    let n = steps.len();
    for (_, path) in steps.into_iter().take(n.saturating_sub(keep.max(1))) {
        std::fs::remove_dir_all(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_save_latest_and_pruning() {
        let dir = std::env::temp_dir().join(format!("birdie-ckpt-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        for step in [10u64, 20, 30, 40] {
            save(&dir, step, 2, |tmp| write_synced(&tmp.join("trainer.json"), step.to_string().as_bytes())).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["step-00000030", "step-00000040"]);
        assert_eq!(latest(&dir).unwrap().0, 40);
        // A failed write leaves only a temporary directory, never a checkpoint under a real name.
        let err = save(&dir, 50, 2, |_| Err(std::io::Error::other("disk full")));
        assert!(err.is_err());
        assert_eq!(latest(&dir).unwrap().0, 40);
        std::fs::remove_dir_all(&dir).ok();
    }
}
