"""Data sets by name. Image sets return :class:`DataSplits`; graph sets a torch_geometric ``Data``."""

from __future__ import annotations

import os

from ..errors import ConfigError
from .base import DATA_DIR_ENV, DataSplits, Split, resolve_data_dir

IMAGE_DATASETS: tuple[str, ...] = ("fashion-mnist", "cifar10")
GRAPH_DATASETS: tuple[str, ...] = ("cora", "citeseer", "ogbn-arxiv")
DATASETS: tuple[str, ...] = IMAGE_DATASETS + GRAPH_DATASETS


def load_image_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    accept_copy: bool = False,
) -> DataSplits:
    """An image data set with a fixed train/validation split drawn by ``seed``."""
    if name == "fashion-mnist":
        from .fashion_mnist import load_fashion_mnist

        return load_fashion_mnist(data_dir, val_fraction=val_fraction, seed=seed)
    if name == "cifar10":
        from .cifar10 import load_cifar10

        return load_cifar10(data_dir, val_fraction=val_fraction, seed=seed, accept_copy=accept_copy)
    raise ConfigError(f"unknown image data set {name!r}: choose one of {', '.join(IMAGE_DATASETS)}.")


__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "GRAPH_DATASETS",
    "IMAGE_DATASETS",
    "DataSplits",
    "Split",
    "load_image_dataset",
    "resolve_data_dir",
]
