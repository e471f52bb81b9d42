//! `birdie experiment` end to end: the committed smoke experiment runs and reports, running it again does nothing,
//! the same file gives the same results.json, and bad files are refused before any training.

use std::path::{Path, PathBuf};

mod common;
use common::{birdie_cached, run_ok};

fn smoke_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/smoke.toml")
}

#[test]
fn the_smoke_experiment_runs_reports_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let root = dir.path().join("smoke");
    let out = run_ok(birdie_cached(&cache).args(["experiment", "run"]).arg(smoke_file()).arg("--out").arg(&root));
    assert!(out.contains("6 runs trained, 0 already done"), "{out}");
    // 2 variants × 2 learning rates on seed 0, then seed 1 at each variant's chosen rate.
    let runs: Vec<String> = std::fs::read_dir(root.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 6, "{runs:?}");
    let out = run_ok(birdie_cached(&cache).args(["experiment", "report"]).arg(&root));
    assert!(out.contains("report.md"), "{out}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("results.json")).unwrap()).unwrap();
    let records = results["records"].as_array().unwrap();
    for task in ["ppl", "phonebook", "mqar", "dictqa", "infill", "selective-copying"] {
        let seeds: std::collections::BTreeSet<u64> =
            records.iter().filter(|r| r["task"] == task).map(|r| r["seed"].as_u64().unwrap()).collect();
        assert_eq!(seeds.len(), 2, "{task}: {seeds:?}");
    }
    for r in records {
        for key in ["procedure", "arch", "seed", "lr", "task", "metric", "setting", "value", "chance"] {
            assert!(r.get(key).is_some(), "record without {key}: {r}");
        }
    }
    let report = std::fs::read_to_string(root.join("report.md")).unwrap();
    assert!(report.contains("birdie") && report.contains("ntp"), "{report}");
    // Running again finds everything done.
    let out = run_ok(birdie_cached(&cache).args(["experiment", "run"]).arg(smoke_file()).arg("--out").arg(&root));
    assert!(out.contains("0 runs trained, 6 already done, 0 evaluations"), "{out}");
}

const TWO_RUNS: &str = r#"
name = "twice"
base = "tiny-hawk-birdie"
reference = "ntp"
seeds = [3]
lrs = [1e-3]
[set]
total_steps = 4
data = { seq_len = 96, batch_size = 2, validation_rows = 1 }
model = { d_model = 32, width = 32, num_layers = 1 }
controller = { eval_steps = [2], eval_every = 2, agent_start = 2 }
reward_model = { width = 16, layers = 1, iterations = 2 }
[[variants]]
name = "birdie"
procedure = "birdie"
arch = "hawk"
bidirectional = true
[[variants]]
name = "ntp"
procedure = "ntp"
arch = "hawk"
[[evals]]
task = "ppl"
max_tokens = 512
"#;

#[test]
fn the_same_file_gives_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let file = dir.path().join("twice.toml");
    std::fs::write(&file, TWO_RUNS).unwrap();
    let mut results = Vec::new();
    for out in ["a", "b"] {
        let root = dir.path().join(out);
        run_ok(birdie_cached(&cache).args(["experiment", "run"]).arg(&file).arg("--out").arg(&root));
        run_ok(birdie_cached(&cache).args(["experiment", "report"]).arg(&root));
        results.push(std::fs::read(root.join("results.json")).unwrap());
    }
    assert!(!results[0].is_empty());
    assert_eq!(results[0], results[1], "results.json differs between two runs of the same file");

    // Changed evaluation settings run that evaluation again; changed training settings are refused, naming the run.
    let root = dir.path().join("a");
    std::fs::write(&file, TWO_RUNS.replace("max_tokens = 512", "max_tokens = 256")).unwrap();
    let out = birdie_cached(&cache).args(["experiment", "run"]).arg(&file).arg("--out").arg(&root).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("0 runs trained, 2 already done, 2 evaluations"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("eval ppl"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("settings changed"));
    std::fs::write(&file, TWO_RUNS.replace("total_steps = 4", "total_steps = 6")).unwrap();
    let out = birdie_cached(&cache).args(["experiment", "run"]).arg(&file).arg("--out").arg(&root).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("birdie-s3-lr1e-3") && stderr.contains("total_steps = 6"), "{stderr}");
}

#[test]
fn bad_experiment_files_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for (bad, key) in [
        (TWO_RUNS.replace("procedure = \"ntp\"", "procedure = \"mamba\""), "variants[1].procedure"),
        (TWO_RUNS.replace("lrs = [1e-3]", "lrs = []"), "lrs = []"),
        (TWO_RUNS.replace("task = \"ppl\"", "task = \"squad\""), "evals[0].task"),
        (TWO_RUNS.replace("name = \"ntp\"", "name = \"birdie\""), "duplicate run name"),
    ] {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, bad).unwrap();
        let root = dir.path().join("bad");
        let out =
            birdie_cached(&cache).args(["experiment", "run"]).arg(&file).arg("--out").arg(&root).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(key) && err.contains("bad.toml"), "{key}: {err}");
        assert!(!root.exists(), "{key}: something was written before the file was checked");
    }
}
