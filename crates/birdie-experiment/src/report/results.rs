//! `results.json`: every measured number of the comparison runs, one record per (run, task, metric, setting), with
//! what the report needs to describe the experiment — and the queries the report's tables are built with.

use serde::{Deserialize, Serialize};

/// The task name of the record every run gets from its training metrics.
pub const TRAINING: &str = "training";
/// Its metric: the mean over arms of the last evaluation's finite validation losses.
pub const FINAL_VAL_LOSS: &str = "final_val_loss";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub experiment: String,
    /// The variant every other is compared with.
    pub reference: String,
    pub seeds: Vec<u64>,
    /// Steps and tokens of every run (from the base config with `[set]`), where the config has them.
    pub total_steps: Option<u64>,
    pub tokens_per_run: Option<u64>,
    /// The variants in the file's order, with their learning rates.
    pub variants: Vec<VariantInfo>,
    /// The tasks in the file's order, then `training`.
    pub tasks: Vec<TaskInfo>,
    /// The sweep's runs (empty without a sweep).
    pub lr_choice: Vec<LrChoice>,
    /// Comparison runs lacking results.
    pub missing: Vec<MissingRun>,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantInfo {
    pub name: String,
    pub procedure: String,
    pub arch: String,
    pub bidirectional: bool,
    /// The learning rate of its comparison runs.
    pub lr: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub task: String,
    /// Whether the task measures retrieval Birdie does not train on directly ([`crate::EvalSpec::is_transfer`]).
    pub transfer: bool,
}

/// One learning rate of one variant's sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrChoice {
    /// The variant name.
    pub procedure: String,
    pub lr: f64,
    /// The `ppl` loss, mean over the sweep seeds (`null` while a sweep run has none).
    pub ppl_loss: Option<f64>,
    pub chosen: bool,
}

/// A comparison run without some of its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingRun {
    pub run: String,
    pub procedure: String,
    pub seed: u64,
    /// The tasks whose results are absent (`training` when `metrics.jsonl` has no evaluation).
    pub tasks: Vec<String>,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The variant name.
    pub procedure: String,
    pub arch: String,
    pub bidirectional: bool,
    pub seed: u64,
    pub lr: f64,
    /// The run directory's name under `runs/`.
    pub run: String,
    pub task: String,
    pub metric: String,
    pub setting: String,
    /// `null` where the value was not finite.
    pub value: Option<f64>,
    /// The level a guessing model gets (`null` where not defined).
    pub chance: Option<f64>,
}

/// A finite number or nothing.
pub fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl Results {
    /// The (metric, setting) pairs of `task`, in the order they first appear.
    pub fn rows(&self, task: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for r in self.records.iter().filter(|r| r.task == task) {
            if !out.iter().any(|(m, s)| *m == r.metric && *s == r.setting) {
                out.push((r.metric.clone(), r.setting.clone()));
            }
        }
        out
    }

    /// `variant`'s finite values of (task, metric, setting) by seed, in seed order.
    pub fn values(&self, variant: &str, task: &str, metric: &str, setting: &str) -> Vec<(u64, f64)> {
        let mut out: Vec<(u64, f64)> = self
            .records
            .iter()
            .filter(|r| r.procedure == variant && r.task == task && r.metric == metric && r.setting == setting)
            .filter_map(|r| Some((r.seed, r.value?)))
            .collect();
        out.sort_by_key(|(seed, _)| *seed);
        out
    }

    /// The chance level of (task, metric, setting): the mean over its records (it is measured per item for some
    /// metrics, e.g. dictqa's F1).
    pub fn chance(&self, task: &str, metric: &str, setting: &str) -> Option<f64> {
        let c: Vec<f64> = self
            .records
            .iter()
            .filter(|r| r.task == task && r.metric == metric && r.setting == setting)
            .filter_map(|r| r.chance)
            .collect();
        finite(crate::stats::mean(&c))
    }

    /// The number a task is summarised by in the charts: its main metric at the overall setting (`all`), or the
    /// first setting measured.
    pub fn headline(&self, task: &str) -> Option<(String, String)> {
        let rows = self.rows(task);
        let metric = match task {
            "phonebook" => "digit_accuracy",
            "mqar" | "infill" => "accuracy",
            "dictqa" => "f1",
            "selective-copying" => "token_accuracy",
            "ppl" => "loss",
            _ => "",
        };
        let metric = rows.iter().find(|(m, _)| m == metric).or(rows.first())?.0.clone();
        let of_metric = rows.iter().filter(|(m, _)| *m == metric);
        let setting = of_metric.clone().find(|(_, s)| s == "all").or(of_metric.clone().next())?.1.clone();
        Some((metric, setting))
    }
}
