"""How many weights of each layer are pruned, locked, searchable and kept.

A frozen network fixes part of its weights at initialisation: *pruned* ones are
never in the ticket, *locked* ones always are; only the rest is searched. The
whole-network ratios (pruning ratio p, locking ratio r, sparsity k) become
per-layer counts through a layer-wise rule:

* ``uniform``: every layer gets the same fraction;
* ``epl`` (equal per layer): every layer keeps the same number of entries,
  capped at its size;
* ``erk`` (Erdős–Rényi kernel): a layer's density is proportional to
  ``(n_in + n_out + k_h + k_w) / (n_in n_out k_h k_w)``, capped at 1.

Each rule is a *water-filling*: layer l receives ``min(c * w_l, cap_l)``
entries, with one constant c chosen so that the counts add up to the total
(``w_l`` is 1 for EPL, the layer size for uniform, and the sum of the weight's
dimensions for ERK). Counts are then rounded by largest remainder so that the
whole network holds *exactly* the requested number.

Pruned and frozen counts follow the same rule; locked = frozen - pruned per
layer. Masks are drawn per layer from the seed (:mod:`slt.rng`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .rng import generator

LAYERWISE_RULES: tuple[str, ...] = ("uniform", "epl", "erk")

PRUNED, SEARCHABLE, LOCKED = -1, 0, 1


def count(ratio: float, total: int) -> int:
    """Entries that a ratio of a total stands for, rounded half up."""
    return math.floor(ratio * total + 0.5)


def rule_weights(shapes: Sequence[Sequence[int]], rule: str) -> list[float]:
    """The water-filling weight ``w_l`` of every layer under a layer-wise rule."""
    if rule == "uniform":
        return [float(math.prod(s)) for s in shapes]
    if rule == "epl":
        return [1.0 for _ in shapes]
    if rule == "erk":
        return [float(sum(s)) for s in shapes]
    raise ValueError(f"unknown layer-wise rule {rule!r}; choose one of {LAYERWISE_RULES}")


def water_fill(weights: Sequence[float], caps: Sequence[int], total: int) -> list[int]:
    """Integer counts ``min(c * w_l, cap_l)`` that add up to exactly ``total``.

    Ties in the rounding go to the earlier layer, so the result is deterministic.
    """
    if not 0 <= total <= sum(caps):
        raise ValueError(f"cannot place {total} entries in layers holding {sum(caps)}")
    quotas = [0.0] * len(caps)
    active = [i for i in range(len(caps)) if weights[i] > 0 and caps[i] > 0]
    remaining = float(total)
    # Saturate layers in the order in which they fill up, then share the rest.
    active.sort(key=lambda i: caps[i] / weights[i])
    while active:
        level = remaining / sum(weights[i] for i in active)
        first = active[0]
        if caps[first] <= level * weights[first]:
            quotas[first] = float(caps[first])
            remaining -= caps[first]
            active.pop(0)
            continue
        for i in active:
            quotas[i] = level * weights[i]
        break
    counts = [min(math.floor(q), c) for q, c in zip(quotas, caps, strict=True)]
    # Largest remainder; floating-point error can leave the floors one off either way.
    by_remainder = sorted(range(len(caps)), key=lambda i: (-(quotas[i] - counts[i]), i))
    while sum(counts) < total:
        i = next(i for i in by_remainder if counts[i] < caps[i])
        counts[i] += 1
        by_remainder.remove(i)
    while sum(counts) > total:
        i = next(i for i in reversed(by_remainder) if counts[i] > 0)
        counts[i] -= 1
        by_remainder.remove(i)
    return counts


@dataclass(frozen=True)
class LayerCounts:
    """Per-layer entry counts. ``kept = locked + selected``; sparsity = 1 - kept/size."""

    size: int
    pruned: int
    locked: int
    selected: int

    @property
    def searchable(self) -> int:
        return self.size - self.pruned - self.locked

    @property
    def kept(self) -> int:
        return self.locked + self.selected

    @property
    def sparsity(self) -> float:
        return 1.0 - self.kept / self.size


def layer_counts(
    shapes: Sequence[Sequence[int]], prune: float, lock: float, sparsity: float, rule: str
) -> list[LayerCounts]:
    """Split whole-network ratios into exact per-layer counts.

    The network keeps exactly ``round((1 - sparsity) N)`` entries, moved by at
    most one into ``[locked, N - pruned]`` when rounding the three ratios
    separately would leave the range.
    """
    weights = rule_weights(shapes, rule)
    sizes = [math.prod(s) for s in shapes]
    n = sum(sizes)
    n_pruned, n_frozen = count(prune, n), count(prune + lock, n)
    unpruned = water_fill(weights, sizes, n - n_pruned)
    searchable = water_fill(weights, unpruned, n - n_frozen)
    locked = [u - s for u, s in zip(unpruned, searchable, strict=True)]
    n_kept = min(max(count(1.0 - sparsity, n), sum(locked)), n - n_pruned)
    selected = water_fill(weights, searchable, n_kept - sum(locked))
    return [
        LayerCounts(size, size - u, lk, sel) for size, u, lk, sel in zip(sizes, unpruned, locked, selected, strict=True)
    ]


def draw_frozen_mask(shape: Sequence[int], counts: LayerCounts, seed: int, name: str) -> torch.Tensor:
    """The ternary freezing mask of one layer (int8: -1 pruned, 0 searchable, +1 locked).

    One random permutation per layer: its first ``pruned`` entries are pruned,
    the next ``locked`` are locked, so the two masks never overlap.
    """
    order = torch.randperm(counts.size, generator=generator(seed, name, "freeze"))
    mask = torch.zeros(counts.size, dtype=torch.int8)
    mask[order[: counts.pruned]] = PRUNED
    mask[order[counts.pruned : counts.pruned + counts.locked]] = LOCKED
    return mask.view(tuple(shape))


def position_search_space(freeze: float, sparsity: float) -> tuple[float, float]:
    """Pruning and locking ratios that centre the search space on the sparsity.

    Seed paper, Sec. 3.3: ``p = (f + 2k - 1)/2`` and ``r = (f - 2k + 1)/2``, so
    that ``[p, 1 - r]`` has ``k`` in its middle; when that would make a ratio
    negative, freeze with the other one alone (best effort).
    """
    p = (freeze + 2 * sparsity - 1) / 2
    r = (freeze - 2 * sparsity + 1) / 2
    if p < 0:
        return 0.0, freeze
    if r < 0:
        return freeze, 0.0
    return p, r
