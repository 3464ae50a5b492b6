"""What the library knows about a data set, in one place: :class:`DatasetSpec`.

A data set is one file under ``slt/data/`` that defines a loader and a ``SPEC``,
and one line in the registry of :mod:`slt.data`. Nothing else in the package
names a data set: the trainer, the recipes, the time estimate and the figures'
labels all read the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .augment import CropFlip


@dataclass(frozen=True)
class DatasetSpec:
    """One data set: its shape, its loader, its training recipe and how pages name it.

    ``load`` is called as ``load(data_dir, accept_copy=...)`` for images and returns the
    official splits as an :class:`~slt.data.base.ImageSet` (the validation split and the
    normalisation are made from this spec by :func:`slt.data.load_image_splits`); for graphs as
    ``load(data_dir, split)`` and returns a torch_geometric ``Data`` with boolean split masks
    (see :mod:`slt.data.graphs`).
    """

    name: str
    """The name configs and the command line use (``cifar10``)."""
    label: str
    """How figures and tables name it (``CIFAR-10``)."""
    kind: Literal["image", "graph"]
    """Image classification in mini-batches, or full-graph node classification."""
    input_shape: tuple[int, ...]
    """(C, H, W) of an image, or (features,) of a node."""
    num_classes: int
    train_examples: int
    """Training images after the 4:1 validation split, or labelled training nodes of the default split."""
    load: Callable[..., Any]
    recipe: Mapping[str, Any]
    """The papers' training settings for it (optimizer, lr, ...): defaults any config field overrides."""
    augment: CropFlip | None = None
    """The augmentation of its training batches (images only)."""
    mean: tuple[float, ...] | None = None
    """Per-channel mean of the images in [0, 1], for normalisation (images only)."""
    std: tuple[float, ...] | None = None
    """Per-channel standard deviation, for normalisation (images only)."""
    graph_size: tuple[int, int] | None = None
    """(nodes, directed edges) of a graph, for the time estimate."""
    copy_in_use: bool = False
    """The book's records use a copy of it that differs from the official files (CIFAR-10's JPEG copy):
    the reproduction's sweeps accept that copy and record its variant."""
