"""Quick and full: the same code at two sizes.

``full`` is the papers' setting (whole data sets, the recipe's epochs, the
sweep's widths; meant for a GPU). ``quick`` proves the pipeline on a laptop
CPU in minutes: small subsets, a couple of epochs and narrower networks.
Numbers from quick runs are not the papers' results and the book never shows
them as such.
"""

from __future__ import annotations

from typing import Any

from .config import check_choice

MODES: tuple[str, ...] = ("quick", "full")

QUICK_IMAGES = {"epochs": 2, "train_subset": 2000, "eval_subset": 1000}
QUICK_GRAPHS = {"epochs": 40}
QUICK_WIDTH = {"mlp": 0.5, "conv6": 0.25, "resnet18": 0.125, "gin": 0.25}


def mode_settings(mode: str, model: str, dataset: str) -> dict[str, Any]:
    """RunConfig fields that ``mode`` changes from the full recipe, and ``width_scale`` for the width."""
    from .data import GRAPH_DATASETS

    check_choice("mode", mode, MODES)
    if mode == "full":
        return {"width_scale": 1.0}
    settings = dict(QUICK_GRAPHS if dataset in GRAPH_DATASETS else QUICK_IMAGES)
    settings["width_scale"] = QUICK_WIDTH.get(model, 1.0)
    return settings
