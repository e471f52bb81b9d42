"""``python -m birdie.bench``: batches/s and tokens/s of the Python package at sequence 2048 × batch 8 with the
birdie preset on the bundled corpus (compare ``birdie bench pipeline`` of the Rust binary)."""

from __future__ import annotations

import argparse
import time

from .birdie import Birdie


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--objectives", default="birdie")
    p.add_argument("--workers", type=int, default=0)
    a = p.parse_args()
    cfg = {"batch_size": a.batch, "sequence_length": a.seq, "objectives": a.objectives, "num_workers": a.workers,
           "controller": False, "seed": 0}
    start = time.perf_counter()
    with Birdie(cfg) as b:
        ready = time.perf_counter()
        for _ in range(5):  # warm-up: the workers fill their prefetch
            b.get_next_training_sample()
        t0 = time.perf_counter()
        batches = 0
        while time.perf_counter() - t0 < a.seconds:
            b.get_next_training_sample()
            batches += 1
        secs = time.perf_counter() - t0
    rate = batches / secs
    print(f"setup: {ready - start:.2f} s (tokenizing the bundled corpus)")
    print(f"batches/s: {rate:.1f}")
    print(f"tokens/s: {rate * a.batch * a.seq:,.0f} (positions; {a.batch} x {a.seq}, {a.objectives}, {batches} batches)")


if __name__ == "__main__":
    main()
