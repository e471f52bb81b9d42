//! Gathers [`Results`] from the experiment directory: every comparison run's `eval/TASK.json` and `metrics.jsonl`,
//! and the sweep's `ppl` losses. A result that is absent is listed as missing; one that is malformed is an error.

use std::path::Path;

use birdie_eval::report::EvalReport;
use serde_json::Value;

use super::results::{finite, LrChoice, MissingRun, Record, Results, TaskInfo, VariantInfo, FINAL_VAL_LOSS, TRAINING};
use super::ReportError;
use crate::file::Experiment;
use crate::grid::{self, RunSpec};
use crate::stats;

/// Everything measured in the experiment under `root`, with each variant's learning rate `lrs[v]`.
pub fn results(exp: &Experiment, root: &Path, lrs: &[f64]) -> Result<Results, ReportError> {
    let mut runs = grid::comparison_runs(exp, lrs);
    // Variant order, then seed order (the grid trains seed-major).
    runs.sort_by_key(|r| (r.variant, exp.seeds.iter().position(|s| *s == r.seed)));
    let mut records = Vec::new();
    let mut missing = Vec::new();
    for run in &runs {
        let (mut found, absent) = run_records(exp, root, run)?;
        records.append(&mut found);
        if !absent.is_empty() {
            let procedure = exp.variants[run.variant].name.clone();
            missing.push(MissingRun { run: run.name.clone(), procedure, seed: run.seed, tasks: absent });
        }
    }
    Ok(Results {
        experiment: exp.name.clone(),
        reference: exp.reference.clone(),
        seeds: exp.seeds.clone(),
        total_steps: base_u64(exp, &["total_steps"]),
        tokens_per_run: tokens_per_run(exp),
        variants: variants(exp, lrs),
        tasks: tasks(exp),
        lr_choice: lr_choice(exp, root, lrs),
        missing,
        records,
    })
}

fn variants(exp: &Experiment, lrs: &[f64]) -> Vec<VariantInfo> {
    exp.variants
        .iter()
        .zip(lrs)
        .map(|(v, &lr)| VariantInfo {
            name: v.name.clone(),
            procedure: v.procedure.clone(),
            arch: v.arch.clone(),
            bidirectional: v.bidirectional,
            lr,
        })
        .collect()
}

fn tasks(exp: &Experiment) -> Vec<TaskInfo> {
    let evals = exp.evals.iter().map(|e| TaskInfo { task: e.task().into(), transfer: e.is_transfer() });
    evals.chain([TaskInfo { task: TRAINING.into(), transfer: false }]).collect()
}

fn base_u64(exp: &Experiment, keys: &[&str]) -> Option<u64> {
    let (last, tables) = keys.split_last()?;
    let mut t = &exp.base;
    for k in tables {
        t = t.get(*k)?.as_table()?;
    }
    u64::try_from(t.get(*last)?.as_integer()?).ok()
}

fn tokens_per_run(exp: &Experiment) -> Option<u64> {
    let steps = base_u64(exp, &["total_steps"])?;
    Some(steps * base_u64(exp, &["data", "batch_size"])? * base_u64(exp, &["data", "seq_len"])?)
}

/// Each variant × learning rate of the sweep: the mean `ppl` loss over the sweep seeds.
fn lr_choice(exp: &Experiment, root: &Path, lrs: &[f64]) -> Vec<LrChoice> {
    if !grid::has_sweep(exp) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (v, variant) in exp.variants.iter().enumerate() {
        for &lr in &exp.lrs {
            let losses: Option<Vec<f64>> = exp.seeds[..exp.sweep_seeds]
                .iter()
                .map(|&seed| grid::ppl_loss(root, &RunSpec::new(exp, v, seed, lr)))
                .collect();
            let ppl_loss = losses.and_then(|l| finite(stats::mean(&l)));
            out.push(LrChoice { procedure: variant.name.clone(), lr, ppl_loss, chosen: lr == lrs[v] });
        }
    }
    out
}

/// A run's records in the file's task order, then `training`; and the tasks it lacks.
fn run_records(exp: &Experiment, root: &Path, run: &RunSpec) -> Result<(Vec<Record>, Vec<String>), ReportError> {
    let v = &exp.variants[run.variant];
    let record = |task: &str, metric: &str, setting: &str, value: f64, chance: f64| Record {
        procedure: v.name.clone(),
        arch: v.arch.clone(),
        bidirectional: v.bidirectional,
        seed: run.seed,
        lr: run.lr,
        run: run.name.clone(),
        task: task.into(),
        metric: metric.into(),
        setting: setting.into(),
        value: finite(value),
        chance: finite(chance),
    };
    let dir = run.dir(root);
    let mut records = Vec::new();
    let mut absent = Vec::new();
    for spec in &exp.evals {
        let path = dir.join("eval").join(format!("{}.json", spec.task()));
        if !path.exists() {
            absent.push(spec.task().to_string());
            continue;
        }
        let report = EvalReport::read(&path)?;
        for m in &report.results {
            records.push(record(spec.task(), &m.metric, &m.setting, m.value, m.chance));
        }
    }
    let curve = validation_curve(&dir.join("metrics.jsonl"))?;
    match curve.last() {
        Some(&(_, loss)) => records.push(record(TRAINING, FINAL_VAL_LOSS, "all", loss, f64::NAN)),
        None => absent.push(TRAINING.to_string()),
    }
    Ok((records, absent))
}

/// A run's validation loss at each evaluation: (step, mean over arms of the finite per-arm losses; NaN when none
/// is finite). Empty when `metrics.jsonl` is absent.
pub fn validation_curve(path: &Path) -> Result<Vec<(f64, f64)>, ReportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ReportError::Io { action: "reading", path: path.to_path_buf(), source }),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |message: String| ReportError::Metrics { path: path.to_path_buf(), line: i + 1, message };
        let m: Value = serde_json::from_str(line).map_err(|source| ReportError::MetricsJson {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        let Some(eval) = m.get("eval") else { continue };
        let step = m["step"].as_f64().ok_or_else(|| bad("an evaluation without \"step\"".into()))?;
        let arms = eval["val_loss"].as_array().ok_or_else(|| bad("\"eval\" without a \"val_loss\" list".into()))?;
        let losses: Vec<f64> = arms.iter().filter_map(|a| a.get(1)?.as_f64()).filter(|x| x.is_finite()).collect();
        out.push((step, stats::mean(&losses)));
    }
    Ok(out)
}
