//! `birdie eval` end to end on a micro run: the quick suite writes one report per task into RUN/eval/, single tasks
//! write `--json`, `eval compare` reads both, `mqar --train` trains and reports, and bad input gets a clear error.

mod common;
use common::birdie_in;

const RUN: &str = r#"
total_steps = 3
seed = 1
[model]
arch = "hawk"
preset = "tiny"
bidirectional = true
d_model = 32
width = 32
num_layers = 1
[data]
batch_size = 2
seq_len = 96
[procedure]
name = "birdie"
[schedule]
warmup_steps = 1
[controller]
eval_steps = [2]
eval_every = 3
agent_start = 2
[reward_model]
width = 16
layers = 1
iterations = 2
"#;

fn check_report(path: &std::path::Path) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(v["task"].is_string() && v["checkpoint"].is_string() && v["seed"].is_u64() && v["n"].is_u64(), "{v}");
    for m in v["results"].as_array().unwrap() {
        assert!(
            m["metric"].is_string() && m["value"].is_number() && m["chance"].is_number() && m["setting"].is_string()
        );
    }
    v
}

#[test]
fn the_suite_single_tasks_and_compare_work_on_a_trained_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN).unwrap();
    let run = dir.path().join("run");
    let out = birdie_in(dir.path()).args(["train", "--config"]).arg(&cfg).arg("--out").arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = birdie_in(dir.path()).args(["eval", "all", "--checkpoint"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().next().unwrap().ends_with("chance"), "{table}");
    for task in ["phonebook", "mqar", "selective-copying", "infill", "dictqa", "ppl"] {
        assert!(table.contains(task), "{task} missing from\n{table}");
        let v = check_report(&run.join("eval").join(format!("{task}.json")));
        assert_eq!(v["task"], task);
    }

    let json = dir.path().join("infill.json");
    let out = birdie_in(dir.path())
        .args(["eval", "infill", "--n", "4", "--seed", "7", "--checkpoint"])
        .arg(&run)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = check_report(&json);
    assert_eq!((v["n"].as_u64(), v["seed"].as_u64()), (Some(4), Some(7)));

    let charts = dir.path().join("charts");
    let out = birdie_in(dir.path())
        .args(["eval", "compare"])
        .arg(&run)
        .arg(&json)
        .arg("--out")
        .arg(&charts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    let header = table.lines().next().unwrap();
    assert!(header.contains("run") && header.contains("infill") && header.ends_with("chance"), "{table}");
    assert!(charts.join("eval-compare.svg").exists() && charts.join("eval-compare.png").exists());
}

#[test]
fn mqar_train_reports_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("mqar.json");
    let out = birdie_in(dir.path())
        .args(["eval", "mqar", "--train", "--arch", "gated-ssm", "--d-model", "16", "--layers", "1", "--vocab", "64"])
        .args(["--seq-len", "32", "--kv-pairs", "2", "--steps", "3", "--n", "4", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = check_report(&json);
    assert_eq!(v["results"][0]["setting"], "steps=3, seq=32, kv=2");
    assert_eq!(v["results"][0]["chance"], 1.0 / 32.0);

    let fails = |args: &[&str], needle: &str| {
        let out = birdie_in(dir.path()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
    };
    fails(&["eval", "ppl", "--checkpoint", "no/such/run"], "no/such/run");
    fails(&["eval", "mqar", "--train", "--seq-len", "64,128", "--kv-pairs", "4"], "--kv-pairs");
    fails(&["eval", "mqar", "--train", "--seq-len", "8", "--kv-pairs", "4", "--steps", "1"], "seq-len 8");
    fails(&["eval", "ppl", "--checkpoint", "x", "--prompt-style", "sideways"], "sideways");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"task\": 3}").unwrap();
    fails(&["eval", "compare", bad.to_str().unwrap()], "bad.json");
}
