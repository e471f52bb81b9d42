//! End-to-end tests of `birdie data …` and `birdie tokenizer …` through the real binary.

use std::path::Path;

mod common;
use common::{birdie, stderr, stdout};

/// Runs and expects exit code 2 with `needle` in the error.
fn fails_with(args: &[&str], needle: &str) {
    let out = birdie().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(stderr(&out).contains(needle), "{args:?}: expected {needle:?} in: {}", stderr(&out));
}

#[test]
fn help_lists_subcommands() {
    let out = birdie().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for cmd in ["data", "tokenizer", "Exit codes"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
    let out = birdie().args(["data", "--help"]).output().unwrap();
    assert!(stdout(&out).contains("prepare") && stdout(&out).contains("stats"));
}

/// The acceptance run: the bundled corpus prepares into ≥ 5 M train tokens with all three splits.
#[test]
fn bundled_corpus_prepares_and_reports_stats() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("shards");
    let out = birdie().args(["data", "prepare", "--out"]).arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = birdie().args(["data", "stats"]).arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let tokens = |line: &str, split: &str| -> u64 {
        let rest = line.strip_prefix(&format!("{split}: ")).unwrap_or_else(|| panic!("{line}"));
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(tokens(lines[0], "train") >= 5_000_000, "{text}");
    assert!(tokens(lines[1], "validation") > 50_000, "{text}");
    assert!(tokens(lines[2], "heldout") > 200_000, "{text}");
    assert!(lines[3].starts_with("vocab coverage: "), "{text}");
}

#[test]
fn user_corpus_with_bad_files_is_prepared_with_counted_skips() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(corpus.join("good.txt"), "A perfectly ordinary document.\n").unwrap();
    std::fs::write(corpus.join("empty.txt"), "").unwrap();
    std::fs::write(corpus.join("binary.txt"), [0x89, b'P', b'N', b'G', 0, 0, 1]).unwrap();
    std::fs::write(corpus.join("notes.bin"), "ignored").unwrap();
    let out_dir = dir.path().join("shards");
    let out = birdie().args(["data", "prepare", "--input"]).arg(&corpus).arg("--out").arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("skipped 2 inputs"), "{text}");
    assert!(text.contains("binary.txt") && text.contains("byte offset"), "{text}");
    assert!(text.contains("ignored 1 files"), "{text}");
    let out = birdie().args(["data", "stats"]).arg(&out_dir).output().unwrap();
    assert!(stdout(&out).contains(" tokens, 1 documents"), "{}", stdout(&out));
}

#[test]
fn bad_inputs_fail_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let out = p("out");

    std::fs::create_dir(dir.path().join("nothing")).unwrap();
    std::fs::write(dir.path().join("nothing/readme.pdf"), "x").unwrap();
    fails_with(&["data", "prepare", "--input", &p("nothing"), "--out", &out], "contains no usable files");

    std::fs::write(p("empty.txt"), "").unwrap();
    fails_with(&["data", "prepare", "--input", &p("empty.txt"), "--out", &out], "no usable documents");

    std::fs::write(p("bad.jsonl"), "{\"text\": \"fine\"}\nthis is not json\n").unwrap();
    fails_with(&["data", "prepare", "--input", &p("bad.jsonl"), "--out", &out], "bad.jsonl:2: not valid JSON");

    std::fs::write(p("field.jsonl"), "{\"content\": \"x\"}\n").unwrap();
    fails_with(&["data", "prepare", "--input", &p("field.jsonl"), "--out", &out], "field.jsonl:1: no field \"text\"");

    birdie_data::write_test_parquet(Path::new(&p("d.parquet")), "body", &[Some("x")]).unwrap();
    fails_with(&["data", "prepare", "--input", &p("d.parquet"), "--out", &out], "columns found: body, id");

    std::fs::write(p("tok.json"), "{\"version\": oops").unwrap();
    fails_with(&["data", "prepare", "--tokenizer", &p("tok.json"), "--out", &out], "tok.json");

    fails_with(&["data", "stats", &p("no-such-dir")], "no-such-dir");
}

#[test]
fn shards_from_another_tokenizer_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("t.txt");
    std::fs::write(&text, "alpha beta gamma delta ".repeat(200)).unwrap();
    let tok = dir.path().join("small.json");
    let out = birdie()
        .args(["tokenizer", "train", "--vocab-size", "900", "--input"])
        .arg(&text)
        .arg("--out")
        .arg(&tok)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shards = dir.path().join("shards");
    let out = birdie().args(["data", "prepare", "--input"]).arg(&text).arg("--out").arg(&shards).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    fails_with(
        &["data", "stats", &shards.to_string_lossy(), "--tokenizer", &tok.to_string_lossy()],
        "were made with tokenizer",
    );
}

#[test]
fn encode_decode_roundtrip_through_cli() {
    let out = birdie().args(["tokenizer", "encode", "Call me Ishmael."]).output().unwrap();
    assert!(out.status.success());
    let ids = stdout(&out).trim().to_string();
    let mut args = vec!["tokenizer", "decode"];
    args.extend(ids.split(' '));
    let out = birdie().args(&args).output().unwrap();
    assert_eq!(stdout(&out), "Call me Ishmael.\n");
    fails_with(&["tokenizer", "decode", "99999"], "outside the vocabulary");
}

/// `birdie preview` works for every objective on a ~40-word text with budget 256, hyphenated names included.
#[test]
fn preview_every_objective() {
    let text = "Bird songs fill the early morning air. The sun rises over the quiet hills and the river runs on, \
                past the old mill and the sleeping town, where children will soon wake to the smell of bread.";
    for name in [
        "next_token_prediction",
        "prefix-language-modeling",
        "infilling",
        "copying",
        "deshuffling",
        "autoencoding",
        "autoencoding_with_deshuffling",
        "selective-copying",
    ] {
        let out = birdie().args(["preview", "--objective", name, "--text", text, "--budget", "256"]).output().unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(s.contains("--- input") && s.contains("--- label") && s.contains("packed row"), "{name}: {s}");
    }
    let out = birdie()
        .args([
            "preview",
            "--objective",
            "infilling",
            "--set",
            "corruption_rate=0.5",
            "--set",
            "masker=t5",
            "--text",
            text,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("corruption_rate = 0.5"));
    fails_with(
        &["preview", "--objective", "infilling", "--set", "corruption_rat=0.5", "--text", text],
        "corruption_rat",
    );
    fails_with(&["preview", "--objective", "teleport", "--text", text], "unknown objective \"teleport\"");
}

#[test]
fn bench_pipeline_reports_rate_fill_and_shares() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("t.jsonl");
    let lines: Vec<String> = (0..200)
        .map(|i| format!("{{\"text\": \"{}\"}}", format!("document {i} says something. ").repeat(40)))
        .collect();
    std::fs::write(&text, lines.join("\n")).unwrap();
    let shards = dir.path().join("shards");
    let out = birdie().args(["data", "prepare", "--input"]).arg(&text).arg("--out").arg(&shards).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = birdie()
        .args(["bench", "pipeline", "--seconds", "0.5", "--seq", "512", "--batch", "4", "--shards"])
        .arg(&shards)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let first = s.lines().next().unwrap();
    assert!(first.starts_with("packed: ") && first.ends_with("tokens/s"), "{s}");
    let rate: f64 = first["packed: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(rate > 0.0);
    assert!(s.lines().any(|l| l.starts_with("fill: ")), "{s}");
    assert!(s.contains("selective_copying"), "{s}");
}

#[test]
fn bench_scan_and_step_print_their_first_lines() {
    let out = birdie()
        .args(["bench", "scan", "--batch", "1", "--seq", "64", "--width", "64", "--reps", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("scan: ") && first.ends_with("% of triad"), "{first}");

    let out = birdie()
        .args(["bench", "step", "--preset", "toy", "--batch", "1", "--seq", "16", "--steps", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let mut lines = s.lines();
    assert!(lines.next().unwrap().starts_with("step: "), "{s}");
    assert!(lines.next().unwrap().starts_with("tokens/s: "), "{s}");
    assert!(lines.next().unwrap().starts_with("floor ratio: "), "{s}");
    fails_with(&["bench", "step", "--model", "huge"], "unknown model preset");
}
