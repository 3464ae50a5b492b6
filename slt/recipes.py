"""Training recipes by data set: the papers' settings, which any field can override.

CIFAR-10 (Conv6, ResNet-18): SGD, momentum 0.9, lr 0.1, weight decay 1e-4,
batch 128, cosine, 100 epochs. Graphs (GIN): AdamW, lr 0.01, no weight decay,
400 epochs on the full graph. Fashion-MNIST (our first, CPU-sized example):
SGD with lr 0.3, chosen on the validation split, because Kaiming-normal scores
of a 784-input layer are three times smaller than those of a 3x3 convolution.
"""

from __future__ import annotations

from typing import Any

RECIPES: dict[str, dict[str, Any]] = {
    "fashion-mnist": {
        "optimizer": "sgd",
        "lr": 0.3,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "batch_size": 128,
        "epochs": 2,
    },
    "cifar10": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "batch_size": 128, "epochs": 100},
    "graph": {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.0, "epochs": 400},
}


def recipe(dataset: str) -> dict[str, Any]:
    """The default training settings for a data set."""
    from .config import check_choice
    from .data import DATASETS, GRAPH_DATASETS

    check_choice("dataset", dataset, DATASETS)
    return dict(RECIPES["graph" if dataset in GRAPH_DATASETS else dataset])
