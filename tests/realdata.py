"""Real data sets for tests, found through $SLT_DATA_DIR (the CI script prepares that directory)."""

from __future__ import annotations

import os
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
