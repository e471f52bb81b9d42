//! `prepare` on user corpora: every format, bad input, deterministic splits, shard checks.

use std::path::{Path, PathBuf};

use birdie_data::{
    prepare, write_test_parquet, CorpusSource, Format, PrepareError, PrepareOptions, ReadOptions, ShardError, ShardSet,
    Split, Tokenizer,
};

fn files_source(paths: Vec<PathBuf>, fraction: f64) -> CorpusSource {
    CorpusSource::Files { paths, format: None, read: ReadOptions::default(), validation_fraction: fraction }
}

fn run(source: &CorpusSource, out: &Path) -> Result<birdie_data::PrepareReport, PrepareError> {
    let tok = Tokenizer::bundled().unwrap();
    prepare(source, &tok, out, &PrepareOptions::default(), &mut |_, _| {})
}

fn sample_corpus(dir: &Path) {
    std::fs::write(dir.join("a.txt"), "The first document.\nIt has two lines.\n").unwrap();
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(dir.join("latin1.txt"), b"caf\xe9").unwrap();
    let jsonl: String = (0..200).map(|i| format!("{{\"text\": \"json document number {i}\", \"n\": {i}}}\n")).collect();
    std::fs::write(dir.join("b.jsonl"), jsonl).unwrap();
    let vals: Vec<String> = (0..50).map(|i| format!("parquet row {i}")).collect();
    let vals: Vec<Option<&str>> = vals.iter().map(|s| Some(s.as_str())).chain([None]).collect();
    write_test_parquet(&dir.join("c.parquet"), "text", &vals).unwrap();
    std::fs::write(dir.join("d.jsonl.zst"), zstd::encode_all(&b"{\"text\": \"compressed\"}\n"[..], 3).unwrap())
        .unwrap();
}

#[test]
fn mixed_directory_is_prepared_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    sample_corpus(&corpus);
    let out = dir.path().join("shards");
    let report = run(&files_source(vec![corpus.clone()], 0.1), &out).unwrap();
    let docs: u64 = report.splits.values().map(|s| s.1).sum();
    assert_eq!(docs, 1 + 200 + 50 + 1);
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped); // empty, latin1, null row
    assert!(report.skipped.iter().any(|s| s.what.ends_with("latin1.txt") && s.reason.contains("byte offset 3")));

    let set = ShardSet::open(&out).unwrap();
    let total: usize = Split::ALL.iter().filter_map(|&s| set.split(s)).map(|s| s.num_docs()).sum();
    assert_eq!(total as u64, docs);
    // Documents decode back to their text, in input order within a split.
    let tok = Tokenizer::bundled().unwrap();
    let texts: Vec<String> =
        set.split(Split::Train).unwrap().documents().map(|d| tok.decode(&d.to_vec()).unwrap()).collect();
    assert_eq!(texts[0], "The first document.\nIt has two lines.\n");
    assert!(texts.iter().any(|t| t == "compressed"));
}

#[test]
fn hash_split_is_independent_of_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..300).map(|i| format!("{{\"text\": \"doc {i}\"}}")).collect();
    let fwd = dir.path().join("fwd.jsonl");
    let rev = dir.path().join("rev.jsonl");
    std::fs::write(&fwd, lines.join("\n")).unwrap();
    std::fs::write(&rev, lines.iter().rev().cloned().collect::<Vec<_>>().join("\n")).unwrap();
    let tok = Tokenizer::bundled().unwrap();
    let val_texts = |path: &Path, out: &str| {
        let out = dir.path().join(out);
        run(&files_source(vec![path.to_path_buf()], 0.2), &out).unwrap();
        let set = ShardSet::open(&out).unwrap();
        let mut v: Vec<String> =
            set.split(Split::Validation).unwrap().documents().map(|d| tok.decode(&d.to_vec()).unwrap()).collect();
        v.sort();
        v
    };
    let a = val_texts(&fwd, "a");
    let b = val_texts(&rev, "b");
    assert_eq!(a, b);
    assert!((30..90).contains(&a.len()), "{}", a.len());
}

#[test]
fn nothing_usable_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    let err = run(&files_source(vec![dir.path().join("empty.txt")], 0.01), &dir.path().join("out")).unwrap_err();
    assert!(matches!(err, PrepareError::NoDocuments { skipped: 1, .. }), "{err}");
}

#[test]
fn bad_jsonl_and_parquet_errors_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{oops\n").unwrap();
    let err = run(&files_source(vec![path], 0.01), &dir.path().join("o1")).unwrap_err();
    assert!(err.to_string().contains("bad.jsonl:3"), "{err}");

    let path = dir.path().join("cols.parquet");
    write_test_parquet(&path, "body", &[Some("x")]).unwrap();
    let err = run(&files_source(vec![path], 0.01), &dir.path().join("o2")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("cols.parquet") && msg.contains("body") && msg.contains("\"text\""), "{msg}");
}

#[test]
fn shards_refuse_a_different_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "some text for shards ".repeat(20)).unwrap();
    let out = dir.path().join("shards");
    run(&files_source(vec![path.clone()], 0.0), &out).unwrap();
    let other = Tokenizer::train(std::iter::once("abc def ghi ".repeat(100)), 1000).unwrap();
    let err = ShardSet::open_for(&out, &other).unwrap_err();
    assert!(matches!(err, ShardError::TokenizerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("prepare the shards again"), "{err}");
    ShardSet::open_for(&out, &Tokenizer::bundled().unwrap()).unwrap();
}

#[test]
fn existing_output_is_replaced_but_foreign_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "text ".repeat(100)).unwrap();
    let out = dir.path().join("shards");
    let opts = PrepareOptions { max_shard_tokens: 10, ..PrepareOptions::default() };
    let tok = Tokenizer::bundled().unwrap();
    prepare(&files_source(vec![path.clone()], 0.0), &tok, &out, &opts, &mut |_, _| {}).unwrap();
    prepare(&files_source(vec![path.clone()], 0.0), &tok, &out, &PrepareOptions::default(), &mut |_, _| {}).unwrap();
    ShardSet::open(&out).unwrap();

    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("keep.me"), "x").unwrap();
    let err = run(&files_source(vec![path], 0.0), &foreign).unwrap_err();
    assert!(matches!(err, PrepareError::OutputNotEmpty { .. }), "{err}");
    assert!(foreign.join("keep.me").exists());
}

#[test]
fn shards_roll_over_at_the_token_limit() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..40).map(|i| format!("{{\"text\": \"document {i} has a few words in it\"}}")).collect();
    let path = dir.path().join("d.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = dir.path().join("shards");
    let tok = Tokenizer::bundled().unwrap();
    let opts = PrepareOptions { max_shard_tokens: 50, ..PrepareOptions::default() };
    prepare(
        &CorpusSource::Files {
            paths: vec![path],
            format: Some(Format::Jsonl),
            read: ReadOptions::default(),
            validation_fraction: 0.0,
        },
        &tok,
        &out,
        &opts,
        &mut |_, _| {},
    )
    .unwrap();
    let set = ShardSet::open(&out).unwrap();
    let train = set.split(Split::Train).unwrap();
    assert!(train.shards.len() > 3);
    assert!(train.shards.iter().all(|s| s.num_tokens() <= 50));
    assert_eq!(train.num_docs(), 40);
}

#[test]
fn chunked_tokenization_roundtrips_long_lines() {
    let dir = tempfile::tempdir().unwrap();
    // 300 KiB on one line with multibyte characters: cut into 64 KiB pieces, ids still decode to the text.
    let text = "ünïcödé wörds and plain words ".repeat(10_000);
    let path = dir.path().join("long.txt");
    std::fs::write(&path, &text).unwrap();
    let out = dir.path().join("shards");
    run(&files_source(vec![path], 0.0), &out).unwrap();
    let set = ShardSet::open(&out).unwrap();
    let doc = set.split(Split::Train).unwrap().documents().next().unwrap().to_vec();
    assert_eq!(Tokenizer::bundled().unwrap().decode(&doc).unwrap(), text);
}
