"""Several processes, one mixture: two ranks through the multiprocessing collective."""

import multiprocessing as mp

import numpy as np

import birdie
from birdie.distributed import pipe_collectives
from conftest import make_texts, small_config

STEPS = 6


def _rank_main(rank, collective, out):
    texts = make_texts()
    cfg = small_config(texts, rank=rank, world_size=2, collective=collective)
    with birdie.Birdie(cfg) as b:
        batches, mixtures = [], []
        for step in range(STEPS):
            if b.time_for_eval(step):
                for name, _ in b.measure_validation_losses():
                    # Ranks see different losses; the controller must see their mean on both.
                    b.log_validation_loss(name, 4.0 + rank + 0.05 * len(name) - 0.02 * step, step)
                mixtures.append(b.get_current_action().tolist())
            batches.append(b.get_next_training_sample()["input_ids"].tolist())
        out.put((rank, batches, mixtures))


def test_two_ranks_share_the_mixture_and_split_one_stream(texts):
    ctx = mp.get_context("spawn")
    collectives = pipe_collectives(2, ctx)
    out = ctx.Queue()
    procs = [ctx.Process(target=_rank_main, args=(r, collectives[r], out)) for r in range(2)]
    for p in procs:
        p.start()
    results = dict((r, (b, m)) for r, b, m in (out.get(timeout=300) for _ in procs))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    (b0, m0), (b1, m1) = results[0], results[1]
    assert len(m0) >= 2 and m0 == m1, "every rank uses rank 0's mixture"
    assert all(np.asarray(x).tolist() != np.asarray(y).tolist() for x in b0 for y in b1), "disjoint batches"

    # One process with the same seed and the mean losses: its stream interleaves the two ranks'.
    with birdie.Birdie(small_config(texts)) as one:
        single = []
        for step in range(2 * STEPS):
            if one.time_for_eval(step):
                for name, _ in one.measure_validation_losses():
                    one.log_validation_loss(name, 4.5 + 0.05 * len(name) - 0.02 * step, step)
            single.append(one.get_next_training_sample()["input_ids"].tolist())
    assert single[0::2][:4] == b0[:4] and single[1::2][:4] == b1[:4]


def _torch_rank_main(rank, port, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        texts = make_texts()
        # rank and world size come from torch.distributed, and so does the collective.
        with birdie.Birdie(small_config(texts)) as b:
            assert (b.rank, b.world_size) == (rank, 2)
            mixtures = []
            for step in range(STEPS):
                if b.time_for_eval(step):
                    for name, _ in b.measure_validation_losses():
                        b.log_validation_loss(name, 4.0 + rank + 0.05 * len(name) - 0.02 * step, step)
                    mixtures.append(b.get_current_action().tolist())
                b.get_next_training_sample()
            out.put((rank, mixtures))
    finally:
        dist.destroy_process_group()


def test_torch_distributed_ranks_share_the_mixture():
    import pytest

    pytest.importorskip("torch", reason="torch is not installed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_torch_rank_main, args=(r, port, out)) for r in range(2)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(results[0]) >= 2 and results[0] == results[1]
