"""``Birdie``: the reference implementation's call shape over birdie's native pipeline and controller."""

from __future__ import annotations

import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from . import config as _config
from ._native import BirdieError, Session
from .distributed import default_collective

Batch = Dict[str, np.ndarray]

# Every batch has these int32 arrays of shape (batch_size, sequence_length).
BATCH_KEYS = ("input_ids", "label_ids", "segment_ids", "attention_mask", "position_ids")


def _arrays(raw: Dict[str, Tuple[bytes, Tuple[int, int]]]) -> Batch:
    # Zero-copy views over the bytes the native side built (read-only arrays).
    return {k: np.frombuffer(b, dtype="<i4").reshape(shape) for k, (b, shape) in raw.items()}


def to_torch(batch: Batch, device: Any = None) -> Dict[str, Any]:
    """The batch as int64 torch tensors (a copy: the numpy arrays are read-only views)."""
    import torch  # noqa: PLC0415

    return {k: torch.from_numpy(v.astype(np.int64)).to(device) if device else torch.from_numpy(v.astype(np.int64))
            for k, v in batch.items()}


def _as_float(loss: Any) -> float:
    item = getattr(loss, "item", None)
    value = float(item()) if callable(item) else float(loss)
    return value


class Birdie:
    """Batches of the Birdie objective mixture, and the controller that re-chooses the mixture.

    ``config`` takes the reference's keys (``batch_size``, ``sequence_length``, ``num_workers``,
    ``steps_between_evaluations``, ``num_steps``, ``objectives``, ``ds``, ``text_grabber_fn``, ``tokenizer``,
    ``reward_fn``) and birdie's (``seed``, ``rank``, ``world_size``, ``collective``, ``validation_rows``,
    ``max_documents``, ``controller``, ``controller_config``, ``reward_model``); see ``birdie.config.KNOWN_KEYS``.

    A Birdie object belongs to the thread and process that created it (its data workers are threads of that
    process); in DataLoader workers, use ``BirdieIterable``.
    """

    def __init__(self, config: Dict[str, Any]) -> None:
        resolved = _config.resolve(config)
        self._settings = resolved.settings
        self.rank = resolved.settings["rank"]
        self.world_size = resolved.settings["world_size"]
        self._collective = config.get("collective") or default_collective(self.rank, self.world_size)
        if (self._collective.rank, self._collective.world_size) != (self.rank, self.world_size):
            raise BirdieError(
                f"collective is rank {self._collective.rank} of {self._collective.world_size}, "
                f"but the config says rank {self.rank} of {self.world_size}"
            )
        import json  # noqa: PLC0415

        self._native = Session(json.dumps(resolved.settings), resolved.tokenizer_json, **resolved.documents)
        added = self._native.added_special_tokens
        if added:
            warnings.warn(
                f"the tokenizer lacked {len(added)} of birdie's special tokens ({', '.join(added[:4])}"
                f"{', …' if len(added) > 4 else ''}); they were added, and the vocabulary is now "
                f"{self._native.vocab_size} entries: size the model's embedding by birdie.vocab_size",
                stacklevel=2,
            )
        for s in self._native.skipped:
            warnings.warn(f"birdie skipped {s}", stacklevel=2)
        self._names: List[str] = list(self._native.objective_names)
        self._pending: Dict[str, float] = {}
        self._steps = 0

    # -- training ------------------------------------------------------------------------------------------------

    def get_next_training_sample(self) -> Batch:
        """This rank's next batch: a dict of int32 arrays (``BATCH_KEYS``) of shape (batch_size, sequence_length)."""
        batch = _arrays(self._native.next_batch())
        self._steps += 1
        return batch

    def time_for_eval(self, step_idx: Optional[int] = None) -> bool:
        """Whether to measure validation losses before training step ``step_idx`` (default: the number of batches
        drawn so far)."""
        return self._native.is_eval_step(self._steps if step_idx is None else int(step_idx))

    # -- evaluation ----------------------------------------------------------------------------------------------

    @property
    def objective_names(self) -> List[str]:
        return list(self._names)

    def measure_validation_losses(self) -> Iterator[Tuple[str, Batch]]:
        """Yields (objective name, validation batch) for every objective; log each batch's loss with
        ``log_validation_loss``."""
        for name, raw in self._native.validation_batches():
            yield name, _arrays(raw)

    def log_validation_loss(self, key: str, loss: Any, step_idx: Optional[int] = None) -> None:
        """Records objective ``key``'s validation loss (mean over its label tokens). With the last objective's loss
        the losses are averaged over ranks, the controller chooses the next mixture on rank 0, and every rank
        applies it."""
        if key not in self._names:
            raise BirdieError(f"log_validation_loss: unknown objective {key!r}; the objectives are {self._names}")
        self._pending[key] = _as_float(loss)
        if len(self._pending) < len(self._names):
            return
        step = self._steps if step_idx is None else int(step_idx)
        losses = [self._pending[n] for n in self._names]
        self._pending = {}
        losses = self._collective.all_reduce_mean(losses)
        mixture = self._native.update(step, losses)
        if self.world_size > 1:
            chosen = self._collective.broadcast(mixture, src=0)
            if list(chosen) != list(mixture):
                self._native.set_mixture(chosen)

    def get_current_action(self) -> np.ndarray:
        """The mixture (one probability per objective, in ``objective_names`` order)."""
        return np.asarray(self._native.mixture())

    @property
    def mixture(self) -> Dict[str, float]:
        return dict(zip(self._names, self._native.mixture()))

    # -- state ---------------------------------------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to continue exactly (picklable; save it with your checkpoint)."""
        pipeline, controller, reward_model = self._native.state()
        return {
            "format": 1,
            "pipeline": pipeline,
            "controller": controller,
            "reward_model": reward_model,
            "steps": self._steps,
            "pending": dict(self._pending),
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Continues from ``state_dict()``: the next batch is the one that followed it."""
        if state.get("format") != 1:
            raise BirdieError(f"load_state_dict: unknown state format {state.get('format')!r} (expected 1)")
        self._native.load_state(state["pipeline"], state.get("controller"), state.get("reward_model"))
        self._steps = int(state["steps"])
        self._pending = dict(state.get("pending", {}))

    # -- tokenizer -----------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return self._native.vocab_size

    def encode(self, text: str) -> List[int]:
        return self._native.encode(text)

    def decode(self, ids: List[int]) -> str:
        return self._native.decode(list(ids))

    def close(self) -> None:
        """Stops the data workers (also when the object is garbage-collected)."""
        self._native.close()

    def __enter__(self) -> "Birdie":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _iterable_base() -> type:
    # A torch IterableDataset where torch is installed (DataLoader tells iterable datasets by their class), else a
    # plain iterable; torch is imported only when it is there.
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec("torch") is None:
        return object
    from torch.utils.data import IterableDataset  # noqa: PLC0415

    return IterableDataset


class BirdieIterable(_iterable_base()):  # type: ignore[misc]
    """An iterable of training batches that builds its ``Birdie`` in the process and thread that iterates it — for
    ``torch.utils.data.DataLoader`` workers (fork or spawn) and other worker processes. Each DataLoader worker takes
    its own share of the batch stream (worker ``w`` of ``n`` on rank ``r`` of ``R`` is rank ``r·n + w`` of ``R·n``).
    The mixture stays the objectives' own: controller updates need the training loop's ``Birdie``.
    """

    def __init__(self, config: Dict[str, Any], num_batches: Optional[int] = None) -> None:
        self._config = dict(config)
        self._num_batches = num_batches

    def __iter__(self) -> Iterator[Batch]:
        worker, workers = 0, 1
        try:
            from torch.utils.data import get_worker_info  # noqa: PLC0415

            info = get_worker_info()
            if info is not None:
                worker, workers = info.id, info.num_workers
        except ImportError:
            pass
        cfg = dict(self._config)
        rank, world = int(cfg.pop("rank", 0)), int(cfg.pop("world_size", 1))
        cfg.pop("collective", None)
        cfg.update(rank=rank * workers + worker, world_size=world * workers, controller=False)
        from .distributed import LocalCollective  # noqa: PLC0415

        cfg["collective"] = LocalCollective(cfg["rank"], cfg["world_size"])
        with Birdie(cfg) as b:
            n = 0
            while self._num_batches is None or n < self._num_batches:
                yield b.get_next_training_sample()
                n += 1
