"""Shared fixtures: the real data sets in $SLT_DATA_DIR (``realdata.data_dir_with`` skips a test without them).

Session-scoped, so that a test needing both a data set and a costly module fixture (a SLURM cluster)
is skipped before that fixture starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from realdata import data_dir_with


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    return data_dir_with("FashionMNIST/raw")


@pytest.fixture(scope="session")
def cifar10_dir() -> Path:
    return data_dir_with("cifar-10-batches-py")


@pytest.fixture(scope="session")
def cora_dir() -> Path:
    return data_dir_with("Planetoid/Cora/raw")
