"""Batches: shape and layout, determinism, and equality with the Rust pipeline of the birdie CLI (golden)."""

import json
import os

import numpy as np
import pytest

import birdie
from conftest import birdie_binary, run_cli, small_config


def test_batches_have_the_documented_layout_and_are_deterministic(texts):
    cfg = small_config(texts)
    with birdie.Birdie(cfg) as a, birdie.Birdie(dict(cfg, num_workers=1)) as b:
        for _ in range(4):
            x, y = a.get_next_training_sample(), b.get_next_training_sample()
            assert set(x) == set(birdie.BATCH_KEYS)
            for k in birdie.BATCH_KEYS:
                assert x[k].shape == (2, 128) and x[k].dtype == np.int32
                assert (x[k] == y[k]).all(), f"{k} depends on the worker count"
            assert x["input_ids"].max() < a.vocab_size
            labelled = x["label_ids"] != -100
            assert labelled.any()


def test_another_seed_gives_other_batches(texts):
    with birdie.Birdie(small_config(texts)) as a, birdie.Birdie(small_config(texts, seed=4)) as b:
        xs = [a.get_next_training_sample()["input_ids"] for _ in range(3)]
        ys = [b.get_next_training_sample()["input_ids"] for _ in range(3)]
        assert any((x != y).any() for x, y in zip(xs, ys))


def test_python_batches_equal_the_rust_pipelines(tmp_path, texts):
    binary = birdie_binary()
    if binary is None:
        pytest.skip("the birdie CLI is not built (cargo build --release, or set BIRDIE_BIN)")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    shards = tmp_path / "shards"
    env = dict(os.environ, BIRDIE_CACHE_DIR=str(tmp_path / "cache"))
    run_cli(binary, "data", "prepare", "--input", str(corpus), "--out", str(shards), env=env)
    lines = run_cli(
        binary, "data", "batches", "--shards", str(shards), "--objectives", "ul2",
        "--seq", "128", "--batch", "2", "--seed", "5", "--count", "4", env=env,
    ).splitlines()
    cfg = {"batch_size": 2, "sequence_length": 128, "objectives": "ul2", "seed": 5, "controller": False,
           "ds": {"shards": str(shards)}}
    with birdie.Birdie(cfg) as b:
        for line in lines:
            rust = json.loads(line)
            ours = b.get_next_training_sample()
            for k in birdie.BATCH_KEYS:
                assert (np.asarray(rust[k], dtype=np.int32) == ours[k]).all(), k


def test_a_tokenizers_tokenizer_object_is_used_as_given(texts):
    tokenizers = pytest.importorskip("tokenizers", reason="the tokenizers package is not installed")
    bundled = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "tokenizer.json")
    tok = tokenizers.Tokenizer.from_file(bundled)
    with birdie.Birdie(small_config(texts)) as default, birdie.Birdie(small_config(texts, tokenizer=tok)) as given:
        assert default.vocab_size == given.vocab_size
        for _ in range(3):
            a, b = default.get_next_training_sample(), given.get_next_training_sample()
            assert all((a[k] == b[k]).all() for k in birdie.BATCH_KEYS)


def test_files_are_read_in_rust_and_bad_records_are_reported(tmp_path, texts):
    from pathlib import Path

    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts[:60])
    (tmp_path / "a.jsonl").write_text(lines + json.dumps({"text": "  "}) + "\n")
    (tmp_path / "b.txt").write_text("\n\n".join(texts[60:]))
    files = [Path(tmp_path / "a.jsonl"), Path(tmp_path / "b.txt")]
    with pytest.warns(UserWarning, match=r"skipped .*a.jsonl:61: empty text"):
        b = birdie.Birdie(small_config(texts, ds=files))
    assert b.get_next_training_sample()["input_ids"].shape == (2, 128)
    b.close()
    # A record without the text field is an error naming the file, the line and the fields found.
    (tmp_path / "c.jsonl").write_text(lines + '{"title": "no text here"}\n')
    with pytest.raises(birdie.BirdieError, match=r"c.jsonl:61: no field \"text\" \(fields found: title\)"):
        birdie.Birdie(small_config(texts, ds={"paths": [str(tmp_path / "c.jsonl")]}))
