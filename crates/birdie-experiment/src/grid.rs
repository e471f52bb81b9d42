//! The runs of an experiment and where they live.
//!
//! With one learning rate, the runs are every variant × every seed. With several, a sweep comes first: every
//! variant × the first `sweep_seeds` seeds × every learning rate; each variant's learning rate is then the one whose
//! sweep runs have the lowest next-token loss on held-out text (the `ppl` task's overall loss, mean over the sweep
//! seeds) — never a retrieval score — and the remaining seeds train at that rate. The sweep runs at the chosen rate
//! are the first seeds' runs of the comparison.

use std::path::{Path, PathBuf};

use birdie_eval::report::EvalReport;

use crate::file::Experiment;

/// One training run of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// `VARIANT-sSEED-lrLR`, e.g. `birdie-s0-lr1e-3`: the run's directory under `runs/`.
    pub name: String,
    /// Index into [`Experiment::variants`].
    pub variant: usize,
    pub seed: u64,
    pub lr: f64,
}

impl RunSpec {
    pub fn new(exp: &Experiment, variant: usize, seed: u64, lr: f64) -> Self {
        RunSpec { name: format!("{}-s{seed}-lr{lr:e}", exp.variants[variant].name), variant, seed, lr }
    }

    /// The run directory under the experiment directory `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join("runs").join(&self.name)
    }
}

/// Whether the experiment sweeps learning rates.
pub fn has_sweep(exp: &Experiment) -> bool {
    exp.lrs.len() > 1
}

/// The sweep runs (empty without a sweep), in training order.
pub fn sweep_runs(exp: &Experiment) -> Vec<RunSpec> {
    if !has_sweep(exp) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for &seed in &exp.seeds[..exp.sweep_seeds] {
        for v in 0..exp.variants.len() {
            for &lr in &exp.lrs {
                out.push(RunSpec::new(exp, v, seed, lr));
            }
        }
    }
    out
}

/// The runs of the comparison: every variant × every seed at the variant's learning rate `lrs[v]`, seed-major (so
/// an interrupted grid has whole seeds of every variant first).
pub fn comparison_runs(exp: &Experiment, lrs: &[f64]) -> Vec<RunSpec> {
    let mut out = Vec::new();
    for &seed in &exp.seeds {
        for (v, &lr) in lrs.iter().enumerate() {
            out.push(RunSpec::new(exp, v, seed, lr));
        }
    }
    out
}

/// The overall `ppl` loss of a run, if evaluated.
pub fn ppl_loss(root: &Path, run: &RunSpec) -> Option<f64> {
    let r = EvalReport::read(&run.dir(root).join("eval").join("ppl.json")).ok()?;
    r.results.iter().find(|m| m.metric == "loss" && m.setting == "all").map(|m| m.value)
}

/// A learning-rate sweep run without the `ppl` result the choice needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{run}: no ppl result (eval/ppl.json) to choose a learning rate")]
pub struct MissingPpl {
    pub run: String,
}

/// Each variant's learning rate: the only one, or the sweep's choice (lowest mean `ppl` loss over the sweep seeds;
/// ties to the smaller rate). Errors when a sweep run has no `ppl` result yet.
pub fn chosen_lrs(exp: &Experiment, root: &Path) -> Result<Vec<f64>, MissingPpl> {
    if !has_sweep(exp) {
        return Ok(vec![exp.lrs[0]; exp.variants.len()]);
    }
    let mut out = Vec::new();
    for v in 0..exp.variants.len() {
        let mut best: Option<(f64, f64)> = None;
        for &lr in &exp.lrs {
            let mut sum = 0.0;
            for &seed in &exp.seeds[..exp.sweep_seeds] {
                let run = RunSpec::new(exp, v, seed, lr);
                let loss = ppl_loss(root, &run).ok_or_else(|| MissingPpl { run: run.name.clone() })?;
                sum += if loss.is_finite() { loss } else { f64::INFINITY };
            }
            let mean = sum / exp.sweep_seeds as f64;
            if best.is_none_or(|(l, _)| mean < l) {
                best = Some((mean, lr));
            }
        }
        out.push(best.expect("at least one learning rate").1);
    }
    Ok(out)
}
