"""One run: search a ticket (or train weights), select by validation, checkpoint, record.

The loop is deliberately short; what an epoch means lives in :mod:`slt.loops`, what it builds in :mod:`slt.build`.
A checkpoint is written about once a minute and after the last epoch, and the
random draws of an epoch depend only on the seed and the epoch, so a run killed
at any moment resumes from its last checkpoint and ends in the same record as
one that never stopped. Epochs are scored on the validation split; the test
accuracy is measured once, for the state of best validation accuracy.

A record keeps two times of its epochs and test pass: the wall time, and the
process's CPU time (all its threads). On a machine shared with other work, or
paused, the wall time grows and the CPU time does not, so the CPU time is what
a run costs. A run resumed from a checkpoint written before CPU time was
counted records it as unknown (``None``).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .allocator import keep_freed_memory
from .build import Run, build_run, default_device, make_optimizer
from .config import RunConfig
from .loops import Task, load_task
from .records import (
    checkpoint_path,
    environment,
    find_record,
    prepare_out_dir,
    read_record,
    record_path,
    write_json_atomic,
)
from .size import size_record


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write a checkpoint through a temporary file, so a run killed while saving keeps its last one."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


CHECKPOINT_SECONDS = 60.0
"""A checkpoint is written after the epoch in which this much time has passed since the last one,
and after the last epoch: a long run loses at most about a minute when killed, and a short run does
not spend its time writing checkpoints."""


def fit(run_: Run, task: Task, ckpt: Path, progress: bool) -> dict[str, Any]:
    """Train to the last epoch, resuming from ``ckpt`` if it exists; returns the final state.

    Each epoch is scored on the validation split only: the record needs the test accuracy of the
    best-validation state alone, which :func:`run` measures once at the end.
    """
    config, model = run_.config, run_.model
    optimizer = make_optimizer(config, [p for p in model.parameters() if p.requires_grad])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    state: dict[str, Any] = {"epoch": 0, "history": [], "best": None, "seconds": 0.0, "cpu_seconds": 0.0}
    if ckpt.exists():
        state = torch.load(ckpt, map_location=next(model.parameters()).device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        state.setdefault("cpu_seconds", None)  # a checkpoint from before CPU time was counted: unknown
    state |= {"config": config.to_dict(), "spec": asdict(run_.spec)}

    epochs = tqdm(range(state["epoch"], config.epochs), desc=config.run_id, disable=not progress)
    last_save = time.perf_counter()
    for epoch in epochs:
        start, cpu_start = time.perf_counter(), time.process_time()
        metrics = task.train_epoch(model, optimizer, epoch)
        metrics |= {"epoch": epoch + 1, "lr": scheduler.get_last_lr()[0]}
        scheduler.step()
        metrics |= task.accuracies(model, ("val",))
        metrics |= {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start}
        state["history"].append(metrics)
        state["seconds"] += metrics["seconds"]
        if state["cpu_seconds"] is not None:
            state["cpu_seconds"] += metrics["cpu_seconds"]
        if state["best"] is None or metrics["val_acc"] > state["best"]["val_acc"]:
            best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state["best"] = {"epoch": epoch + 1, "val_acc": metrics["val_acc"], "model": best_model}
        state |= {
            "epoch": epoch + 1,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        if epoch + 1 == config.epochs or time.perf_counter() - last_save >= CHECKPOINT_SECONDS:
            save_atomic(state, ckpt)
            last_save = time.perf_counter()
        epochs.set_postfix(val=f"{metrics['val_acc']:.4f}", best=f"{state['best']['val_acc']:.4f}")
    return state


def run(
    config: RunConfig,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run one config to the end and return its record (the existing one if it is finished)."""
    out = prepare_out_dir(out_dir)
    finished = find_record(out, config.to_dict(), config.run_id)
    if finished is not None:
        return finished
    # Asked now, while the source on disk is the code this process imports: a checkout during the
    # run must not lend the record another commit.
    provenance = environment()
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cpu":
        keep_freed_memory()
    task = load_task(config, data_dir, device, progress)
    run_ = build_run(config, task.input_shape, task.num_classes)
    run_.model.to(device)
    ckpt = checkpoint_path(out, config.run_id)
    state = fit(run_, task, ckpt, progress)

    best = state["best"]
    run_.model.load_state_dict(best["model"])
    start, cpu_start = time.perf_counter(), time.process_time()
    test_acc = task.accuracies(run_.model, ("test",))["test_acc"]
    state["seconds"] += time.perf_counter() - start
    if state["cpu_seconds"] is not None:
        state["cpu_seconds"] += time.process_time() - cpu_start
    search = run_.search
    if search is None:
        num_weights, num_searchable, sparsity = sum(p.numel() for p in run_.model.parameters()), None, None
    else:
        kept = sum(int(m.sum()) for m in search.masks().values())
        num_weights, num_searchable, sparsity = search.num_weights, search.num_searchable, 1 - kept / search.num_weights
    record = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "model_spec": asdict(run_.spec),
        "history": state["history"],
        "best_epoch": best["epoch"],
        "best_val_acc": best["val_acc"],
        "test_acc": test_acc,
        "sparsity_achieved": sparsity,
        "num_searchable": num_searchable,
        **size_record(num_weights, num_searchable),
        "data_variant": task.variant,
        "train_examples": task.train_examples,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "wall_seconds": state["seconds"],
        "cpu_seconds": state["cpu_seconds"],
        "checkpoint": ckpt.relative_to(out).as_posix(),
        **provenance,
    }
    path = record_path(out, config.run_id)
    write_json_atomic(path, record)
    return read_record(path)
