"""Reference rows for the graph experiments: GCN and GIN as the field trains them.

These are not ticket models: they are torch_geometric's own layers with
trained weights and biases, in the recipe of torch_geometric's classic
examples (Kipf & Welling's GCN; a standard two-layer GIN), trained on exactly
the data and split the ticket runs see (``slt.data.graphs.load_graph``).
They say what accuracy a graph and split allow, so a ticket's accuracy can be
read against it.

Recipe of both: dropout 0.5 on the input and the hidden layer, Adam lr 0.01,
weight decay 5e-4, 200 full-graph steps, the test accuracy of the epoch with
the best validation accuracy (the first such epoch). The GCN has 16 hidden
channels and, as in torch_geometric's ``examples/gcn.py`` and Kipf's code,
weight decay on its first layer only; the GIN has two ``GINConv`` layers (sum
aggregation, eps = 0), each an MLP of two Linear layers with 64 hidden
channels, and weight decay on all its parameters.

One JSON record per run, named ``<model>-<dataset>-<split>-seed<k>.json``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .._pyg import import_torch_geometric
from ..errors import ConfigError
from ..records import environment, write_json_atomic

BASELINES: tuple[str, ...] = ("gcn", "gin")
HIDDEN = {"gcn": 16, "gin": 64}
EPOCHS = 200
LR = 0.01
WEIGHT_DECAY = 5e-4
DROPOUT = 0.5


class TwoLayerGNN(nn.Module):
    """Dropout, the first graph layer, ReLU, dropout, the second graph layer: the shape both references share."""

    conv1: nn.Module
    conv2: nn.Module

    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        x = F.dropout(x, self.dropout, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


class GCN(TwoLayerGNN):
    """Two ``GCNConv`` layers with ReLU and dropout between them (Kipf & Welling 2017)."""

    def __init__(self, in_features: int, num_classes: int, hidden: int = HIDDEN["gcn"], dropout: float = DROPOUT):
        super().__init__(dropout)
        GCNConv = import_torch_geometric().nn.GCNConv
        self.conv1 = GCNConv(in_features, hidden, cached=True)
        self.conv2 = GCNConv(hidden, num_classes, cached=True)

    def param_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """Weight decay on the first layer only, as in torch_geometric's example and Kipf's code."""
        return [
            {"params": self.conv1.parameters(), "weight_decay": weight_decay},
            {"params": self.conv2.parameters(), "weight_decay": 0.0},
        ]


class GIN(TwoLayerGNN):
    """Two ``GINConv`` layers (sum aggregation, eps = 0), each a two-layer MLP, with ReLU and dropout between."""

    def __init__(self, in_features: int, num_classes: int, hidden: int = HIDDEN["gin"], dropout: float = DROPOUT):
        super().__init__(dropout)
        GINConv = import_torch_geometric().nn.GINConv
        self.conv1 = GINConv(nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden)))
        self.conv2 = GINConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)))

    def param_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        return [{"params": self.parameters(), "weight_decay": weight_decay}]


def build_baseline(model: str, in_features: int, num_classes: int) -> GCN | GIN:
    """A fresh reference model by name (``gcn`` or ``gin``); seed torch before calling for a repeatable draw."""
    if model == "gcn":
        return GCN(in_features, num_classes)
    if model == "gin":
        return GIN(in_features, num_classes)
    raise ConfigError(f"unknown baseline model {model!r}: choose one of {', '.join(BASELINES)}.")


def run_baseline(
    model: str,
    dataset: str,
    seed: int,
    split: str = "full",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    epochs: int = EPOCHS,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train one reference model on one graph and return its record (test accuracy at the best validation epoch)."""
    from ..data.graphs import load_graph

    if model not in BASELINES:
        raise ConfigError(f"unknown baseline model {model!r}: choose one of {', '.join(BASELINES)}.")
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs}.")
    to_undirected = import_torch_geometric().utils.to_undirected
    device = torch.device(device)
    graph = load_graph(dataset, data_dir, split)
    x, y = graph.x.to(device), graph.y.to(device)
    edge_index = to_undirected(graph.edge_index, num_nodes=graph.num_nodes).to(device)
    masks = {name: graph[f"{name}_mask"].to(device) for name in ("train", "val", "test")}

    start = time.perf_counter()
    torch.manual_seed(seed)  # the weights and every dropout mask
    net = build_baseline(model, graph.num_features, graph.num_classes).to(device)
    optimizer = torch.optim.Adam(net.param_groups(WEIGHT_DECAY), lr=LR)
    history: list[dict[str, float]] = []
    best = {"val_acc": -1.0, "test_acc": 0.0, "epoch": 0}
    for epoch in tqdm(
        range(1, epochs + 1), desc=f"{model} {dataset} {split} seed {seed}", leave=False, disable=not progress
    ):
        net.train()
        loss = F.cross_entropy(net(x, edge_index)[masks["train"]], y[masks["train"]])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        net.eval()
        with torch.no_grad():
            correct = net(x, edge_index).argmax(1) == y
        accs = {name: float(correct[masks[name]].float().mean()) for name in ("train", "val", "test")}
        history.append({"epoch": epoch, "train_loss": float(loss.detach())} | {f"{k}_acc": v for k, v in accs.items()})
        if accs["val"] > best["val_acc"]:
            best = {"val_acc": accs["val"], "test_acc": accs["test"], "epoch": epoch}
    wall = time.perf_counter() - start
    return {
        "model": model,
        "dataset": dataset.lower(),
        "split": split,
        "seed": seed,
        "test_acc": best["test_acc"],
        "best_val_acc": best["val_acc"],
        "best_epoch": best["epoch"],
        "epochs": epochs,
        "recipe": {
            "hidden": HIDDEN[model],
            "dropout": DROPOUT,
            "optimizer": "adam",
            "lr": LR,
            "weight_decay": WEIGHT_DECAY,
            "weight_decay_on": "first layer" if model == "gcn" else "all parameters",
        },
        "train_nodes": int(masks["train"].sum()),
        "val_nodes": int(masks["val"].sum()),
        "test_nodes": int(masks["test"].sum()),
        "data_variant": graph.variant,
        "wall_seconds": wall,
        "device": str(device),
        "history": history,
        **environment(),
    }


def baseline_path(out_dir: str | os.PathLike[str], model: str, dataset: str, split: str, seed: int) -> Path:
    return Path(out_dir) / f"{model}-{dataset.lower()}-{split}-seed{seed}.json"


def baseline_sweep(
    out_dir: str | os.PathLike[str],
    datasets: Iterable[str] = ("cora", "citeseer"),
    seeds: Iterable[int] = (0, 1, 2),
    split: str = "full",
    models: Iterable[str] = BASELINES,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    epochs: int = EPOCHS,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> list[Path]:
    """Run every (model, data set, seed) whose record is missing from ``out_dir``; return all the record paths.

    A record that exists is kept as it is (the sweep resumes where it
    stopped), unless it was trained for another number of epochs, which is
    refused rather than mixed in.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = [(m, d, s) for m in models for d in datasets for s in seeds]
    paths = []
    for model, dataset, seed in tqdm(runs, desc=f"baselines ({split} split)", disable=not progress):
        path = baseline_path(out, model, dataset, split, seed)
        paths.append(path)
        if path.exists():
            done = json.loads(path.read_text())["epochs"]
            if done != epochs:
                raise ConfigError(
                    f"{path} was trained for {done} epochs, not {epochs}: write to another out_dir or delete it."
                )
            continue
        record = run_baseline(model, dataset, seed, split, data_dir, epochs=epochs, device=device, progress=progress)
        write_json_atomic(path, record)
    return paths


def load_baselines(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every baseline record in the folder ``path``, one row each (``history`` stays a list per row)."""
    records = [json.loads(p.read_text()) for p in sorted(Path(path).glob("*.json"))]
    if not records:
        raise ConfigError(f"no baseline records in {path}: run slt.paper.baselines.baseline_sweep there first.")
    return pd.DataFrame(records)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%) as mean and standard deviation over seeds per model, data set and split."""
    acc = df.assign(test_acc=100 * df["test_acc"])
    return (
        acc.groupby(["split", "dataset", "model"])["test_acc"].agg(mean="mean", std="std", runs="count").reset_index()
    )
