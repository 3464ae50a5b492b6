"""Speed of the exact theory solvers (a script, not a test).

Targets on a 2-core CPU: the exact worst-case error over a 2001-point target
grid for n = 40 samples in under 1 s, and the exact-hit probability over 1000
draws at n = 64 in under 5 s. Inputs whose sums lie far from the targets
(values in [5, 6], 44 values of 1e-9, a large locked sum), which used to take
over 90 s, must stay under 10 s. Prints a table and writes JSON.

    python bench/theory.py [--out bench/results/theory.json] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from slt.freezing import LOCKED, SEARCHABLE
from slt.theory.fixed_size import fixed_size_grid_errors
from slt.theory.frozen import frozen_grid_errors
from slt.theory.quantized import hit_probability, hitting_times
from slt.theory.subset_sum import grid_errors


def timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    """Wall-clock seconds of ``repeats`` calls (after one warm-up call) and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/theory.json", help="where to write the JSON results")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per case (after one warm-up)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    for n in (30, 40, 44):
        x = rng.uniform(-1, 1, n)
        times, errs = timed(lambda x=x: grid_errors(x, 2001), args.repeats)
        rows.append(
            {
                "case": f"subset sum, worst error over 2001 targets, n={n}",
                "target_s": 1.0 if n == 40 else None,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "result": float(np.max(errs)),
            }
        )

    x = rng.uniform(-1, 1, 40)
    times, errs = timed(lambda: fixed_size_grid_errors(x, 10, 2001), args.repeats)
    rows.append(
        {
            "case": "fixed-size subset sum, k=10, 2001 targets, n=40",
            "target_s": None,
            "median_s": statistics.median(times),
            "max_s": max(times),
            "result": float(np.max(errs)),
        }
    )

    far = {
        "subset sum, sums far from the targets (U[5, 6]), 2001 targets, n=44": lambda: grid_errors(
            np.random.default_rng(1).uniform(5, 6, 44)
        ),
        "subset sum, 44 values of 1e-9, 2001 targets": lambda: grid_errors(np.full(44, 1e-9)),
        "frozen, locked sum 1000, 40 searchable values, 2001 targets": lambda: frozen_grid_errors(
            np.r_[np.random.default_rng(2).uniform(-1, 1, 40), 500.0, 500.0],
            np.r_[np.full(40, SEARCHABLE), LOCKED, LOCKED],
        ),
    }
    for case, fn in far.items():
        times, errs = timed(fn, args.repeats)
        rows.append(
            {
                "case": case,
                "target_s": 10.0,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "result": float(np.max(errs)),
            }
        )

    for bits in (12, 16):
        times, hit_times = timed(
            lambda bits=bits: hitting_times(2**bits, 64, 1000, seed=1, progress=False), args.repeats
        )
        rows.append(
            {
                "case": f"quantized, P(all targets hit) over 1000 draws, n=64, M=2^{bits}",
                "target_s": 5.0,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "result": float(hit_probability(hit_times, [64])[0]),
                "median_hitting_time": float(np.median(hit_times)),
            }
        )

    width = max(len(r["case"]) for r in rows)
    print(f"{'case':<{width}}  {'median s':>9}  {'max s':>7}  {'target':>7}  result")
    for r in rows:
        target = f"< {r['target_s']:g}" if r["target_s"] else ""
        print(f"{r['case']:<{width}}  {r['median_s']:9.3f}  {r['max_s']:7.3f}  {target:>7}  {r['result']:.3g}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "repeats": args.repeats,
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
