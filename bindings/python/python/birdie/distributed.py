"""Several processes, one mixture: the collective interface Birdie uses to average validation losses over ranks and
to hand rank 0's mixture to every rank.

A collective has ``rank``, ``world_size``, ``all_reduce_mean(values) -> list`` and ``broadcast(values, src=0) ->
list``. ``TorchCollective`` uses ``torch.distributed`` (chosen by default when it is initialised);
``pipe_collectives(n)`` makes ``n`` connected collectives over ``multiprocessing`` pipes, one to hand to each process
(tests, and trainers without torch.distributed).
"""

from __future__ import annotations

import multiprocessing
from typing import List, Optional, Sequence


class LocalCollective:
    """No communication: reductions are the identity. ``rank`` and ``world_size`` say which share of the batch stream
    the process takes (a DataLoader worker's, in ``BirdieIterable``)."""

    def __init__(self, rank: int = 0, world_size: int = 1) -> None:
        self.rank = rank
        self.world_size = world_size

    def all_reduce_mean(self, values: Sequence[float]) -> List[float]:
        return [float(v) for v in values]

    def broadcast(self, values: Sequence[float], src: int = 0) -> List[float]:
        return [float(v) for v in values]


class TorchCollective:
    """``torch.distributed`` (the default process group), for torchrun / FSDP trainers."""

    def __init__(self) -> None:
        import torch.distributed as dist  # noqa: PLC0415

        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError("TorchCollective needs an initialised torch.distributed process group")
        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    def _tensor(self, values: Sequence[float]):
        import torch  # noqa: PLC0415

        device = "cuda" if self._dist.get_backend() == "nccl" else "cpu"
        return torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)

    def all_reduce_mean(self, values: Sequence[float]) -> List[float]:
        t = self._tensor(values)
        self._dist.all_reduce(t)
        return (t / self.world_size).tolist()

    def broadcast(self, values: Sequence[float], src: int = 0) -> List[float]:
        t = self._tensor(values)
        self._dist.broadcast(t, src=src)
        return t.tolist()


class PipeCollective:
    """One process's end of a star of ``multiprocessing`` pipes with rank 0 at the centre (see ``pipe_collectives``)."""

    def __init__(self, rank: int, world_size: int, to_hub=None, to_ranks: Optional[list] = None) -> None:
        self.rank = rank
        self.world_size = world_size
        self._to_hub = to_hub
        self._to_ranks = to_ranks or []

    def all_reduce_mean(self, values: Sequence[float]) -> List[float]:
        values = [float(v) for v in values]
        if self.rank != 0:
            self._to_hub.send(values)
            return self._to_hub.recv()
        total = list(values)
        for conn in self._to_ranks:
            for i, v in enumerate(conn.recv()):
                total[i] += v
        mean = [v / self.world_size for v in total]
        for conn in self._to_ranks:
            conn.send(mean)
        return mean

    def broadcast(self, values: Sequence[float], src: int = 0) -> List[float]:
        if src != 0:
            raise ValueError("PipeCollective broadcasts from rank 0 only")
        if self.rank != 0:
            return self._to_hub.recv()
        values = [float(v) for v in values]
        for conn in self._to_ranks:
            conn.send(values)
        return values


def pipe_collectives(world_size: int, context=None) -> List[PipeCollective]:
    """``world_size`` connected collectives; hand element ``r`` to the process of rank ``r``."""
    ctx = context or multiprocessing.get_context()
    hub_ends, rank_ends = [], []
    for _ in range(world_size - 1):
        a, b = ctx.Pipe()
        hub_ends.append(a)
        rank_ends.append(b)
    out = [PipeCollective(0, world_size, to_ranks=hub_ends)]
    out += [PipeCollective(r, world_size, to_hub=rank_ends[r - 1]) for r in range(1, world_size)]
    return out


def default_collective(rank: int, world_size: int):
    """torch.distributed when it is initialised with this world size, else the one-process collective."""
    if world_size == 1:
        return LocalCollective()
    try:
        import torch.distributed as dist  # noqa: PLC0415

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() == world_size:
            return TorchCollective()
    except ImportError:
        pass
    from ._native import BirdieError  # noqa: PLC0415

    raise BirdieError(
        f"world_size = {world_size} needs a collective: initialise torch.distributed, or pass "
        "config['collective'] (for example one of birdie.distributed.pipe_collectives(world_size))"
    )
