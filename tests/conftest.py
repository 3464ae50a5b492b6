"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from realdata import data_dir_with


@pytest.fixture
def fashion_mnist_dir() -> Path:
    return data_dir_with("FashionMNIST/raw")
