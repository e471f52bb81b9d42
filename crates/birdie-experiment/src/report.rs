//! The experiment's report: `results.json` (every measured number, one record per run × task × metric × setting),
//! `report.md` built from that file alone (tables of means with 95% confidence intervals over seeds, and paired
//! comparisons against the reference variant), and plots under `plots/`.
//!
//! - [`results`]: the `results.json` schema and the queries the tables use.
//! - [`collect`]: gathers it from the run directories (absent results are listed as missing, not errors).
//! - [`markdown`]: writes `report.md`.
//! - [`plots`]: the charts (SVG + PNG through birdie-train's plot scenes).

pub mod collect;
pub mod markdown;
pub mod plots;
pub mod results;

use std::path::{Path, PathBuf};

pub use results::{LrChoice, MissingRun, Record, Results, TaskInfo, VariantInfo};

use crate::file::{Experiment, ExperimentError};
use crate::grid::{self, RunSpec};

/// What can stop the report, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    #[error("{root}: cannot tell each variant's learning rate: {source}")]
    LrChoice { root: PathBuf, source: grid::MissingPpl },
    /// A malformed `eval/TASK.json` (the error names the file).
    #[error(transparent)]
    Eval(#[from] birdie_eval::report::ReportFileError),
    #[error("{path}:{line}: {message}")]
    Metrics { path: PathBuf, line: usize, message: String },
    #[error("{path}:{line}: not a JSON line: {source}")]
    MetricsJson { path: PathBuf, line: usize, source: serde_json::Error },
    #[error("{path}: not a results file ({message})")]
    Results { path: PathBuf, message: String },
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

/// What [`write_report`] wrote and found.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    pub results_json: PathBuf,
    pub report_md: PathBuf,
    /// Files under `plots/`.
    pub plots: Vec<PathBuf>,
    /// Comparison runs with every result, and with some missing (listed in `report.md`).
    pub runs_found: usize,
    pub runs_missing: usize,
    pub records: usize,
}

impl std::fmt::Display for ReportSummary {
    /// What the CLI prints: the files written and how complete the grid is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.runs_found + self.runs_missing;
        writeln!(f, "{}: {} records from {runs} runs", self.results_json.display(), self.records)?;
        if self.runs_missing > 0 {
            writeln!(f, "  {} of {runs} runs lack results (listed in report.md)", self.runs_missing)?;
        }
        writeln!(f, "{}", self.report_md.display())?;
        let dir = self.plots.first().and_then(|p| p.parent()).map(|d| d.display().to_string()).unwrap_or_default();
        write!(f, "{}: {} plot files", dir, self.plots.len())
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io { action, path, source }
}

/// Writes `results.json`, `report.md` and `plots/` for the experiment directory `root` (which holds
/// `experiment.toml` and `runs/`).
pub fn write_report(root: &Path) -> Result<ReportSummary, ReportError> {
    let exp = Experiment::load(&root.join("experiment.toml"))?;
    let lrs = grid::chosen_lrs(&exp, root).map_err(|source| ReportError::LrChoice { root: root.into(), source })?;
    let results_json = root.join("results.json");
    write_results(&results_json, &collect::results(&exp, root, &lrs)?)?;
    // Everything below is built from the file as written.
    let results = read_results(&results_json)?;
    let plots = write_plots(&exp, root, &lrs, &results)?;
    let links: Vec<String> = plots
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
        .collect();
    let findings_md = root.join("findings.md");
    let findings = match std::fs::read_to_string(&findings_md) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("reading", &findings_md)(e)),
    };
    let report_md = root.join("report.md");
    std::fs::write(&report_md, markdown::render(&results, &links, findings.as_deref()))
        .map_err(io("writing", &report_md))?;
    let runs = exp.seeds.len() * exp.variants.len();
    Ok(ReportSummary {
        results_json,
        report_md,
        plots,
        runs_found: runs - results.missing.len(),
        runs_missing: results.missing.len(),
        records: results.records.len(),
    })
}

/// Writes `results` as pretty JSON (deterministic: the same runs give the same bytes).
pub fn write_results(path: &Path, results: &Results) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(results).expect("results serialise") + "\n";
    std::fs::write(path, text).map_err(io("writing", path))
}

/// Reads a `results.json`.
pub fn read_results(path: &Path) -> Result<Results, ReportError> {
    let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
    serde_json::from_str(&text).map_err(|e| ReportError::Results { path: path.into(), message: e.to_string() })
}

/// `plots/validation_loss`, `plots/evals` and the controller variants' `plots/mixture-VARIANT`; returns the files.
fn write_plots(exp: &Experiment, root: &Path, lrs: &[f64], results: &Results) -> Result<Vec<PathBuf>, ReportError> {
    let dir = root.join("plots");
    std::fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
    let mut curves = Vec::new();
    for (v, variant) in exp.variants.iter().enumerate() {
        let runs = exp.seeds.iter().map(|&seed| RunSpec::new(exp, v, seed, lrs[v]));
        let per_seed = runs.map(|r| collect::validation_curve(&r.dir(root).join("metrics.jsonl")));
        curves.push((variant.name.clone(), per_seed.collect::<Result<Vec<_>, _>>()?));
    }
    let mut written = plots::save(&dir, "validation_loss", &plots::validation_loss(&curves))?;
    if let Some(bars) = plots::eval_bars(results) {
        written.extend(plots::save(&dir, "evals", &bars)?);
    }
    written.extend(copy_mixtures(exp, root, lrs, &dir)?);
    Ok(written)
}

/// Copies each controller variant's first-seed `mixture.{png,svg}` to `plots/mixture-VARIANT.*`, where present.
fn copy_mixtures(exp: &Experiment, root: &Path, lrs: &[f64], dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for (v, variant) in exp.variants.iter().enumerate() {
        let controller = exp.config(v, exp.seeds[0], lrs[v]).is_ok_and(|c| c.procedure.name.uses_controller());
        if !controller {
            continue;
        }
        let run = RunSpec::new(exp, v, exp.seeds[0], lrs[v]).dir(root);
        for ext in ["png", "svg"] {
            let from = run.join(format!("mixture.{ext}"));
            if from.is_file() {
                let to = dir.join(format!("mixture-{}.{ext}", variant.name));
                std::fs::copy(&from, &to).map_err(io("copying", &from))?;
                written.push(to);
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
