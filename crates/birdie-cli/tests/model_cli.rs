//! `birdie model info` on every shipped model config, and its errors.

mod common;
use common::birdie;

#[test]
fn every_shipped_model_config_resolves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/models");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let out = birdie().args(["model", "info", "--vocab", "8192", "--config"]).arg(&path).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("parameters: "), "{}: {stdout}", path.display());
        seen += 1;
    }
    assert!(seen >= 13, "only {seen} configs in {}", dir.display());
}

#[test]
fn tiny_hawk_prints_its_parameter_count() {
    let out =
        birdie().args(["model", "info", "--arch", "hawk", "--preset", "tiny", "--vocab", "8192"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("parameters: 7613696 (7.61 M"), "{stdout}");
    assert!(stdout.contains("width = 256"), "{stdout}");
}

#[test]
fn bad_model_configs_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("[model]\narch = \"hawk\"\nlayers = 2\n", "layers"),
        ("[model]\narch = \"rwkv\"\n", "model.arch = rwkv"),
        ("[model]\narch = \"transformer\"\nnum_heads = 3\n", "model.num_heads = 3"),
        ("model = 3\n", "must be a table"),
    ] {
        let path = dir.path().join("m.toml");
        std::fs::write(&path, text).unwrap();
        let out = birdie().args(["model", "info", "--vocab", "100", "--config"]).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(stderr.contains(needle), "{text}: {stderr}");
    }
}

#[test]
fn config_show_resolves_every_preset() {
    for preset in ["tiny-hawk-birdie", "tiny-hawk-ntp", "tiny-transformer-birdie", "small-gated-ssm-birdie"] {
        let out = birdie().args(["config", "show", "--config", preset]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{preset}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("d_model = ") && stdout.contains("eval_steps = ["), "{preset}: {stdout}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.toml");
    std::fs::write(&path, "total_steps = 10\n[model]\narch = \"hawk\"\nbidirectional = true\n[data]\n[procedure]\nname = \"birdie-causal\"\n").unwrap();
    let out = birdie().args(["config", "show", "--config"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("birdie-causal"));
}
