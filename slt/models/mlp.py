"""A bias-free multilayer perceptron (784-300-300-10 on Fashion-MNIST at width 1)."""

from __future__ import annotations

import math

from torch import nn


def mlp(input_shape: tuple[int, ...], num_classes: int, width: float = 1.0, hidden: int = 300) -> nn.Sequential:
    """Flatten, then two hidden ReLU layers of ``round(hidden * width)`` units."""
    h = max(1, round(hidden * width))
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(input_shape), h, bias=False),
        nn.ReLU(),
        nn.Linear(h, h, bias=False),
        nn.ReLU(),
        nn.Linear(h, num_classes, bias=False),
    )
