//! `birdie train` end to end on a very small Hawk: the bundled corpus is prepared into a fresh cache, every step is a
//! line of metrics.jsonl, evaluation steps carry per-arm validation losses and the controller's mixture.

use assert_cmd::Command;

const RUN: &str = r#"
total_steps = 8
seed = 3
[model]
arch = "hawk"
preset = "tiny"
bidirectional = true
d_model = 32
width = 32
num_layers = 2
[data]
batch_size = 2
seq_len = 96
[procedure]
name = "birdie"
[schedule]
warmup_steps = 2
[controller]
eval_steps = [2]
eval_every = 3
agent_start = 2
[reward_model]
width = 16
layers = 1
iterations = 5
"#;

fn birdie(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("birdie").unwrap();
    c.env("BIRDIE_CACHE_DIR", dir.join("cache"));
    c
}

fn losses(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_small_run_writes_metrics_checkpoints_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN).unwrap();
    let full = dir.path().join("full");
    let out = birdie(dir.path()).args(["train", "--config"]).arg(&cfg).arg("--out").arg(&full).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("trained 8 steps"));
    let lines = losses(&full.join("metrics.jsonl"));
    assert_eq!(lines.len(), 8);
    for (i, m) in lines.iter().enumerate() {
        assert_eq!(m["step"].as_u64(), Some(i as u64 + 1));
        assert!(m["train_loss"].as_f64().unwrap().is_finite());
    }
    // Evaluations at steps 2 and 5 (the list, then every 3) and at the last step.
    let evals: Vec<u64> =
        lines.iter().filter(|m| m.get("eval").is_some()).map(|m| m["step"].as_u64().unwrap()).collect();
    assert_eq!(evals, vec![2, 5, 8]);
    let e = &lines[4]["eval"];
    assert_eq!(e["val_loss"].as_array().unwrap().len(), 19, "one loss per birdie arm");
    let mixture: Vec<f64> = e["mixture"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((mixture.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    assert!(e["agent"].as_bool().unwrap(), "the agent chose at step 5");
    assert!(full.join("config.toml").exists());
    assert!(full.join("checkpoints/step-00000008/model.safetensors").exists());
    for plot in ["training_loss.svg", "validation_loss.svg", "mixture.svg"] {
        let svg = std::fs::read_to_string(full.join(plot)).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{plot}");
    }

    // Generation from the run directory (its latest checkpoint): greedy is deterministic.
    let gen = || {
        let out = birdie(dir.path())
            .args(["generate", "--prompt", "It was the best of times", "--max-tokens", "5", "--checkpoint"])
            .arg(&full)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = gen();
    assert!(!text.trim().is_empty());
    assert_eq!(text, gen());

    // Stop at step 4, resume to the end: every step's loss and every mixture equal the uninterrupted run's.
    let split = dir.path().join("split");
    let out = birdie(dir.path())
        .args(["train", "--steps", "4", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&split)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = birdie(dir.path()).args(["train", "--resume", "--out"]).arg(&split).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let resumed = losses(&split.join("metrics.jsonl"));
    assert_eq!(resumed.len(), 8);
    for (a, b) in lines.iter().zip(&resumed) {
        assert_eq!(a["train_loss"], b["train_loss"], "step {}", a["step"]);
        assert_eq!(a.get("eval").map(|e| &e["mixture"]), b.get("eval").map(|e| &e["mixture"]), "step {}", a["step"]);
    }

    // --steps past total_steps is an error that says what --steps means.
    let out = birdie(dir.path()).args(["train", "--steps", "9", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("total_steps = 8"));
    let out = birdie(dir.path()).args(["train", "--resume", "--out"]).arg(dir.path().join("nothing")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}
