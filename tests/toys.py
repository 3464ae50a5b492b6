"""Toy models with sizes one can reason about by hand."""

from __future__ import annotations

from torch import nn


def toy_mlp(sizes: tuple[int, ...] = (20, 30, 16, 5)) -> nn.Sequential:
    """A small bias-free MLP whose layer sizes differ, so layer-wise rules matter."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1], bias=False), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def toy_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8, affine=False),
        nn.ReLU(),
        nn.Conv2d(8, 4, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 10, bias=False),
    )
