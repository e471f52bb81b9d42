"""Errors are Python exceptions with the Rust message; none hangs."""

import pytest

import birdie
from conftest import small_config


def test_unknown_objective_names_the_objective_and_the_allowed_ones(texts):
    cfg = small_config(texts, objectives=[{"name": "teleportation", "prob": 1.0}])
    with pytest.raises(birdie.BirdieError) as e:
        birdie.Birdie(cfg)
    assert "teleportation" in str(e.value) and "infilling" in str(e.value)


def test_unknown_config_key_lists_the_keys(texts):
    with pytest.raises(birdie.BirdieError) as e:
        birdie.Birdie(small_config(texts, batchsize=4))
    assert "'batchsize'" in str(e.value) and "batch_size" in str(e.value)


def test_bad_values_name_the_key(texts):
    with pytest.raises(birdie.BirdieError, match="sequence_length"):
        birdie.Birdie(small_config(texts, sequence_length=4))
    with pytest.raises(birdie.BirdieError, match="reward_model"):
        birdie.Birdie(small_config(texts, reward_model={"hidden": 3}))
    with pytest.raises(birdie.BirdieError, match="controller.top_n"):
        birdie.Birdie(small_config(texts, controller_config={"top_n": 0}))


def test_a_file_that_is_not_a_tokenizer_is_named(tmp_path, texts):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"not": "a tokenizer"}')
    with pytest.raises(birdie.BirdieError, match="tokenizer"):
        birdie.Birdie(small_config(texts, tokenizer=str(bad)))
    with pytest.raises(birdie.BirdieError, match="tokenizer"):
        birdie.Birdie(small_config(texts, tokenizer=object()))


def test_an_empty_dataset_is_an_error():
    with pytest.raises(birdie.BirdieError, match="no training documents"):
        birdie.Birdie(small_config([], ds=[]))
    with pytest.raises(birdie.BirdieError, match="no training documents"):
        birdie.Birdie(small_config([], ds=["", ""]))


def test_a_raising_ds_function_propagates_its_exception(texts):
    def ds(split, worker_id, num_workers, rng_seed=0):
        yield texts[0]
        raise OSError(f"shard {split} unreachable")

    with pytest.raises(OSError, match="shard train unreachable") as e:
        birdie.Birdie(small_config(texts, ds=ds))
    assert e.traceback[-1].name == "ds"


def test_items_that_are_not_text_need_a_grabber(texts):
    with pytest.raises(birdie.BirdieError, match="text_grabber_fn"):
        birdie.Birdie(small_config(texts, ds=[{"body": t} for t in texts]))
    b = birdie.Birdie(small_config(texts, ds=[{"body": t} for t in texts], text_grabber_fn=lambda x: x["body"]))
    b.close()


def test_log_validation_loss_of_an_unknown_objective(texts):
    with birdie.Birdie(small_config(texts)) as b:
        with pytest.raises(birdie.BirdieError, match="unknown objective 'nope'"):
            b.log_validation_loss("nope", 1.0, 0)


def test_a_closed_birdie_refuses_batches(texts):
    b = birdie.Birdie(small_config(texts))
    b.close()
    with pytest.raises(birdie.BirdieError, match="closed"):
        b.get_next_training_sample()


def test_a_tokenizer_without_birdies_special_tokens_gets_them_with_a_warning(tmp_path, texts):
    words = sorted({w for t in texts for w in t.replace(".", " ").split()})
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(words)}}
    spec = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }
    path = tmp_path / "words.json"
    import json

    path.write_text(json.dumps(spec))
    with pytest.warns(UserWarning, match="lacked .* special tokens") as w:
        b = birdie.Birdie(small_config(texts, tokenizer=str(path)))
    assert str(b.vocab_size) in str(w[0].message) and b.vocab_size > len(vocab)
    assert b.get_next_training_sample()["input_ids"].max() < b.vocab_size
    b.close()


def test_several_ranks_without_a_collective_say_how_to_get_one(texts):
    with pytest.raises(birdie.BirdieError, match="pipe_collectives"):
        birdie.Birdie(small_config(texts, rank=0, world_size=2))
    with pytest.raises(birdie.BirdieError, match="rank"):
        birdie.Birdie(small_config(texts, rank=2, world_size=2, collective=birdie.distributed.LocalCollective(2, 2)))
