"""Random weights and scores, drawn from the seed (see :mod:`slt.rng`).

Weights follow the papers: Kaiming uniform (the default of the frozen-network
paper), Kaiming normal, or the signed Kaiming constant of Ramanujan et al.
(2020), ``sign * std``. A ticket search multiplies signed constants by
``1/sqrt(1 - k_l)`` at the layer's current sparsity, so that a layer that keeps
a fraction ``1 - k_l`` of its weights keeps the variance of its output; that
scale follows the mask, so it lives in :mod:`slt.supermask`, not here.
Scores are Kaiming normal.
"""

from __future__ import annotations

import math

import torch

from .rng import generator

WEIGHT_INITS: tuple[str, ...] = ("kaiming_uniform", "kaiming_normal", "signed_constant")

RELU_GAIN = math.sqrt(2.0)


def fan_in(shape: torch.Size | tuple[int, ...]) -> int:
    """Inputs feeding one output unit: in_features, or in_channels x kernel size."""
    return math.prod(shape[1:])


def draw_weight(
    shape: torch.Size | tuple[int, ...],
    method: str,
    seed: int,
    name: str,
) -> torch.Tensor:
    """The random weight of one layer, on the CPU.

    All three methods start from the same uniform draw, so they share signs for a given seed.
    """
    std = RELU_GAIN / math.sqrt(fan_in(shape))
    g = generator(seed, name, "weight")
    if method == "kaiming_normal":
        return torch.randn(shape, generator=g) * std
    uniform = torch.rand(shape, generator=g) * 2.0 - 1.0
    if method == "kaiming_uniform":
        return uniform * (math.sqrt(3.0) * std)
    if method == "signed_constant":
        return torch.where(uniform >= 0, std, -std)
    raise ValueError(f"unknown weight initialisation {method!r}; choose one of {WEIGHT_INITS}")


def draw_scores(shape: torch.Size | tuple[int, ...], seed: int, name: str) -> torch.Tensor:
    """Kaiming-normal Edge-Popup scores of one layer, on the CPU."""
    std = RELU_GAIN / math.sqrt(fan_in(shape))
    return torch.randn(shape, generator=generator(seed, name, "score")) * std
