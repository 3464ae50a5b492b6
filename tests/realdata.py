"""Real data sets for tests, found through $SLT_DATA_DIR (the CI script prepares that directory).

:func:`data_dir_with` is the one way a test finds real data and skips without it; conftest.py wraps
it in the fixtures ``fashion_mnist_dir``, ``cifar10_dir`` and ``cora_dir``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def data_dir_with(relative: str) -> Path:
    """The data directory named by $SLT_DATA_DIR if it holds ``relative``, else skip the test."""
    root = os.environ.get("SLT_DATA_DIR")
    if not root:
        pytest.skip("real data not configured: set SLT_DATA_DIR to a prepared data directory (.ci/run does)")
    if not (Path(root) / relative).exists():
        pytest.skip(f"{relative} is not in SLT_DATA_DIR={root}")
    return Path(root)


def copy_planetoid(root: Path, *names: str) -> Path:
    """``root`` as a data dir holding a copy of the real raw files of the Planetoid graphs ``names``.

    torch_geometric's processing writes next to the raw files, so a test reads a copy, never $SLT_DATA_DIR.
    """
    sources = {name: data_dir_with(f"Planetoid/{name}/raw") / "Planetoid" / name / "raw" for name in names}
    for name, source in sources.items():
        shutil.copytree(source, root / "Planetoid" / name / "raw")
    return root
