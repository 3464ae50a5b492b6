"""The data sets the library trains on, by name: one :class:`DatasetSpec` each.

To add a data set, write ``slt/data/<name>.py`` with a loader and a ``SPEC``
(see :mod:`slt.data.spec`), and add that spec to ``DATASETS`` below: one line.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError
from . import cifar10, fashion_mnist, graphs
from .base import DATA_DIR_ENV, DataSplits, ImageSet, Split, resolve_data_dir, split_train_val
from .spec import DatasetSpec

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        cifar10.SPEC,
        graphs.CORA,
        graphs.CITESEER,
        graphs.OGBN_ARXIV,
        fashion_mnist.SPEC,
    )
}
"""Every data set by name, in the order figures and tables list them."""


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a registered data set, or one sentence naming the choices."""
    if name not in DATASETS:
        raise ConfigError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]


def graph_datasets() -> tuple[str, ...]:
    """The names of the registered node-classification graphs."""
    return tuple(name for name, spec in DATASETS.items() if spec.kind == "graph")


def load_image_splits(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    **loader_options: Any,
) -> DataSplits:
    """An image data set split three ways: its official test split, and its training split cut into
    training and validation (``val_fraction``, drawn by ``seed``; the papers use 4:1).

    ``loader_options`` go to the data set's loader (``accept_copy``, ``download``).
    """
    from ..config import check_ratio

    spec = dataset_spec(name)
    if spec.kind != "image":
        raise ConfigError(f"{name} is a {spec.kind} data set, not an image one: load it with its spec's loader.")
    check_ratio("val_fraction", val_fraction, closed_above=False)
    if spec.mean is None or spec.std is None:
        raise ConfigError(f"the image data set {name} has no mean and std in its DatasetSpec: add them there.")
    images = spec.load(data_dir, **loader_options)
    train, val = split_train_val(images.train.images, images.train.labels, val_fraction, seed)
    return DataSplits(name, train, val, images.test, spec.mean, spec.std, spec.num_classes, images.variant)


def recipe(name: str) -> dict[str, Any]:
    """The papers' default training settings for a data set (a copy: change it freely)."""
    return dict(dataset_spec(name).recipe)


__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "DataSplits",
    "DatasetSpec",
    "ImageSet",
    "Split",
    "dataset_spec",
    "graph_datasets",
    "load_image_splits",
    "recipe",
    "resolve_data_dir",
]
