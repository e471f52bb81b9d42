//! `birdie train` end to end on a very small Hawk: the bundled corpus is prepared into a fresh cache, every step is a
//! line of metrics.jsonl, evaluation steps carry per-arm validation losses and the controller's mixture.

mod common;
use std::process::Output;

use common::birdie_in;

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

fn losses(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_small_run_writes_metrics_checkpoints_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN).unwrap();
    let full = dir.path().join("full");
    let out = birdie_in(dir.path()).args(["train", "--config"]).arg(&cfg).arg("--out").arg(&full).output().unwrap();
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
    for plot in ["training_loss.png", "validation_loss.png", "mixture.png"] {
        let img = birdie_plot::decode_rgb(&std::fs::read(full.join(plot)).unwrap()).unwrap();
        assert_eq!((img.width, img.height), (1800, 1000), "{plot}");
    }

    // Generation from the run directory (its latest checkpoint): greedy is deterministic.
    let gen = || {
        let out = birdie_in(dir.path())
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
    let out = birdie_in(dir.path())
        .args(["train", "--steps", "4", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&split)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = birdie_in(dir.path()).args(["train", "--resume", "--out"]).arg(&split).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let resumed = losses(&split.join("metrics.jsonl"));
    assert_eq!(resumed.len(), 8);
    for (a, b) in lines.iter().zip(&resumed) {
        assert_eq!(a["train_loss"], b["train_loss"], "step {}", a["step"]);
        assert_eq!(a.get("eval").map(|e| &e["mixture"]), b.get("eval").map(|e| &e["mixture"]), "step {}", a["step"]);
    }

    // --steps past total_steps is an error that says what --steps means.
    let out = birdie_in(dir.path()).args(["train", "--steps", "9", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("total_steps = 8"));
    let out =
        birdie_in(dir.path()).args(["train", "--resume", "--out"]).arg(dir.path().join("nothing")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}

#[test]
fn ctrl_c_stops_after_the_step_with_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN.replace("total_steps = 8", "total_steps = 100000")).unwrap();
    let out_dir = dir.path().join("out");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("birdie"))
        .env("BIRDIE_CACHE_DIR", dir.path().join("cache"))
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = out_dir.join("metrics.jsonl");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |m| m.lines().count()) < 3 {
        assert!(start.elapsed().as_secs() < 120, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("interrupted after step"), "{stdout}");
    let steps = std::fs::read_to_string(&metrics).unwrap().lines().count() as u64;
    assert!(
        out_dir.join(format!("checkpoints/step-{steps:08}/trainer.json")).exists(),
        "no checkpoint at step {steps}"
    );
}

#[test]
fn a_damaged_checkpoint_is_named_and_the_previous_one_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, format!("{RUN}\n[checkpoint]\nevery = 3\nkeep = 3\n")).unwrap();
    let out_dir = dir.path().join("out");
    let out = birdie_in(dir.path()).args(["train", "--config"]).arg(&cfg).arg("--out").arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let full = losses(&out_dir.join("metrics.jsonl"));
    let ckpt = |s: u64| out_dir.join(format!("checkpoints/step-{s:08}"));
    assert!(ckpt(3).exists() && ckpt(6).exists() && ckpt(8).exists());
    // Truncate the newest checkpoint's weights: --resume names the file and continues from step 6, reproducing the
    // losses of steps 7 and 8.
    let weights = ckpt(8).join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let out = birdie_in(dir.path()).args(["train", "--resume", "--out"]).arg(&out_dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("step-00000008/model.safetensors") && stderr.contains("step-00000006"), "{stderr}");
    let again = losses(&out_dir.join("metrics.jsonl"));
    assert_eq!(again.len(), 8);
    for (a, b) in full.iter().zip(&again) {
        assert_eq!(a["train_loss"], b["train_loss"], "step {}", a["step"]);
    }
    // With every checkpoint damaged, --resume stops with an error naming the files.
    for s in [3, 6, 8] {
        std::fs::write(ckpt(s).join("trainer.json"), "{").unwrap();
    }
    let out = birdie_in(dir.path()).args(["train", "--resume", "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no usable checkpoint") && stderr.contains("trainer.json"), "{stderr}");
}

/// `birdie train --config CFG --out OUT EXTRA…` from `dir`.
fn train_run(dir: &std::path::Path, cfg: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Output {
    birdie_in(dir).args(["train", "--config"]).arg(cfg).arg("--out").arg(out).args(extra).output().unwrap()
}

/// `birdie train --config CFG --out DIR/o`.
fn train_into_o(dir: &std::path::Path, cfg: &std::path::Path) -> Output {
    train_run(dir, cfg, &dir.join("o"), &[])
}

#[test]
fn configs_that_cannot_run_are_rejected_before_training() {
    let dir = tempfile::tempdir().unwrap();
    for (edit, needle) in [
        (RUN.replace("seq_len = 96", "seq_len = 20"), "data.seq_len = 20"),
        (RUN.replace("[data]", "[data]\nbatchsize = 3"), "batchsize"),
        (RUN.replace("name = \"birdie\"", "name = \"nope\""), "nope"),
        (format!("{RUN}[run]\nprecision = \"fp8\"\n"), "unknown precision \"fp8\": expected f32 or bf16"),
        (
            format!("{RUN}[run]\ndevice = \"wgpu\"\nprecision = \"bf16\"\n"),
            "[run] precision: precision bf16 is not available on the wgpu device",
        ),
    ] {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, edit).unwrap();
        let out = train_into_o(dir.path(), &cfg);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert!(!dir.path().join("o/metrics.jsonl").exists(), "{needle}: training started");
    }
}

/// `--precision bf16` (mixed: bf16 activations over f32 masters) trains the same run as f32 within bf16's rounding:
/// every step's loss within 2 % of the f32 run's over 8 steps (with their controller evaluations), the config records
/// the precision, the checkpoint holds f32 weights, and the run resumes in f32.
#[test]
fn a_bf16_run_follows_the_f32_run_and_keeps_f32_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN).unwrap();
    let (f32_run, bf16_run) = (dir.path().join("f32"), dir.path().join("bf16"));
    let train = |out: &std::path::Path, extra: &[&str]| train_run(dir.path(), &cfg, out, extra);
    let out = train(&f32_run, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = train(&bf16_run, &["--precision", "bf16", "--steps", "6"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(bf16_run.join("config.toml")).unwrap();
    assert!(written.contains("precision = \"bf16\""), "{written}");
    // The weights are the f32 masters (safetensors dtype F32).
    let weights = std::fs::read(bf16_run.join("checkpoints/step-00000006/model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&weights[8..8 + header_len]);
    assert!(header.contains("\"F32\"") && !header.contains("BF16"), "{header}");
    let out = birdie_in(dir.path()).args(["train", "--resume", "--precision", "f32", "--out"]).arg(&bf16_run).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (want, got) = (losses(&f32_run.join("metrics.jsonl")), losses(&bf16_run.join("metrics.jsonl")));
    assert_eq!(got.len(), 8);
    for (step, (a, b)) in got.iter().zip(&want).enumerate() {
        let (a, b) = (a["train_loss"].as_f64().unwrap(), b["train_loss"].as_f64().unwrap());
        assert!((a - b).abs() <= 2e-2 * b, "step {}: bf16 then f32 {a} vs f32 {b}", step + 1);
    }
    let (a, b) = (&got[4]["eval"]["val_loss"], &want[4]["eval"]["val_loss"]);
    for (a, b) in a.as_array().unwrap().iter().zip(b.as_array().unwrap()) {
        let (a, b) = (a[1].as_f64().unwrap(), b[1].as_f64().unwrap()); // [arm, loss]
        assert!((a - b).abs() <= 2e-2 * b, "validation loss at step 5: bf16 {a} vs f32 {b}");
    }
}

#[test]
fn a_diverging_run_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN.replace("[schedule]", "[optimizer]\nlr = 1e6\n[schedule]")).unwrap();
    let out = train_into_o(dir.path(), &cfg);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not finite for 5 steps in a row"), "{stderr}");
    // Every step up to the stop is in the metrics (non-finite values as null).
    let lines = losses(&dir.path().join("o/metrics.jsonl"));
    assert!(lines.iter().any(|m| m["train_loss"].is_null()));
}

#[test]
fn architecture_and_vocabulary_errors_say_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let run = |text: String| {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, text).unwrap();
        let out = train_into_o(dir.path(), &cfg);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // An unknown model architecture: every allowed one is listed.
    let (code, stderr) = run(RUN.replace("arch = \"hawk\"", "arch = \"mamba\""));
    assert_eq!(code, Some(2), "{stderr}");
    for needle in ["model.arch", "mamba", "hawk", "gated-ssm", "transformer", "toy"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    // The reward model's architecture key names itself, so it is not mistaken for the model's.
    let (code, stderr) = run(RUN.replace("[reward_model]", "[reward_model]\narch = \"mamba\""));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("reward_model.arch") && stderr.contains("model.arch: hawk"), "{stderr}");
    // The toy benchmark model keeps its 512-entry vocabulary: the bundled tokenizer's ids do not fit it, which is
    // an error naming both sizes (not an index panic in the middle of a step).
    let toy = "total_steps = 2\n[model]\narch = \"toy\"\nd_model = 16\nnum_layers = 1\n[data]\nbatch_size = 1\n\
               seq_len = 64\nvalidation_rows = 1\n[procedure]\nname = \"ntp\"\n";
    let (code, stderr) = run(toy.to_string());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("vocabulary of 512") && stderr.contains("token id"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn custom_objectives_are_copied_into_the_run_and_resume_and_eval_use_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let arms = "[[arms]]\nobjective = \"next_token_prediction\"\n\n\
                [[arms]]\nobjective = \"prefix_language_modeling\"\nprefix_fraction = 0.5\n";
    std::fs::write(dir.path().join("arms.toml"), arms).unwrap();
    let cfg = RUN.replace("name = \"birdie\"", "name = \"custom\"\nobjectives = \"arms.toml\"");
    std::fs::write(dir.path().join("run.toml"), cfg).unwrap();
    // A relative objectives path, read from the working directory at the start.
    let out = birdie_in(dir.path())
        .current_dir(dir.path())
        .args(["train", "--steps", "4", "--config", "run.toml", "--out", "run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = dir.path().join("run");
    assert_eq!(std::fs::read_to_string(run.join("objectives.toml")).unwrap(), arms);
    let written: toml::Table = toml::from_str(&std::fs::read_to_string(run.join("config.toml")).unwrap()).unwrap();
    assert_eq!(written["procedure"]["objectives"].as_str(), Some("objectives.toml"));
    // The original is gone: --resume (from the same directory) and evaluation (from another) read the run's copy.
    std::fs::remove_file(dir.path().join("arms.toml")).unwrap();
    let out =
        birdie_in(dir.path()).current_dir(dir.path()).args(["train", "--resume", "--out", "run"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(losses(&run.join("metrics.jsonl")).len(), 8);
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = birdie_in(dir.path())
        .current_dir(&elsewhere)
        .args(["eval", "infill", "--n", "2", "--checkpoint"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(run.join("eval/infill.json").exists());
}

/// A run trained on the wgpu device (Mesa's software driver on a machine without a GPU) resumes on the CPU: its
/// first steps' losses agree with the CPU's to 1e-3, and the steps after the resume continue the CPU run's losses
/// within 1e-3. Skipped, saying why, where there is no wgpu adapter (unless BIRDIE_REQUIRE_GPU=1).
#[cfg(feature = "wgpu")]
#[test]
fn a_run_trained_on_the_gpu_resumes_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, RUN).unwrap();
    let (cpu, gpu) = (dir.path().join("cpu"), dir.path().join("gpu"));
    let train = |out: &std::path::Path, extra: &[&str]| train_run(dir.path(), &cfg, out, extra);
    let on_gpu = birdie_in(dir.path())
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&gpu)
        .args(["--device", "wgpu", "--steps", "5"])
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal") // kernel choice only; minutes on a software driver
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&on_gpu.stderr);
    if stderr.contains("could not start") && std::env::var("BIRDIE_REQUIRE_GPU").map_or(true, |v| v != "1") {
        eprintln!("skipped: {stderr}");
        return;
    }
    assert!(on_gpu.status.success(), "{stderr}");
    let resumed = birdie_in(dir.path()).args(["train", "--resume", "--device", "cpu", "--out"]).arg(&gpu).output();
    let resumed = resumed.unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let out = train(&cpu, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (want, got) = (losses(&cpu.join("metrics.jsonl")), losses(&gpu.join("metrics.jsonl")));
    assert_eq!(got.len(), 8);
    for (a, b) in got.iter().zip(&want) {
        let (a, b) = (a["train_loss"].as_f64().unwrap(), b["train_loss"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-3, "step losses: wgpu then cpu {a} vs cpu {b}");
    }
}
