"""Three scales, one code: how big each sweep's runs are and which grid points they cover.

* ``full``: the paper's settings (whole data sets, the recipe's epochs, the
  paper's widths, grids and three seeds); meant for a GPU.
* ``laptop``: the paper's comparisons at reduced width, data, epochs and grid,
  budgeted to run on a 2-core CPU (one run at most 10 minutes, one chapter's
  sweep at most 3 hours, all of them at most 12 hours). Its records are
  committed and the book draws its figures from them. How these numbers were
  chosen is the book's "How the laptop scale was chosen" page.
* ``quick``: minutes on a CPU; proves the pipeline in the tests, never a result.

This module is the one place that says what a scale changes: ``SIZES``,
per model, the fields of the run (width multiplier, training subset, epochs),
and ``GRIDS``, per sweep, the grid points and seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import check_choice

SCALES: tuple[str, ...] = ("quick", "laptop", "full")


@dataclass(frozen=True)
class Size:
    """What a scale changes in a model's runs; ``None`` keeps the paper's recipe."""

    width: float = 1.0
    """Multiplier of the sweep's widths (1.0: the paper's network)."""
    train_subset: int | None = None
    """Train on the first N images of the training split; None: all 40,000."""
    val_subset: int | None = None
    """Select on the first N images of the validation split; None: all 10,000."""
    epochs: int | None = None
    """None: the recipe's (100 for CIFAR-10, 400 for the GIN)."""
    recipe: dict[str, Any] = field(default_factory=dict)
    """Recipe fields changed at this scale for weight training only (each change justified on the validation split)."""


SIZES: dict[str, dict[str, Size]] = {
    "full": {},
    "laptop": {
        "conv6": Size(width=0.25, train_subset=12_800, val_subset=2_000, epochs=16, recipe={"lr": 0.01}),
        # 5 epochs: at 8, a run in a sweep (two at a time, one thread each) took 12.5-13.8 CPU minutes,
        # over the 10-minute budget (records removed in 108827d); at 5, 6.0-8.1 CPU minutes.
        "resnet18": Size(width=0.25, train_subset=12_800, val_subset=2_000, epochs=5),
        # Half the recipe's 400 epochs, and no fewer: the GIN's non-affine BatchNorm starts its running
        # variance at 1, row-normalised Cora features give its first layer a variance near 1e-4, and
        # full-graph training updates the running statistics once per epoch (momentum 0.1), so
        # eval-mode accuracy stays near chance for about the first 90 epochs (measured at 100 epochs).
        "gin": Size(epochs=200),
    },
    "quick": {
        "mlp": Size(width=0.5, train_subset=2_000, val_subset=1_000, epochs=2),
        "conv6": Size(width=0.25, train_subset=2_000, val_subset=1_000, epochs=2),
        "resnet18": Size(width=0.125, train_subset=2_000, val_subset=1_000, epochs=2),
        # 100 epochs, for the BatchNorm reason given at laptop scale: at 40 a frozen ticket's eval-mode
        # accuracy is still the largest class (0.32 on Cora), at 100 it reaches 0.81 (about a minute on a CPU).
        "gin": Size(width=0.25, epochs=100),
    },
}


QUICK_DEFAULT = Size(width=0.25, train_subset=2_000, val_subset=1_000, epochs=2)
"""The quick size of a model without its own: a quick run never trains at the paper's size."""


def size_of(scale: str, model: str) -> Size:
    """How ``model`` is trained at ``scale`` (a model the scale does not list: the paper's size, or
    :data:`QUICK_DEFAULT` at quick scale)."""
    check_choice("scale", scale, SCALES)
    return SIZES[scale].get(model, QUICK_DEFAULT if scale == "quick" else Size())


# The grid of every sweep at every scale. Seeds are the same for every grid point of a sweep.
GRIDS: dict[str, dict[str, dict[str, Any]]] = {
    "fig4": {
        "full": {
            "freeze": 0.6,
            "prune_shares": (1.0, 0.75, 0.5, 0.25, 0.0),
            "positions": (0.1, 0.3, 0.5, 0.7, 0.9),
            "seeds": (0, 1, 2),
        },
        # Three positions (the centre claim needs one on each side of the centre), the two extreme splits.
        "laptop": {"freeze": 0.6, "prune_shares": (1.0, 0.0), "positions": (0.1, 0.5, 0.9), "seeds": (0, 1)},
        "quick": {"freeze": 0.6, "prune_shares": (0.75, 0.25), "positions": (0.5,), "seeds": (0,)},
    },
    "fig5": {
        "full": {
            "models": ("conv6", "resnet18", "gin"),
            "graphs": ("cora", "citeseer", "ogbn-arxiv"),
            "freezes": (0.0, 0.2, 0.4, 0.6, 0.8, 0.9),
            "sparsities": {"conv6": (0.5, 0.7, 0.9), "resnet18": (0.5, 0.7, 0.9), "gin": (0.5, 0.7, 0.9)},
            "seeds": (0, 1, 2),
        },
        "laptop": {
            "models": ("conv6", "gin", "resnet18"),
            "graphs": ("cora",),
            "freezes": {"conv6": (0.0, 0.3, 0.6, 0.9), "resnet18": (0.0, 0.6, 0.9), "gin": (0.0, 0.6, 0.9)},
            "sparsities": {"conv6": (0.5, 0.7, 0.9), "resnet18": (0.7, 0.9), "gin": (0.5, 0.7, 0.9)},
            "seeds": (0, 1),
        },
        "quick": {
            "models": ("conv6", "resnet18", "gin"),
            "graphs": ("cora",),
            "freezes": (0.0, 0.5),
            "sparsities": {"conv6": (0.5,), "resnet18": (0.5,), "gin": (0.5,)},
            "seeds": (0,),
        },
    },
    "fig6": {
        "full": {"widths": (0.5, 1.0, 1.5, 2.0), "freeze": 0.6, "seeds": (0, 1, 2)},
        "laptop": {"widths": (0.5, 1.0, 1.5), "freeze": 0.6, "seeds": (0, 1)},
        "quick": {"widths": (0.5, 1.0), "freeze": 0.6, "seeds": (0,)},
    },
    "fig7": {
        "full": {"widths": (0.5, 1.0, 2.0), "freezes": (0.0, 0.6), "sparsity": 0.7, "seeds": (0, 1, 2)},
        "laptop": {"widths": (0.5, 1.0), "freezes": (0.0, 0.6), "sparsity": 0.7, "seeds": (0, 1)},
        "quick": {"widths": (0.5,), "freezes": (0.0, 0.6), "sparsity": 0.7, "seeds": (0,)},
    },
    "calibration": {
        "full": {"model": "conv6", "lrs": (0.1,), "seeds": (0,)},
        "laptop": {"model": "conv6", "lrs": (0.1, 0.03, 0.01), "seeds": (0,)},
        "quick": {"model": "conv6", "lrs": (0.1, 0.01), "seeds": (0,)},
    },
    "table1": {
        "full": {
            "models": ("conv6", "resnet18", "gin"),
            "graphs": ("cora", "citeseer", "ogbn-arxiv"),
            "freezes": {"conv6": (0.6,), "resnet18": (0.6, 0.8), "gin": (0.6,)},
            "seeds": (0, 1, 2),
        },
        "laptop": {
            "models": ("conv6", "gin", "resnet18"),
            "graphs": ("cora", "citeseer"),
            "freezes": {"conv6": (0.6,), "resnet18": (0.6, 0.8), "gin": (0.6,)},
            "seeds": {"conv6": (0, 1), "resnet18": (0, 1), "gin": (0, 1, 2)},
        },
        "quick": {
            "models": ("conv6", "resnet18", "gin"),
            "graphs": ("cora",),
            "freezes": {"conv6": (0.6,), "resnet18": (0.6, 0.8), "gin": (0.6,)},
            "seeds": (0,),
        },
    },
}


def grid(sweep: str, scale: str) -> dict[str, Any]:
    """The grid points of ``sweep`` at ``scale``."""
    check_choice("sweep", sweep, tuple(GRIDS))
    check_choice("scale", scale, SCALES)
    return GRIDS[sweep][scale]
