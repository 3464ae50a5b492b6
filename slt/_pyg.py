"""torch_geometric, imported with its one import-time deprecation warning silenced.

torch_geometric 2.x calls ``torch.jit.script`` while it is imported, and torch
answers with a ``FutureWarning`` that users of this package can do nothing
about; unsilenced, it is printed into every graph chapter of the book. Only
that message is ignored, and only during the import.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType


def import_torch_geometric() -> ModuleType:
    """Import torch_geometric (once; later calls return the cached module)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
        return importlib.import_module("torch_geometric")
