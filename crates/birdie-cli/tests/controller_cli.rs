//! `birdie controller simulate` end to end on a small reward model: the per-evaluation lines, the summary line, and
//! the same output for the same seed.

mod common;
use common::birdie;

fn simulate(dir: &std::path::Path, seed: &str) -> String {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, "[controller]\ntop_n = 4\n[reward_model]\nwidth = 16\nlayers = 1\niterations = 10\n").unwrap();
    let out = birdie()
        .args(["controller", "simulate", "--evals", "6", "--seed", seed, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn simulate_prints_every_evaluation_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = simulate(dir.path(), "4");
    assert_eq!(a.lines().filter(|l| l.starts_with("eval ")).count(), 7, "{a}");
    let last = a.lines().last().unwrap();
    assert!(last.starts_with("vs uniform: ") && last.contains("vs best fixed: "), "{last}");
    assert_eq!(a, simulate(dir.path(), "4"), "same seed, same run");
    assert_ne!(a, simulate(dir.path(), "5"));
}

#[test]
fn bad_controller_configs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    for (text, needle) in [
        ("[controller]\ntop_n = 0\n", "controller.top_n"),
        ("[controller]\ntopn = 3\n", "topn"),
        ("[reward_model]\nwidth = 0\n", "reward_model.width"),
        ("[reward_model]\nrow_keep = 0.0\n", "reward_model.row_keep"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let out = birdie().args(["controller", "simulate", "--evals", "3", "--config"]).arg(&cfg).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{text}: {err}");
    }
}
