//! The run's plots, drawn from `metrics.jsonl` into the run directory as SVG and PNG: training loss, per-arm
//! validation loss, and the mixture over time as a stacked area chart.

use std::path::{Path, PathBuf};

use birdie_plot::{line_chart, save, stacked_area, Scene};
use serde_json::Value;

/// Why a run's plots could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RunPlotError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: not a metrics record: {source}")]
    Metrics { path: PathBuf, line: usize, source: serde_json::Error },
}

/// Renders `training_loss`, `validation_loss` and `mixture`, each as `.svg` and `.png`, into `run_dir` from its
/// `metrics.jsonl`; returns the files written.
pub fn render_run(run_dir: &Path) -> Result<Vec<PathBuf>, RunPlotError> {
    let path = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|source| RunPlotError::Io { path: path.clone(), source })?;
    let mut lines = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(l).map_err(|source| RunPlotError::Metrics {
            path: path.clone(),
            line: i + 1,
            source,
        })?;
        lines.push(v);
    }
    let train: Vec<(f64, f64)> =
        lines.iter().filter_map(|m| Some((m["step"].as_f64()?, m["train_loss"].as_f64()?))).collect();
    let evals: Vec<&Value> = lines.iter().filter(|m| m.get("eval").is_some()).collect();
    let names: Vec<String> = evals
        .first()
        .and_then(|e| e["eval"]["val_loss"].as_array())
        .map(|a| a.iter().filter_map(|p| p[0].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let steps: Vec<f64> = evals.iter().filter_map(|m| m["step"].as_f64()).collect();
    let per_arm = |key: &str, pick: &dyn Fn(&Value, usize) -> Option<f64>| -> Vec<(String, Vec<f64>)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), evals.iter().map(|m| pick(&m["eval"][key], i).unwrap_or(f64::NAN)).collect()))
            .collect()
    };
    let val = per_arm("val_loss", &|v, i| v.get(i)?.get(1)?.as_f64());
    let mix = per_arm("mixture", &|v, i| v.get(i)?.as_f64());
    let mut written = Vec::new();
    let mut save = |name: &str, scene: Scene| -> Result<(), RunPlotError> {
        written.extend(save(run_dir, name, &scene).map_err(|(path, source)| RunPlotError::Io { path, source })?);
        Ok(())
    };
    save(
        "training_loss",
        line_chart("Training loss", "step", "loss (nats per label token)", &[("train".into(), train)]),
    )?;
    let val_series: Vec<(String, Vec<(f64, f64)>)> =
        val.iter().map(|(n, v)| (n.clone(), steps.iter().copied().zip(v.iter().copied()).collect())).collect();
    save("validation_loss", line_chart("Validation loss per arm", "step", "loss (nats per label token)", &val_series))?;
    save("mixture", stacked_area("Objective mixture", "step", &steps, &mix))?;
    Ok(written)
}
