"""Shared fixtures: a small deterministic corpus of texts and small run settings."""

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

WORDS = (
    "the whale ship sea captain harpoon deck sail wind storm island harbour rope mast night morning bread "
    "letter house garden road river bridge stone tree field winter summer voice music table window door"
).split()


def make_texts(n: int = 120, seed: int = 7):
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        sentences = []
        for _ in range(rng.randint(4, 9)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
            sentences.append(" ".join(words).capitalize() + ".")
        texts.append(f"Document {i}. " + " ".join(sentences))
    return texts


@pytest.fixture(scope="session")
def texts():
    return make_texts()


def small_config(texts, **over):
    cfg = {
        "batch_size": 2,
        "sequence_length": 128,
        "num_steps": 40,
        "steps_between_evaluations": 4,
        "objectives": "birdie",
        "ds": {"train": texts[:100], "validation": texts[100:]},
        "seed": 3,
        "validation_rows": 2,
        "reward_model": {"width": 16, "layers": 1, "iterations": 5},
    }
    cfg.update(over)
    return cfg


def birdie_binary():
    """The birdie CLI (BIRDIE_BIN, or target/release/birdie under CARGO_TARGET_DIR or the repository), or None."""
    candidates = [os.environ.get("BIRDIE_BIN")]
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        candidates.append(os.path.join(target, "release", "birdie"))
    candidates.append(str(Path(__file__).resolve().parents[3] / "target" / "release" / "birdie"))
    candidates.append(shutil.which("birdie"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def run_cli(binary, *args, env=None):
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout
