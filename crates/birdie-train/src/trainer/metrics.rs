//! `metrics.jsonl`: one [`StepMetrics`] line per step.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::TrainError;

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub step: u64,
    pub train_loss: f64,
    pub lr: f64,
    /// Tokens (input positions) seen so far.
    pub tokens: u64,
    pub tokens_per_s: f64,
    pub grad_norm: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalMetrics>,
}

/// What an evaluation step adds.
#[derive(Debug, Clone, Serialize)]
pub struct EvalMetrics {
    /// Per-arm validation loss (mean over label tokens), by arm name (`null` where it was not finite).
    pub val_loss: Vec<(String, f64)>,
    /// Arms whose validation loss was not finite: missing at this evaluation (no reward across it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The batch-weighted mixture the interval ending here trained on (the controller's recorded action).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trained_on: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewards: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saturated_share: Option<f64>,
    pub mixture: Vec<f64>,
    pub agent: bool,
    pub explored: bool,
    pub controller_seconds: f64,
}

/// The run's `metrics.jsonl`, open for appending.
pub(super) struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Opens `RUN/metrics.jsonl` for a run continuing after step `from`: the lines up to it are kept (the steps after
    /// a checkpoint are run again), the rest dropped; a fresh run (`from` = 0) starts an empty file.
    pub(super) fn open(run_dir: &Path, from: u64) -> Result<Self, TrainError> {
        let path = run_dir.join("metrics.jsonl");
        let kept: String = if from == 0 {
            String::new()
        } else {
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            old.lines()
                .filter(|l| {
                    serde_json::from_str::<serde_json::Value>(l)
                        .ok()
                        .and_then(|v| v["step"].as_u64())
                        .is_some_and(|s| s <= from)
                })
                .map(|l| format!("{l}\n"))
                .collect()
        };
        std::fs::write(&path, kept).map_err(TrainError::write(&path))?;
        let file = std::fs::OpenOptions::new().append(true).open(&path).map_err(TrainError::write(&path))?;
        Ok(MetricsLog { path, file })
    }

    pub(super) fn append(&mut self, m: &StepMetrics) -> Result<(), TrainError> {
        let line = serde_json::to_string(m).expect("metrics serialise");
        writeln!(self.file, "{line}").map_err(TrainError::write(&self.path))
    }
}
