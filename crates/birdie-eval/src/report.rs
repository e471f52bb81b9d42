//! The results file every task writes (fixed schema) and the tables printed from one or several of them.
//!
//! ```json
//! {"task": "phonebook", "checkpoint": "runs/a", "seed": 0, "n": 64,
//!  "results": [{"metric": "digit_accuracy", "value": 0.12, "chance": 0.1, "setting": "entries=50, queries=4"}]}
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One number: a metric at one setting, with the level a guessing model gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub metric: String,
    pub value: f64,
    pub chance: f64,
    /// The task parameters this value was measured at, `key=value` pairs joined by ", " (`all` for the overall).
    pub setting: String,
}

/// A task's results on one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalReport {
    pub task: String,
    pub checkpoint: String,
    pub seed: u64,
    /// Items evaluated (all settings together).
    pub n: usize,
    pub results: Vec<MetricResult>,
}

impl EvalReport {
    pub fn new(task: &str, checkpoint: &str, seed: u64) -> Self {
        EvalReport { task: task.into(), checkpoint: checkpoint.into(), seed, n: 0, results: Vec::new() }
    }

    pub fn push(&mut self, metric: &str, value: f64, chance: f64, setting: &str) {
        self.results.push(MetricResult { metric: metric.into(), value, chance, setting: setting.into() });
    }

    /// Writes the report as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), ReportFileError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReportFileError::Io { path, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let text = serde_json::to_string_pretty(self).expect("reports serialise") + "\n";
        std::fs::write(path, text).map_err(io(path))
    }

    /// Reads a report, naming the file and what is wrong with it.
    pub fn read(path: &Path) -> Result<Self, ReportFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportFileError::Io { path: path.into(), source })?;
        serde_json::from_str(&text).map_err(|source| ReportFileError::NotAReport { path: path.into(), source })
    }
}

/// What went wrong reading or writing report files.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a birdie eval report ({source}); expected {{task, checkpoint, seed, n, results}}")]
    NotAReport { path: PathBuf, source: serde_json::Error },
    #[error("{dir}: no eval results{why}; run `birdie eval all --checkpoint {run}` first")]
    NoResults { dir: PathBuf, run: PathBuf, why: String },
}

/// The ending of the file beside each report that records the settings it was made with (`TASK.settings.json`,
/// written by experiment runs); not a report itself.
pub const SETTINGS_SUFFIX: &str = ".settings.json";

/// Every report of a run: the JSON files in `RUN/eval/` (or one report file), settings records aside.
pub fn read_run(path: &Path) -> Result<Vec<EvalReport>, ReportFileError> {
    if path.is_file() {
        return Ok(vec![EvalReport::read(path)?]);
    }
    let dir = path.join("eval");
    let no_results = |why: String| ReportFileError::NoResults { dir: dir.clone(), run: path.into(), why };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| no_results(format!(" ({e})")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.to_string_lossy().ends_with(SETTINGS_SUFFIX))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(no_results(" (no *.json reports)".into()));
    }
    files.iter().map(|p| EvalReport::read(p)).collect()
}

fn fmt_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// One (task, metric, setting) with a value per run and the chance level.
struct Row {
    task: String,
    metric: String,
    setting: String,
    values: Vec<Option<f64>>,
    chance: f64,
}

fn rows(runs: &[Vec<EvalReport>]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for (k, reports) in runs.iter().enumerate() {
        for r in reports {
            for m in &r.results {
                let row =
                    match out.iter().position(|x| x.task == r.task && x.metric == m.metric && x.setting == m.setting) {
                        Some(i) => i,
                        None => {
                            out.push(Row {
                                task: r.task.clone(),
                                metric: m.metric.clone(),
                                setting: m.setting.clone(),
                                values: vec![None; runs.len()],
                                chance: m.chance,
                            });
                            out.len() - 1
                        }
                    };
                out[row].values[k] = Some(m.value);
            }
        }
    }
    out
}

/// A plain-text table: task, metric, setting, one value column per run, chance.
pub fn table(names: &[String], runs: &[Vec<EvalReport>]) -> String {
    let rows = rows(runs);
    let mut cells: Vec<Vec<String>> =
        vec![[vec!["task".into(), "metric".into(), "setting".into()], names.to_vec(), vec!["chance".into()]].concat()];
    for r in &rows {
        let vals = r.values.iter().map(|x| x.map_or("-".into(), fmt_value));
        cells.push(
            [vec![r.task.clone(), r.metric.clone(), r.setting.clone()], vals.collect(), vec![fmt_value(r.chance)]]
                .concat(),
        );
    }
    let widths: Vec<usize> =
        (0..cells[0].len()).map(|j| cells.iter().map(|r| r[j].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, r) in cells.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(j, (c, w))| if j < 3 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    out
}

/// A grouped bar chart of the overall (`setting = all`) rates — metrics in [0, 1] such as accuracies; losses and
/// perplexities live on other scales and stay in the table — one bar per run, plus the chance level.
pub fn bar_chart(names: &[String], runs: &[Vec<EvalReport>]) -> birdie_plot::Scene {
    let rate = |r: &Row| (0.0..=1.0).contains(&r.chance) && r.values.iter().flatten().all(|v| (0.0..=1.0).contains(v));
    let rows: Vec<Row> = rows(runs).into_iter().filter(|r| r.setting == "all" && rate(r)).collect();
    let categories: Vec<String> = rows.iter().map(|r| format!("{} {}", r.task, r.metric)).collect();
    let mut series: Vec<(String, Vec<f64>)> = names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.clone(), rows.iter().map(|r| r.values[k].unwrap_or(f64::NAN)).collect()))
        .collect();
    series.push(("chance".into(), rows.iter().map(|r| r.chance).collect()));
    birdie_plot::bar_chart("Evaluation results", &categories, &series)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(task: &str, v: f64) -> EvalReport {
        let mut r = EvalReport::new(task, "runs/x", 3);
        r.n = 10;
        r.push("accuracy", v, 0.25, "all");
        r.push("accuracy", v / 2.0, 0.25, "k=4");
        r
    }

    #[test]
    fn reports_round_trip_with_the_fixed_schema() {
        let dir = std::env::temp_dir().join(format!("birdie-eval-report-{}", std::process::id()));
        let path = dir.join("eval/infill.json");
        report("infill", 0.5).write(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&v), ["checkpoint", "n", "results", "seed", "task"]);
        assert_eq!(keys(&v["results"][0]), ["chance", "metric", "setting", "value"]);
        assert!(v["seed"].is_u64() && v["n"].is_u64() && v["results"][0]["value"].is_f64());
        // An experiment's settings record beside a report is not read as a report.
        std::fs::write(dir.join(format!("eval/infill{SETTINGS_SUFFIX}")), "{\"task\": \"infill\"}").unwrap();
        assert_eq!(read_run(&dir).unwrap(), vec![report("infill", 0.5)]);
        std::fs::write(dir.join("eval/bad.json"), "{\"task\": 1}").unwrap();
        assert!(read_run(&dir).unwrap_err().to_string().contains("bad.json"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_table_puts_runs_side_by_side() {
        let t = table(
            &["a".into(), "b".into()],
            &[vec![report("infill", 0.5)], vec![report("infill", 0.3), report("ppl", 9.0)]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("task") && lines[0].ends_with("chance"));
        assert!(lines[2].contains("0.500") && lines[2].contains("0.300") && lines[2].contains("0.250"));
        assert!(lines.iter().any(|l| l.starts_with("ppl") && l.contains(" - ")), "{t}");
    }
}
