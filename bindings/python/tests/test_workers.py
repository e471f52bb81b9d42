"""Worker processes: a Birdie used from a fork fails loudly; BirdieIterable works under fork and spawn."""

import multiprocessing as mp

import pytest

import birdie
from conftest import make_texts, small_config


def _use_inherited(b, out):
    try:
        b.get_next_training_sample()
        out.put("no error")
    except birdie.BirdieError as e:
        out.put(str(e))


def test_a_birdie_used_in_a_forked_child_raises_instead_of_hanging(texts):
    with birdie.Birdie(small_config(texts)) as b:
        b.get_next_training_sample()
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        p = ctx.Process(target=_use_inherited, args=(b, out))
        p.start()
        message = out.get(timeout=60)
        p.join(timeout=30)
        assert p.exitcode == 0
        assert "fork" in message and "BirdieIterable" in message, message
        b.get_next_training_sample()  # the parent's object still works


def _iterate(cfg, out):
    it = birdie.BirdieIterable(cfg, num_batches=3)
    out.put([x["input_ids"].shape for x in it])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_birdie_iterable_in_worker_processes(method):
    cfg = small_config(make_texts())
    cfg.pop("reward_model")
    ctx = mp.get_context(method)
    out = ctx.Queue()
    procs = [ctx.Process(target=_iterate, args=(cfg, out)) for _ in range(2)]
    for p in procs:
        p.start()
    shapes = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert shapes == [[(2, 128)] * 3] * 2


def test_torch_dataloader_with_two_workers():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    cfg = small_config(make_texts())
    for method in ("fork", "spawn"):
        loader = torch.utils.data.DataLoader(
            birdie.BirdieIterable(cfg, num_batches=2), batch_size=None, num_workers=2, multiprocessing_context=method
        )
        got = [b["input_ids"].shape for b in loader]
        assert len(got) == 4, method
