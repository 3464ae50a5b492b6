"""One run: search a ticket (or train weights), select by validation, checkpoint, record.

The loop is deliberately short. Data live on the training device as uint8 and
batches are cut from a permutation drawn per epoch from the seed, so an
interrupted run resumes from its last checkpoint and ends in the same record
as one that never stopped. Test accuracy is reported at the epoch of best
validation accuracy.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .config import RunConfig
from .data import DataSplits, Split, load_image_dataset
from .errors import ConfigError
from .models import ModelSpec
from .results import environment, find_record, record_path, write_json_atomic
from .rng import derive_seed
from .size import size_record
from .supermask import TicketSearch, apply_ticket_search, initialize_weights

EVAL_BATCH = 1000


@dataclass
class Run:
    """A model ready to train, with its search handle (None for weight training)."""

    config: RunConfig
    spec: ModelSpec
    model: nn.Module
    search: TicketSearch | None


def build_run(config: RunConfig, input_shape: tuple[int, ...], num_classes: int) -> Run:
    """The model of a run, with its random weights (and supermask) drawn from the seed."""
    spec = ModelSpec(config.model, tuple(input_shape), num_classes, config.width)
    model = spec.build()
    if config.ticket is None:
        initialize_weights(model, config.seed)
        return Run(config, spec, model, None)
    return Run(config, spec, model, apply_ticket_search(model, config.ticket))


def make_optimizer(config: RunConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def epoch_generator(config: RunConfig, epoch: int) -> torch.Generator:
    """The batch order of one epoch depends only on the seed and the epoch (so resuming is exact)."""
    return torch.Generator().manual_seed(derive_seed(config.seed, f"epoch{epoch}", "data"))


@torch.no_grad()
def accuracy(model: nn.Module, split: Split, data: DataSplits) -> float:
    """Top-1 accuracy of the model in eval mode over a whole split."""
    model.eval()
    correct = 0
    for start in range(0, len(split), EVAL_BATCH):
        images = data.normalize(split.images[start : start + EVAL_BATCH])
        correct += int((model(images).argmax(1) == split.labels[start : start + EVAL_BATCH]).sum())
    return correct / max(1, len(split))


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DataSplits,
    train: Split,
    config: RunConfig,
    epoch: int,
    progress: bool,
) -> dict[str, float]:
    """One pass over the training split; returns the mean loss and accuracy."""
    model.train()
    order = torch.randperm(len(train), generator=epoch_generator(config, epoch)).to(train.images.device)
    total_loss = torch.zeros((), device=train.images.device)
    correct = torch.zeros((), device=train.images.device)
    batches = range(0, len(train), config.batch_size)
    for start in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, disable=not progress):
        idx = order[start : start + config.batch_size]
        images, labels = data.normalize(train.images[idx]), train.labels[idx]
        logits = model(images)
        loss = nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(idx)
        correct += (logits.argmax(1) == labels).sum()
    return {"train_loss": float(total_loss) / len(train), "train_acc": float(correct) / len(train)}


def checkpoint_path(out_dir: Path, run_id: str) -> Path:
    return out_dir / "checkpoints" / f"{run_id}.pt"


def prepare_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output directory, or say in one sentence why it cannot be written."""
    path = Path(out_dir)
    try:
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ConfigError(
            f"cannot write to the output directory {path} ({err.strerror}): choose another --out."
        ) from None
    return path


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run(
    config: RunConfig,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run one config to the end and return its record (or the existing one if it is finished)."""
    out = prepare_out_dir(out_dir)
    finished = find_record(out, config.to_dict(), config.run_id)
    if finished is not None:
        return finished
    device = torch.device(device) if device is not None else default_device()
    data = load_image_dataset(
        config.dataset,
        data_dir,
        val_fraction=config.val_fraction,
        seed=config.seed,
        accept_copy=config.accept_data_copy,
    ).to(device)
    train = data.train if config.train_subset is None else data.train.subset(config.train_subset)
    run_ = build_run(config, data.input_shape, data.num_classes)
    model = run_.model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(config, trainable)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)

    ckpt = checkpoint_path(out, config.run_id)
    spec = {"input_shape": list(run_.spec.input_shape), "num_classes": run_.spec.num_classes}
    state: dict[str, Any] = {"epoch": 0, "history": [], "best": None, "seconds": 0.0}
    state |= {"config": config.to_dict(), "spec": spec}
    if ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])

    epochs = tqdm(range(state["epoch"], config.epochs), desc=config.run_id, disable=not progress)
    for epoch in epochs:
        start = time.perf_counter()
        metrics = train_epoch(model, optimizer, data, train, config, epoch, progress)
        lr = scheduler.get_last_lr()[0]
        scheduler.step()
        metrics |= {"epoch": epoch + 1, "lr": lr, "val_acc": accuracy(model, data.val, data)}
        metrics["test_acc"] = accuracy(model, data.test, data)
        metrics["seconds"] = time.perf_counter() - start
        state["history"].append(metrics)
        state["seconds"] += metrics["seconds"]
        if state["best"] is None or metrics["val_acc"] > state["best"]["val_acc"]:
            best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state["best"] = {"epoch": epoch + 1, "val_acc": metrics["val_acc"], "model": best_model}
        state |= {
            "epoch": epoch + 1,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        tmp = ckpt.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, ckpt)
        epochs.set_postfix(val=f"{metrics['val_acc']:.4f}", test=f"{metrics['test_acc']:.4f}")

    best = state["best"]
    model.load_state_dict(best["model"])
    search = run_.search
    kept = sum(int(m.sum()) for m in search.masks().values()) if search else None
    num_weights = search.num_weights if search else sum(p.numel() for p in trainable)
    record = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "model_spec": {**run_.spec.__dict__, "input_shape": list(run_.spec.input_shape)},
        "history": state["history"],
        "best_epoch": best["epoch"],
        "best_val_acc": best["val_acc"],
        "test_acc": state["history"][best["epoch"] - 1]["test_acc"],
        "sparsity_achieved": None if kept is None else 1.0 - kept / num_weights,
        "num_searchable": search.num_searchable if search else None,
        **size_record(num_weights, search.num_searchable if search else None),
        "data_variant": data.variant,
        "train_examples": len(train),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "wall_seconds": state["seconds"],
        "checkpoint": str(ckpt.resolve()),
        **environment(),
    }
    write_json_atomic(record_path(out, config.run_id), record)
    return record
