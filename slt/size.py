"""Model size: what must be stored to rebuild a network.

Weight training stores 32 bits per weight. A strong lottery ticket stores one
bit per *searchable* weight: the random weights and the freezing masks are
drawn again from the seed, and pruned or locked entries need no bit. So a
dense source costs N bits, a sparse source (pruning ratio p) (1 - p) N, and a
frozen one (1 - p - r) N. Megabytes here are 10^6 bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BITS_PER_TRAINED_WEIGHT = 32
BYTES_PER_MB = 1_000_000


@dataclass(frozen=True)
class ModelSize:
    bits: int

    @property
    def megabytes(self) -> float:
        return self.bits / 8 / BYTES_PER_MB


def weight_training_size(num_weights: int) -> ModelSize:
    return ModelSize(BITS_PER_TRAINED_WEIGHT * num_weights)


def ticket_size(num_searchable: int) -> ModelSize:
    """One supermask bit per searchable weight (dense, sparse and frozen sources alike)."""
    return ModelSize(num_searchable)


def size_record(num_weights: int, num_searchable: int | None) -> dict[str, float | int]:
    """The size fields of a results record; ``num_searchable=None`` means weight training."""
    size = weight_training_size(num_weights) if num_searchable is None else ticket_size(num_searchable)
    return {"num_weights": num_weights, "model_bits": size.bits, "model_mb": size.megabytes}


def log10_candidate_tickets(num_searchable: int, num_selected: int) -> float:
    """log10 of the number of supermasks a search chooses from: C(searchable, selected).

    Frozen entries are decided before the search, so only the searchable ones
    count; computed with log-gamma because the binomial itself has millions of digits.
    """
    if not 0 <= num_selected <= num_searchable:
        raise ValueError(f"cannot select {num_selected} of {num_searchable} searchable weights")
    n, k = num_searchable, num_selected
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(10)
