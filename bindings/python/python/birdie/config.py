"""Translation of a Birdie config dictionary (the reference implementation's keys plus birdie's own) into the
settings and documents the native session takes."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional

from ._native import BirdieError

PRESETS = ("birdie", "ul2", "ul2-decoder", "ntp", "fixed-ratio")

# Keys of the config dictionary and what they mean; anything else is refused with this list.
KNOWN_KEYS = {
    "batch_size": "rows per batch (default 8)",
    "sequence_length": "tokens per row (default 2048)",
    "num_workers": "data worker threads (default: one per core; never changes the batches)",
    "steps_between_evaluations": "evaluate every this many steps (default: the paper's schedule over num_steps)",
    "num_steps": "training steps of the run (default 32768)",
    "objectives": "a preset name, a TOML file of [[arms]], or the reference's list of objective dicts",
    "validation_objectives": "accepted for compatibility; validation uses the training objectives",
    "ds": "documents: None (bundled corpus), texts, paths, {'shards': dir}, {'train': .., 'validation': ..}, "
    "an iterable, or a function (split, worker_id, num_workers, rng_seed)",
    "text_grabber_fn": "item -> text for items of ds (default: the item itself, or item['text'])",
    "tokenizer": "None (birdie's bundled tokenizer), a tokenizers.Tokenizer, or a tokenizer.json path",
    "reward_fn": "accepted for compatibility and ignored: birdie computes the paper's reward",
    "seed": "seed of every random draw (default 0)",
    "validation_rows": "validation rows per objective (default 8)",
    "max_documents": "documents read from an iterable or generator ds, per split (default 200000)",
    "controller": "re-choose the mixture at evaluations (default True)",
    "controller_config": "dict of birdie's [controller] settings",
    "reward_model": "dict of birdie's [reward_model] settings",
    "rank": "this process's rank (default: from torch.distributed or the accelerator, else 0)",
    "world_size": "number of processes (default: from torch.distributed or the accelerator, else 1)",
    "collective": "a birdie.distributed collective (default: torch.distributed when initialised)",
    "accelerator": "a Hugging Face Accelerator (gives rank and world size)",
}


@dataclass
class Resolved:
    """A config resolved for the native session."""

    settings: Dict[str, Any]
    tokenizer_json: Optional[bytes]
    documents: Dict[str, Any] = field(default_factory=dict)


def _default_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return item["text"]
    raise BirdieError(
        f"ds yielded a {type(item).__name__}, not text: give text_grabber_fn (item -> str) "
        "or yield strings or dicts with a 'text' field"
    )


def _objectives(value: Any) -> Dict[str, Any]:
    if value is None:
        return {"kind": "preset", "name": "birdie"}
    if isinstance(value, str) and value in PRESETS:
        return {"kind": "preset", "name": value}
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.exists(path):
            raise BirdieError(
                f"objectives = {path!r}: neither a preset ({', '.join(PRESETS)}) nor an existing TOML or JSON file"
            )
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".json"):
            return {"kind": "birdie_rl", "json": text, "name": path}
        return {"kind": "toml", "text": text, "name": path}
    if isinstance(value, (list, tuple)):
        try:
            text = json.dumps(list(value))
        except TypeError as e:
            raise BirdieError(f"objectives: the list is not plain data ({e})") from e
        return {"kind": "birdie_rl", "json": text, "name": "objectives"}
    raise BirdieError(f"objectives: expected a preset name, a file path or a list of dicts, got {type(value).__name__}")


def _tokenizer(value: Any) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise BirdieError(f"tokenizer = {path!r}: {e}") from e
    to_str = getattr(value, "to_str", None)
    if callable(to_str):  # tokenizers.Tokenizer
        return to_str().encode("utf-8")
    backend = getattr(value, "backend_tokenizer", None)  # transformers' fast tokenizers
    if backend is not None and callable(getattr(backend, "to_str", None)):
        return backend.to_str().encode("utf-8")
    raise BirdieError(
        f"tokenizer: expected None (birdie's bundled tokenizer), a tokenizers.Tokenizer or a tokenizer.json path, "
        f"got {type(value).__name__}"
    )


def _take_texts(items: Iterable[Any], grab: Callable[[Any], str], limit: int) -> List[str]:
    texts = []
    for item in items:
        if len(texts) >= limit:
            break
        text = grab(item)
        if not isinstance(text, str):
            raise BirdieError(f"text_grabber_fn returned a {type(text).__name__}, not a str")
        texts.append(text)
    return texts


def _documents(ds: Any, grab: Callable[[Any], str], seed: int, limit: int) -> Dict[str, Any]:
    if ds is None:
        return {}
    if isinstance(ds, (str, os.PathLike)):
        return {"paths": [os.fspath(ds)]}
    if isinstance(ds, dict):
        if "shards" in ds:
            return {"shards": os.fspath(ds["shards"])}
        if "paths" in ds:
            return {"paths": [os.fspath(p) for p in ds["paths"]]}
        if "train" in ds:
            out = {"train_texts": _take_texts(ds["train"], grab, limit)}
            if ds.get("validation") is not None:
                out["validation_texts"] = _take_texts(ds["validation"], grab, limit)
            return out
        raise BirdieError(f"ds: a dict needs 'train' (and 'validation'), 'paths' or 'shards'; got keys {sorted(ds)}")
    if isinstance(ds, (list, tuple)) and ds and all(isinstance(p, os.PathLike) for p in ds):
        return {"paths": [os.fspath(p) for p in ds]}
    if callable(ds):
        # The reference's data generator: ds(split, worker_id, num_workers, rng_seed) -> iterable of items.
        train = _take_texts(ds("train", 0, 1, seed), grab, limit)
        validation = _take_texts(ds("validation", 0, 1, seed), grab, limit)
        out = {"train_texts": train}
        if validation:
            out["validation_texts"] = validation
        return out
    if isinstance(ds, Iterable):
        return {"train_texts": _take_texts(ds, grab, limit)}
    raise BirdieError(f"ds: expected texts, paths, a dict, an iterable or a function, got {type(ds).__name__}")


def _rank_and_world(config: Dict[str, Any]) -> tuple:
    if "rank" in config or "world_size" in config:
        return int(config.get("rank", 0)), int(config.get("world_size", 1))
    acc = config.get("accelerator")
    if acc is not None:
        return int(getattr(acc, "process_index", 0)), int(getattr(acc, "num_processes", 1))
    try:
        import torch.distributed as dist  # type: ignore

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except ImportError:
        pass
    return 0, 1


def resolve(config: Dict[str, Any]) -> Resolved:
    """Checks the keys and resolves a config; errors name the key."""
    if not isinstance(config, dict):
        raise BirdieError(f"Birdie(config): expected a dict, got {type(config).__name__}")
    unknown = sorted(set(config) - set(KNOWN_KEYS))
    if unknown:
        allowed = "\n".join(f"  {k}: {v}" for k, v in KNOWN_KEYS.items())
        raise BirdieError(f"unknown config key(s) {', '.join(map(repr, unknown))}; the keys are:\n{allowed}")
    if config.get("reward_fn") is not None:
        warnings.warn("reward_fn is ignored: birdie computes the paper's reward from the validation losses", stacklevel=3)
    seed = int(config.get("seed", 0))
    rank, world = _rank_and_world(config)
    grab = config.get("text_grabber_fn") or _default_text
    steps_between = config.get("steps_between_evaluations")
    settings = {
        "batch_size": int(config.get("batch_size", 8)),
        "seq_len": int(config.get("sequence_length", 2048)),
        "seed": seed,
        "workers": int(config.get("num_workers", 0) or 0),
        "total_steps": int(config.get("num_steps", 32768)),
        "eval_every": None if steps_between is None else int(steps_between),
        "validation_rows": int(config.get("validation_rows", 8)),
        "objectives": _objectives(config.get("objectives")),
        "controller": bool(config.get("controller", True)),
        "rank": rank,
        "world_size": world,
    }
    for key in ("controller_config", "reward_model"):
        if config.get(key) is not None:
            settings[key] = dict(config[key])
    documents = _documents(config.get("ds"), grab, seed, int(config.get("max_documents", 200_000)))
    return Resolved(settings=settings, tokenizer_json=_tokenizer(config.get("tokenizer")), documents=documents)
