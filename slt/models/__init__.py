"""Plain PyTorch models the papers search, built by name.

Every model is bias-free with non-affine normalisation, so that after
:func:`slt.supermask.apply_ticket_search` its only trainable parameters are
the scores. ``width`` multiplies the hidden sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..errors import ConfigError
from .conv6 import conv6
from .gin import gin
from .mlp import mlp
from .resnet import resnet18

MODELS: dict[str, Callable[..., nn.Module]] = {
    "mlp": mlp,
    "conv6": conv6,
    "resnet18": resnet18,
    "gin": gin,
}

GRAPH_MODELS = frozenset({"gin"})


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int, width: float = 1.0) -> nn.Module:
    """A fresh model: ``input_shape`` is (C, H, W) for images and (features,) for graphs."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    if width <= 0:
        raise ConfigError(f"width must be positive, got {width:g}.")
    return MODELS[name](tuple(input_shape), num_classes, width)


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build a model again (a ticket file stores it)."""

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    width: float = 1.0

    def build(self) -> nn.Module:
        return build_model(self.name, self.input_shape, self.num_classes, self.width)


__all__ = ["GRAPH_MODELS", "MODELS", "ModelSpec", "build_model"]
