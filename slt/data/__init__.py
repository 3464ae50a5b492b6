"""The data sets the library trains on, by name: one :class:`DatasetSpec` each.

To add a data set, write ``slt/data/<name>.py`` with a loader and a ``SPEC``
(see :mod:`slt.data.spec`), and add that spec to ``DATASETS`` below: one line.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from . import cifar10, fashion_mnist, graphs
from .base import DATA_DIR_ENV, DataSplits, Split, resolve_data_dir
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


def recipe(name: str) -> dict[str, Any]:
    """The papers' default training settings for a data set (a copy: change it freely)."""
    return dict(dataset_spec(name).recipe)


__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "DataSplits",
    "DatasetSpec",
    "Split",
    "dataset_spec",
    "graph_datasets",
    "recipe",
    "resolve_data_dir",
]
