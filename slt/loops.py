"""The epoch loops: what one epoch of training and one evaluation mean for each kind of data.

Image classification cuts mini-batches from uint8 tensors that live on the
training device, with the data set's augmentation (CIFAR's random crop and
flip) done on the device for the whole batch at once. Node classification trains on the full graph, one
optimizer step per epoch (the GIN recipe). Random draws come from per-epoch
CPU generators derived from the seed, so a resumed run repeats exactly the
batches an uninterrupted one would have seen.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from .config import RunConfig
from .data import DataSplits, Split, dataset_spec, load_image_splits
from .rng import derive_seed

if TYPE_CHECKING:
    from torch_geometric.data import Data

EVAL_BATCH = 1000


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, inputs: tuple[torch.Tensor, ...], labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on one batch; returns the batch's loss (detached) and logits.

    The only training step of the package: the epoch loops and the benchmarks time this one.
    """
    logits = model(*inputs)
    loss = nn.functional.cross_entropy(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits


def epoch_generator(config: RunConfig, epoch: int) -> torch.Generator:
    """The random draws of one epoch depend only on the seed and the epoch."""
    return torch.Generator().manual_seed(derive_seed(config.seed, f"epoch{epoch}", "data"))


class Task(Protocol):
    """What the trainer needs of a data set: one epoch of training, and accuracies per split."""

    input_shape: tuple[int, ...]
    num_classes: int
    variant: str
    train_examples: int
    test_examples: int

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int) -> dict[str, float]: ...

    def accuracies(self, model: nn.Module, splits: tuple[str, ...] = ("val", "test")) -> dict[str, float]: ...


class ImageTask:
    """Mini-batch image classification over :class:`~slt.data.DataSplits` held on one device."""

    def __init__(self, data: DataSplits, config: RunConfig, progress: bool) -> None:
        self.data, self.config, self.progress = data, config, progress
        self.augment = dataset_spec(config.dataset).augment
        subset = config.train_subset
        self.splits = {
            "train": data.train if subset is None else data.train.subset(subset),
            "val": data.val if config.val_subset is None else data.val.subset(config.val_subset),
            "test": data.test,
        }
        self.input_shape, self.num_classes, self.variant = data.input_shape, data.num_classes, data.variant
        self.train_examples = len(self.splits["train"])
        self.test_examples = len(self.splits["test"])

    def _batches(self, train: Split, epoch: int):
        g = epoch_generator(self.config, epoch)
        n, device = len(train), train.images.device
        order = torch.randperm(n, generator=g).to(device)
        drawn = self.augment.draw(n, g, device) if self.augment else None
        for start in range(0, n, self.config.batch_size):
            idx = order[start : start + self.config.batch_size]
            images = train.images[idx]
            if self.augment:
                images = self.augment.apply(images, drawn, idx)
            yield self.data.normalize(images), train.labels[idx]

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int) -> dict[str, float]:
        model.train()
        train = self.splits["train"]
        total_loss = torch.zeros((), device=train.images.device)
        correct = torch.zeros((), device=train.images.device)
        steps = -(-len(train) // self.config.batch_size)
        batches = tqdm(
            self._batches(train, epoch),
            total=steps,
            desc=f"epoch {epoch + 1}/{self.config.epochs}",
            leave=False,
            disable=not self.progress,
        )
        for images, labels in batches:
            loss, logits = train_step(model, optimizer, (images,), labels)
            total_loss += loss * len(labels)
            correct += (logits.argmax(1) == labels).sum()
        return {"train_loss": float(total_loss) / len(train), "train_acc": float(correct) / len(train)}

    @torch.no_grad()
    def accuracies(self, model: nn.Module, splits: tuple[str, ...] = ("val", "test")) -> dict[str, float]:
        """Top-1 accuracy on each split, in eval mode, keyed ``<split>_acc``."""
        model.eval()
        result = {}
        for split in splits:
            data = self.splits[split]
            correct = torch.zeros((), device=data.images.device)
            for start in range(0, len(data), EVAL_BATCH):
                logits = model(self.data.normalize(data.images[start : start + EVAL_BATCH]))
                correct += (logits.argmax(1) == data.labels[start : start + EVAL_BATCH]).sum()
            result[f"{split}_acc"] = float(correct) / max(1, len(data))
        return result


class GraphTask:
    """Full-graph node classification: one optimizer step per epoch."""

    def __init__(self, graph: Data, config: RunConfig) -> None:
        from ._pyg import import_torch_geometric

        to_undirected = import_torch_geometric().utils.to_undirected

        self.graph, self.config = graph, config
        self.edge_index = to_undirected(graph.edge_index, num_nodes=graph.num_nodes)
        self.input_shape, self.num_classes = (graph.num_features,), graph.num_classes
        self.variant = graph.variant
        self.masks = {"train": graph.train_mask, "val": graph.val_mask, "test": graph.test_mask}
        self.train_examples = int(graph.train_mask.sum())
        self.test_examples = int(graph.test_mask.sum())

    def train_epoch(self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int) -> dict[str, float]:
        model.train()
        mask = self.masks["train"]
        logits = model(self.graph.x, self.edge_index)[mask]
        loss = nn.functional.cross_entropy(logits, self.graph.y[mask])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        acc = (logits.argmax(1) == self.graph.y[mask]).float().mean()
        return {"train_loss": float(loss.detach()), "train_acc": float(acc)}

    @torch.no_grad()
    def accuracies(self, model: nn.Module, splits: tuple[str, ...] = ("val", "test")) -> dict[str, float]:
        """Accuracy on each node split from one forward pass over the whole graph."""
        model.eval()
        correct = model(self.graph.x, self.edge_index).argmax(1) == self.graph.y
        return {f"{split}_acc": float(correct[self.masks[split]].float().mean()) for split in splits}

    def to(self, device: torch.device) -> GraphTask:
        self.graph = self.graph.to(device)
        self.edge_index = self.edge_index.to(device)
        self.masks = {k: v.to(device) for k, v in self.masks.items()}
        return self


def load_task(
    config: RunConfig, data_dir: str | os.PathLike[str] | None, device: torch.device, progress: bool = True
) -> Task:
    """The data of a run, on ``device``, wrapped in the task that knows how to train on it."""
    spec = dataset_spec(config.dataset)
    if spec.kind == "graph":
        return GraphTask(spec.load(data_dir, config.graph_split), config).to(device)
    data = load_image_splits(
        config.dataset,
        data_dir,
        val_fraction=config.val_fraction,
        seed=config.seed,
        accept_copy=config.accept_data_copy,
    )
    return ImageTask(data.to(device), config, progress)
