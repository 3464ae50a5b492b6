"""Plain PyTorch models the papers search, built by name.

Every model is bias-free with non-affine normalisation, so that after
:func:`slt.supermask.apply_ticket_search` its only trainable parameters are
the scores. ``width`` multiplies the hidden sizes.

To add a model, write ``slt/models/<name>.py`` with a function
``(input_shape, num_classes, width) -> nn.Module``, and add one
:class:`ModelEntry` line to ``MODELS`` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch import nn

from ..errors import ConfigError
from .conv6 import conv6
from .gin import gin
from .mlp import mlp
from .resnet import resnet18


@dataclass(frozen=True)
class ModelEntry:
    """How to build a model, how pages name it, and which kind of data it takes."""

    build: Callable[[tuple[int, ...], int, float], nn.Module]
    label: str
    data: Literal["image", "graph"] = "image"


MODELS: dict[str, ModelEntry] = {
    "conv6": ModelEntry(conv6, "Conv6"),
    "resnet18": ModelEntry(resnet18, "ResNet-18"),
    "gin": ModelEntry(gin, "GIN", data="graph"),
    "mlp": ModelEntry(mlp, "MLP"),
}
"""Every model by name, in the order figures and tables list them."""


def model_entry(name: str) -> ModelEntry:
    """The entry of a registered model, or one sentence naming the choices."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[name]


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int, width: float = 1.0) -> nn.Module:
    """A fresh model: ``input_shape`` is (C, H, W) for images and (features,) for graphs."""
    entry = model_entry(name)
    if width <= 0:
        raise ConfigError(f"width must be positive, got {width:g}.")
    return entry.build(tuple(input_shape), num_classes, width)


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build a model again (a ticket file stores it)."""

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    width: float = 1.0

    def build(self) -> nn.Module:
        return build_model(self.name, self.input_shape, self.num_classes, self.width)


__all__ = ["MODELS", "ModelEntry", "ModelSpec", "build_model", "model_entry"]
