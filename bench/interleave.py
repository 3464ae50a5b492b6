"""How ``bench/cpu.py`` measures: interleaved, repeated rounds, the best round, and paired ratios.

Every case of a comparison is warmed up, then each round times a block of steps of every case, one
round in one order and the next in the reverse order. A case reports its best round, the median and
the spread (slowest round / fastest round); a ratio comes from the best times, with the range of the
per-round ratios (the rounds are paired: same moment, same order).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any


def noop() -> None:
    return None


@dataclasses.dataclass
class Timed:
    """One case of an interleaved measurement: what one step is, and what to set around a block of them."""

    name: str
    step: Callable[[], object]
    steps: int | None = None  # steps per round (None: the measurement's default)
    enter: Callable[[], None] = noop
    leave: Callable[[], None] = noop


def interleave(cases: list[Timed], rounds: int, steps: int, warmup: int, label: str) -> dict[str, list[float]]:
    """Seconds per step of each case, one value per round; rounds alternate the order of the cases."""
    for case in cases:
        case.enter()
        for _ in range(warmup):
            case.step()
        case.leave()
    times: dict[str, list[float]] = {case.name: [] for case in cases}
    for r in range(rounds):
        for case in cases if r % 2 == 0 else cases[::-1]:
            n = case.steps or steps
            case.enter()
            start = time.perf_counter()
            for _ in range(n):
                case.step()
            times[case.name].append((time.perf_counter() - start) / n)
            case.leave()
        shown = "  ".join(f"{name} {1000 * t[-1]:.0f}" for name, t in times.items())
        print(f"  {label}  round {r + 1}/{rounds} (ms/step): {shown}", flush=True)
    return times


def stats(seconds: list[float]) -> dict[str, Any]:
    ms = [1000 * s for s in seconds]
    return {
        "best_ms": min(ms),
        "median_ms": statistics.median(ms),
        "spread": max(ms) / min(ms),
        "rounds_ms": ms,
    }


def ratio(num: list[float], den: list[float]) -> dict[str, Any]:
    """num/den from the best times, and per round (the rounds are paired: same order, same moment)."""
    rounds = [n / d for n, d in zip(num, den, strict=True)]
    return {
        "best": min(num) / min(den),
        "median_round": statistics.median(rounds),
        "min_round": min(rounds),
        "max_round": max(rounds),
        "spread": max(rounds) / min(rounds),
        "rounds": rounds,
    }


MIN_ROUNDS = 5  # all of 5 paired rounds on one side happens by chance once in 16 (two-sided)


def verdict(r: dict[str, Any]) -> str:
    """An option against its baseline (r = option/baseline): a paired, every-round criterion."""
    few = f" ({len(r['rounds'])} rounds: too few to tell)" if len(r["rounds"]) < MIN_ROUNDS else ""
    if r["max_round"] < 1.0:
        return "faster in every round" + few
    if r["min_round"] > 1.0:
        return "slower in every round" + few
    return "within the noise"
