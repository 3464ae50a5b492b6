"""Seconds per CIFAR-10 epoch: ticket search against plain weight training (a script, not a test).

Cases, all timed in this one process, one after the other, on one device:

  (a)  weight training: slt's ``build_model`` + ``initialize_weights``, SGD (momentum 0.9, lr 0.1,
       weight decay 1e-4), batch 128, on slt's device-resident data path (uint8 on the device,
       crop and flip on the device: ``slt.tasks.ImageTask``);
  (b)  slt's ticket search: ``apply_ticket_search`` (global top-k, freezing on), same recipe and data path;
  (c)  a conventional search from standard parts: a torchvision ``DataLoader`` (4 workers, CPU
       ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``) and
       per-layer masks rebuilt from a full ``torch.sort`` in every forward (``bench/conventional.py``).

Optional extra rows: ``--compile MODE`` (a+compile, b+compile) and ``--cuda-graph`` (a+graph,
b+graph: the whole step replayed as one CUDA graph). Steps are timed with
CUDA events after warm-up steps, with no ``.item()`` in the step; peak GPU memory is reset between
cases. A short synchronisation check follows the table (CUDA sync debug mode on a GPU, a host-side
spy everywhere). ``--concurrent 1 4 8`` measures the throughput of N searches sharing one GPU and
``--full-run`` times one 100-epoch Conv6 search through ``slt.train.run``.

    python bench/speed.py --device cuda --data-dir DIR                       # the table -> JSON
    python bench/speed.py --device cuda --data-dir DIR --no-table --concurrent 1 4 8
    python bench/speed.py --device cuda --data-dir DIR --no-table --full-run
    python bench/speed.py --device cpu --images 256 --synthetic              # smoke check only

See bench/README.md for the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing as mp
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import conventional  # bench/conventional.py (this script's folder is on sys.path)
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from slt.config import RunConfig, TicketConfig
from slt.data.base import DataSplits, Split, resolve_data_dir
from slt.data.cifar10 import MEAN, STD, load_cifar10
from slt.models import build_model
from slt.tasks import ImageTask
from slt.train import build_run, make_optimizer

ROOT = Path(__file__).resolve().parent.parent
EPOCH_IMAGES = 50_000  # CIFAR-10's training images: one epoch as the issue counts it
SHAPE = (3, 32, 32)
CLASSES = 10
TARGETS = {  # see bench/README.md
    "conv6": {"b/a": 1.15, "c/b": 2.5, "peak b/a": 1.3},
    "resnet18": {"b/a": 1.10, "peak b/a": 1.3},
    "full_run_s": 180.0,
}
CASE_NAMES = {
    "a": "weight training (slt data path)",
    "b": "ticket search (slt)",
    "c": "conventional (DataLoader + per-layer sort)",
    "a+compile": "weight training, torch.compile",
    "b+compile": "ticket search, compiled body",
    "a+graph": "weight training, step as one CUDA graph",
    "b+graph": "ticket search, step as one CUDA graph",
}
SYNC_STEPS = 3
CPU_WIDTH = 0.125  # the CPU smoke check's default model width: the papers' models take seconds per step there


# -- data ---------------------------------------------------------------------------------------------


def load_data(args: argparse.Namespace) -> DataSplits:
    """CIFAR-10's 50,000 training images on the CPU (no validation split), or random uint8 images."""
    if args.synthetic:
        n = max(args.images, args.batch_size * (SYNC_STEPS + 1))  # the sync check needs a few batches
        g = torch.Generator().manual_seed(0)
        train = Split(
            torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=g),
            torch.randint(0, CLASSES, (n,), generator=g),
        )
        return DataSplits("cifar10", train, empty_split(), empty_split(), MEAN, STD, CLASSES, variant="synthetic")
    data = load_cifar10(args.data_dir, val_fraction=0.0, download=False, accept_copy=args.accept_data_copy)
    return DataSplits("cifar10", data.train, empty_split(), empty_split(), MEAN, STD, CLASSES, variant=data.variant)


def empty_split() -> Split:
    return Split(torch.zeros((0, *SHAPE), dtype=torch.uint8), torch.zeros(0, dtype=torch.int64))


class ArrayCIFAR(torch.utils.data.Dataset):
    """uint8 HWC arrays served like ``torchvision.datasets.CIFAR10`` (PIL image, then the transform)."""

    def __init__(self, images_hwc: np.ndarray, labels: list[int], transform: Callable[[Any], Any]) -> None:
        self.data, self.targets, self.transform = images_hwc, labels, transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.data[index])), self.targets[index]


def conventional_dataset(args: argparse.Namespace, data: DataSplits, n_images: int) -> torch.utils.data.Dataset:
    """torchvision's CIFAR10 when the files are the official ones, else the same arrays served the same way."""
    import torchvision.transforms as T

    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
    if data.variant == "original":
        from torchvision.datasets import CIFAR10

        dataset = CIFAR10(str(resolve_data_dir(args.data_dir)), train=True, download=False, transform=transform)
    else:
        images = data.train.images.permute(0, 2, 3, 1).contiguous().numpy()
        dataset = ArrayCIFAR(images, data.train.labels.tolist(), transform)
    if n_images < len(dataset):
        dataset = torch.utils.data.Subset(dataset, range(n_images))
    return dataset


# -- timing -------------------------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """Device time between start() and stop() (CUDA events on a GPU), plus the host's own time."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def start(self) -> None:
        synchronize(self.device)
        if self.device.type == "cuda":
            self.begin = torch.cuda.Event(enable_timing=True)
            self.begin.record()
        self.t0 = time.perf_counter()

    def stop(self) -> tuple[float, float]:
        """(seconds on the device, seconds the host took to issue the work)."""
        host = time.perf_counter() - self.t0
        if self.device.type == "cuda":
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            end.synchronize()
            return self.begin.elapsed_time(end) / 1000.0, host
        return time.perf_counter() - self.t0, host


def autocast(device: torch.device, precision: str, cache: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast, or nothing for fp32 (CUDA graph capture needs the cast cache off)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=cache)
    return contextlib.nullcontext()


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    precision: str,
    totals: torch.Tensor,
    cache: bool = True,
) -> None:
    """One step as ``ImageTask.train_epoch`` takes it; loss and hits accumulate on the device (no sync)."""
    with autocast(images.device, precision, cache):
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    totals[0] += loss.detach().float() * len(labels)
    totals[1] += (logits.argmax(1) == labels).sum()


def steps_for(images: int, batch: int) -> int:
    return -(-images // batch)


def cycle(batches: Callable[[int], Iterator], epoch: int = 0) -> Iterator:
    """Batches of epoch ``epoch``, then of the next epochs, without end (warm-up needs not fit one epoch)."""
    while True:
        yield from batches(epoch)
        epoch += 1


# -- cases --------------------------------------------------------------------------------------------


def ticket_config(args: argparse.Namespace, scope: str | None = None) -> TicketConfig:
    return TicketConfig(sparsity=args.sparsity, freeze=args.freeze, scope=scope or args.scope, seed=args.seed)


def library_case(case: str, model_name: str, args: argparse.Namespace, data: DataSplits, n_images: int):
    """Model, optimizer and batch source of case (a) or (b) as slt builds them (``slt.train``, ``slt.tasks``)."""
    ticket = ticket_config(args) if case.startswith("b") else None
    config = RunConfig(
        model=model_name,
        dataset="cifar10",
        ticket=ticket,
        width=args.width,
        seed=args.seed,
        epochs=1,
        batch_size=args.batch_size,
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        train_subset=n_images,
    )
    task = ImageTask(data, config, progress=False)
    run = build_run(config, task.input_shape, task.num_classes)
    model = run.model.to(data.train.images.device)
    optimizer = make_optimizer(config, [p for p in model.parameters() if p.requires_grad])

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # slt's own mini-batch source: permutation, crop offsets and flips per epoch, gathered on the device.
        return task._batches(task.splits["train"], epoch)

    return model, optimizer, batches, run.search


class CompiledTicketModel(nn.Module):
    """The searched model with its masked weights made eagerly and the rest of the network compiled.

    Compiling the parametrized model itself breaks the graph at every layer (the lazy mask check
    compares data pointers) and recompiles per layer index; here slt's parametrization stays eager
    (``module.weight`` runs the lazy top-k and the straight-through function) and the plain network
    body runs compiled through ``torch.func.functional_call``.
    """

    def __init__(self, searched: nn.Module, search, body: nn.Module, mode: str) -> None:
        super().__init__()
        self.searched, self.body = searched, body.requires_grad_(False)
        self.__dict__["search"] = search
        self.buffer_refs = {k: v for k, v in searched.named_buffers() if ".parametrizations." not in k}

        def call(tensors: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(self.body, tensors, (x,))

        self.compiled = torch.compile(call, mode=None if mode == "default" else mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = {f"{layer.name}.weight": layer.module.weight for layer in self.search.layers}
        tensors.update(self.buffer_refs)
        return self.compiled(tensors, x)


def time_library(case: str, model_name: str, precision: str, args, data_dev: DataSplits, n_images: int) -> dict:
    device = data_dev.train.images.device
    base = case[0]
    model, optimizer, batches, search = library_case(base, model_name, args, data_dev, n_images)
    if case.endswith("+compile"):
        mode = args.compile
        if base == "a":
            model = torch.compile(model, mode=None if mode == "default" else mode)
        else:
            body = build_model(model_name, SHAPE, CLASSES, args.width).to(device)
            model = CompiledTicketModel(model, search, body, mode)
    model.train()
    totals = torch.zeros(2, device=device)
    warmup = max(args.warmup, 5) if case.endswith("+compile") else args.warmup
    it = cycle(batches, epoch=100)  # warm-up batches come from other epochs than the timed one
    for _ in range(warmup):
        images, labels = next(it)
        train_step(model, optimizer, images, labels, precision, totals)
    del it
    timer = Timer(device)
    timer.start()
    steps = 0
    for images, labels in batches(1):
        train_step(model, optimizer, images, labels, precision, totals)
        steps += 1
    seconds, host = timer.stop()
    return per_epoch(seconds, host, steps, args.batch_size) | {
        "train_loss": float(totals[0]) / max(1, (warmup + steps) * args.batch_size)
    }


def per_epoch(seconds: float, host: float, steps: int, batch_size: int) -> dict:
    """A timed pass of ``steps`` steps, scaled to one epoch of CIFAR-10 (device and host time)."""
    epoch_steps = steps_for(EPOCH_IMAGES, batch_size)
    return {
        "timed_s": seconds,
        "host_s": host,
        "timed_steps": steps,
        "s_per_epoch": seconds * epoch_steps / steps,
        "host_s_per_epoch": host * epoch_steps / steps,
    }


def time_graphed(case: str, model_name: str, precision: str, args, data_dev: DataSplits, n_images: int) -> dict:
    """Case (a) or (b) with the whole training step (masks, forward, backward, SGD) replayed as one CUDA graph.

    The library's step makes no blocking host-to-device copy (a capture would refuse one). The masks
    are recomputed in every replay: the optimizer step of the previous step left them stale when the
    step was captured, so the capture holds the top-k. Static shapes: only full batches are timed,
    and the time is scaled per step.
    """
    device = data_dev.train.images.device
    if device.type != "cuda":
        raise RuntimeError("CUDA graphs need a GPU")
    model, optimizer, batches, _ = library_case(case[0], model_name, args, data_dev, n_images)
    model.train()
    totals = torch.zeros(2, device=device)
    full = (b for b in cycle(batches, epoch=100) if len(b[1]) == args.batch_size)
    images, labels = next(full)
    static_x, static_y = images.clone(), labels.clone()

    def step() -> None:
        train_step(model, optimizer, static_x, static_y, precision, totals, cache=False)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the default stream, as capture wants (SGD makes its buffers)
        for _ in range(max(3, args.warmup)):
            images, labels = next(full)
            static_x.copy_(images)
            static_y.copy_(labels)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    timer = Timer(device)
    timer.start()
    steps = 0
    for images, labels in batches(1):
        if len(labels) != args.batch_size:
            break
        static_x.copy_(images)
        static_y.copy_(labels)
        graph.replay()
        steps += 1
    seconds, host = timer.stop()
    del graph
    return per_epoch(seconds, host, steps, args.batch_size)


def time_conventional(model_name: str, precision: str, args, data: DataSplits, n_images: int, device) -> dict:
    model = build_model(model_name, SHAPE, CLASSES, args.width)
    conventional.swap_in_sorted_masks(model, ticket_config(args, scope="layer"))
    model.to(device).train()
    optimizer = torch.optim.SGD(conventional.scores(model), lr=0.1, momentum=0.9, weight_decay=1e-4)
    dataset = conventional_dataset(args, data, n_images)

    def loader() -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=args.batch_size,
            shuffle=True,
            num_workers=args.workers,
            pin_memory=device.type == "cuda",
        )

    totals = torch.zeros(2, device=device)
    done = 0
    while done < args.warmup:  # warm-up on a loader of its own; its workers end with it
        for images, labels in loader():
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            train_step(model, optimizer, images, labels, precision, totals)
            done += 1
            if done >= args.warmup:
                break
    timer = Timer(device)
    timer.start()
    steps, startup = 0, 0.0
    for images, labels in loader():  # a fresh loader per epoch starts its workers, as the reference code does
        if steps == 0:
            startup = time.perf_counter() - timer.t0
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        train_step(model, optimizer, images, labels, precision, totals)
        steps += 1
    seconds, host = timer.stop()
    epoch_steps = steps_for(EPOCH_IMAGES, args.batch_size)
    if steps > 1 and epoch_steps != steps:  # worker start-up is paid once per epoch, not per step
        per_epoch = startup + (seconds - startup) * (epoch_steps - 1) / (steps - 1)
    else:
        per_epoch = seconds * epoch_steps / steps
    return {
        "timed_s": seconds,
        "host_s": host,
        "timed_steps": steps,
        "loader_startup_s": startup,
        "s_per_epoch": per_epoch,
        "host_s_per_epoch": host * epoch_steps / steps,
        "train_loss": float(totals[0]) / max(1, (args.warmup + steps) * args.batch_size),
    }


def same_ticket_check(model_name: str, args, device: torch.device) -> bool:
    """Does (c) select what slt selects with scope='layer' (same seed, counts, freezing)? One forward each."""
    from slt.supermask import apply_ticket_search

    config = ticket_config(args, scope="layer")
    ours = build_model(model_name, SHAPE, CLASSES, args.width)
    search = apply_ticket_search(ours, config)
    ours.to(device)
    theirs = build_model(model_name, SHAPE, CLASSES, args.width)
    conventional.swap_in_sorted_masks(theirs, config)
    theirs.to(device)
    a, b = search.masks(), conventional.bench_masks(theirs)
    same = list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    del ours, theirs, search
    return same


# -- synchronisation check ----------------------------------------------------------------------------

HOST_READS = {"item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy", "nonzero", "masked_select"}
FACTORIES = {"tensor", "as_tensor", "scalar_tensor"}


def caller() -> str:
    """The innermost frame outside torch and this spy, as 'path:line function'."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = frame.filename.replace("\\", "/")
        if "/torch/" in path or path.endswith("/contextlib.py"):
            continue
        with contextlib.suppress(ValueError):
            path = str(Path(path).resolve().relative_to(ROOT))
        return f"{path}:{frame.lineno} {frame.name}"
    return "?"


class HostSyncSpy(TorchFunctionMode):
    """Counts the calls that make the host wait for a GPU (reads of device values, blocking copies to it).

    Device-agnostic, so it also reports on a CPU-only machine what would synchronise on a GPU:
    ``.item()``/``bool()``/``float()``/``nonzero``/boolean-mask indexing, and ``torch.tensor(...,
    device=...)`` (a blocking copy from pageable host memory when the device is a GPU).
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        reason = None
        if name in HOST_READS:
            reason = f"{name}()"
        elif name in FACTORIES and kwargs.get("device") is not None:
            reason = f"torch.{name}(..., device=...) (blocking host-to-device copy on a GPU)"
        elif name in ("__getitem__", "__setitem__") and len(args) > 1:
            index = args[1] if isinstance(args[1], tuple) else (args[1],)
            if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in index):
                reason = "boolean-mask indexing (nonzero)"
        elif name in ("cpu", "to") and args and isinstance(args[0], torch.Tensor) and args[0].device.type != "cpu":
            target = kwargs.get("device", args[1] if len(args) > 1 else None)
            if name == "cpu" or (target is not None and str(target).startswith("cpu")):
                reason = "copy to the host"
        if reason is not None:
            self.calls[f"{caller()}: {reason}"] += 1
        return func(*args, **kwargs)


class OpCounter(TorchDispatchMode):
    """Counts the ATen operators dispatched (about the kernels a GPU step launches)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.views = 0  # views launch no kernel, but still cost the host a dispatch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        self.views += bool(getattr(func, "is_view", False))
        return func(*args, **(kwargs or {}))


def sync_check(model_name: str, args, data_dev: DataSplits) -> dict:
    """Ops and synchronising calls per step of (a) and (b), fp32, after a warm-up step."""
    device = data_dev.train.images.device
    report = {}
    for case in ("a", "b"):
        n_images = min(len(data_dev.train), args.batch_size * (SYNC_STEPS + 1))
        model, optimizer, batches, _ = library_case(case, model_name, args, data_dev, n_images)
        model.train()
        totals = torch.zeros(2, device=device)
        it = batches(0)
        if steps_for(n_images, args.batch_size) <= SYNC_STEPS:
            raise ValueError(f"the sync check needs {SYNC_STEPS + 1} batches: use at least that many images")
        images, labels = next(it)  # the epoch's set-up (permutation, offsets: host-to-device) is outside
        train_step(model, optimizer, images, labels, "fp32", totals)
        spy, ops = HostSyncSpy(), OpCounter()
        cuda_warnings: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if device.type == "cuda":
                torch.cuda.set_sync_debug_mode("warn")
            try:
                with spy, ops:
                    for _ in range(SYNC_STEPS):
                        images, labels = next(it)
                        train_step(model, optimizer, images, labels, "fp32", totals)
            finally:
                if device.type == "cuda":
                    torch.cuda.set_sync_debug_mode(0)
        for w in caught:
            if "synchroniz" in str(w.message).lower():
                where = w.filename.replace("\\", "/")
                with contextlib.suppress(ValueError):
                    where = str(Path(where).resolve().relative_to(ROOT))
                cuda_warnings.append(f"{where}:{w.lineno}")
        del model, optimizer, it
        report[case] = {
            "aten_ops_per_step": ops.count / SYNC_STEPS,
            "aten_views_per_step": ops.views / SYNC_STEPS,
            "host_sync_calls_per_step": sum(spy.calls.values()) / SYNC_STEPS,
            "host_sync_calls": {k: v / SYNC_STEPS for k, v in spy.calls.most_common()},
            "cuda_sync_warnings_per_step": len(cuda_warnings) / SYNC_STEPS if device.type == "cuda" else None,
            "cuda_sync_warnings": dict(Counter(cuda_warnings).most_common()) if device.type == "cuda" else None,
        }
    return report


# -- the table ----------------------------------------------------------------------------------------


def release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def cases_for(args: argparse.Namespace) -> list[str]:
    cases = list(args.cases)
    if args.compile:
        cases += ["a+compile", "b+compile"]
    if args.cuda_graph:
        cases += ["a+graph", "b+graph"]
    return cases


def run_table(args, data: DataSplits, device: torch.device, n_images: int) -> dict:
    data_dev = DataSplits(
        data.name, data.train.to(device), data.val, data.test, data.mean, data.std, data.num_classes, data.variant
    )
    rows, same_ticket = [], {}
    for model_name in args.models:
        if "c" in args.cases and args.check_ticket:
            release(device)
            same_ticket[model_name] = same_ticket_check(model_name, args, device)
        for precision in args.precisions:
            for case in cases_for(args):
                release(device)
                t0 = time.perf_counter()
                try:
                    if case == "c":
                        result = time_conventional(model_name, precision, args, data, n_images, device)
                    elif case.endswith("+graph"):
                        result = time_graphed(case, model_name, precision, args, data_dev, n_images)
                    else:
                        result = time_library(case, model_name, precision, args, data_dev, n_images)
                    result["peak_mb"] = peak_mb(device)
                except Exception as err:  # one failing case (say, a compile) must not lose the others
                    result = {"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]}
                row = {"model": model_name, "precision": precision, "case": case, **result}
                row["wall_s"] = time.perf_counter() - t0
                rows.append(row)
                print_row(row, rows)
    add_ratios(rows)
    report = {
        "rows": rows,
        "same_ticket_c_vs_slt_layer_scope": same_ticket,
        "data_on_device_mb": data_dev.train.images.numel() / 2**20 if device.type == "cuda" else None,
    }
    if args.sync_check:
        report["sync_check"] = {m: sync_check(m, args, data_dev) for m in args.models}
    del data_dev
    release(device)
    return report


def find(rows: list[dict], model: str, precision: str, case: str) -> dict | None:
    for r in rows:
        if (r["model"], r["precision"], r["case"]) == (model, precision, case) and "s_per_epoch" in r:
            return r
    return None


RATIOS = {
    "b": ("a", "b/a"),
    "c": ("b", "c/b"),
    "b+compile": ("a+compile", "b/a compiled"),
    "b+graph": ("a+graph", "b/a graphed"),
}


def add_ratios(rows: list[dict]) -> None:
    for r in rows:
        if r["case"] not in RATIOS or "s_per_epoch" not in r:
            continue
        ref_case, label = RATIOS[r["case"]]
        ref = find(rows, r["model"], r["precision"], ref_case)
        if ref is None:
            continue
        r["ratio"], r["ratio_of"] = r["s_per_epoch"] / ref["s_per_epoch"], label
        if r["case"] != "c" and r.get("peak_mb") and ref.get("peak_mb"):
            r["peak_ratio"] = r["peak_mb"] / ref["peak_mb"]


HEADER = (
    f"{'model':<9} {'prec':<5} {'case':<10} {'s/epoch':>9} {'host s/ep':>9} {'b/a':>6} {'c/b':>6} {'peak MB':>9}  case"
)


def fmt(value: float | None, spec: str, width: int) -> str:
    return f"{value:{width}{spec}}" if value is not None else f"{'-':>{width}}"


def print_row(row: dict, rows: list[dict]) -> None:
    if len(rows) == 1:
        print(HEADER)
        print("-" * len(HEADER))
    if "error" in row:
        print(f"{row['model']:<9} {row['precision']:<5} {row['case']:<10} failed: {row['error']}")
        return
    add_ratios(rows)
    ratio = row.get("ratio")
    b_a = ratio if row["case"] in ("b", "b+compile", "b+graph") else None
    c_b = ratio if row["case"] == "c" else None
    print(
        f"{row['model']:<9} {row['precision']:<5} {row['case']:<10} {row['s_per_epoch']:9.3f} "
        f"{row['host_s_per_epoch']:9.3f} {fmt(b_a, '.2f', 6)} {fmt(c_b, '.2f', 6)} {fmt(row['peak_mb'], '.0f', 9)}"
        f"  {CASE_NAMES[row['case']]}",
        flush=True,
    )


def check_targets(rows: list[dict], on_gpu: bool) -> list[str]:
    lines = []
    for model, targets in TARGETS.items():
        if not isinstance(targets, dict):
            continue
        for precision in sorted({r["precision"] for r in rows}):
            b, c = find(rows, model, precision, "b"), find(rows, model, precision, "c")
            if b is None:
                continue
            checks = [("b/a", b.get("ratio"), "<=")]
            if "c/b" in targets and c is not None:
                checks.append(("c/b", c.get("ratio"), ">="))
            checks.append(("peak b/a", b.get("peak_ratio"), "<="))
            for key, value, op in checks:
                if key not in targets or value is None:
                    continue
                ok = value <= targets[key] if op == "<=" else value >= targets[key]
                verdict = ("met" if ok else "MISSED") if on_gpu else "n/a on CPU"
                lines.append(
                    f"{model:<9} {precision:<5} {key:<9} = {value:5.2f}  (target {op} {targets[key]}): {verdict}"
                )
    return lines


def print_sync(report: dict, title: str) -> None:
    print(f"\n{title}")
    for model, cases in report.items():
        for case, r in cases.items():
            cuda = r["cuda_sync_warnings_per_step"]
            cuda_text = f", CUDA sync warnings/step {cuda:g}" if cuda is not None else ""
            print(
                f"  {model:<9} ({case}) aten ops/step {r['aten_ops_per_step']:.0f} "
                f"({r['aten_ops_per_step'] - r['aten_views_per_step']:.0f} not views), "
                f"host-sync calls/step {r['host_sync_calls_per_step']:g}{cuda_text}"
            )
            for where, n in r["host_sync_calls"].items():
                print(f"      {n:g}/step  {where}")
            for where, n in (r["cuda_sync_warnings"] or {}).items():
                print(f"      {n / SYNC_STEPS:g}/step  CUDA sync at {where}")


# -- concurrent runs ----------------------------------------------------------------------------------


def concurrent_worker(rank: int, args: argparse.Namespace, barrier, queue) -> None:
    """One process of (b): load, build, warm up, wait for the others, run one timed pass."""
    try:
        device = torch.device(args.device)
        data = load_data(args)
        n_images = min(args.images, len(data.train))
        data_dev = DataSplits(
            data.name, data.train.to(device), data.val, data.test, data.mean, data.std, data.num_classes, data.variant
        )
        precision = args.precisions[0]
        model, optimizer, batches, _ = library_case("b", args.concurrent_model, args, data_dev, n_images)
        model.train()
        totals = torch.zeros(2, device=device)
        it = cycle(batches, epoch=100)
        for _ in range(args.warmup):
            images, labels = next(it)
            train_step(model, optimizer, images, labels, precision, totals)
        synchronize(device)
        barrier.wait(timeout=1800)
        start = time.time()
        steps = 0
        for images, labels in batches(1):
            train_step(model, optimizer, images, labels, precision, totals)
            steps += 1
        synchronize(device)
        end = time.time()
        queue.put({"rank": rank, "images": n_images, "steps": steps, "start": start, "end": end})
    except BaseException as err:
        with contextlib.suppress(Exception):
            barrier.abort()
        queue.put({"rank": rank, "error": f"{type(err).__name__}: {err}"})


def collect(queue, procs: list) -> list[dict]:
    """One result per process; a process that died without one (say, killed for memory) gives an error."""
    import queue as queues

    got: list[dict] = []
    while len(got) < len(procs):
        try:
            got.append(queue.get(timeout=5))
        except queues.Empty:
            if not any(p.is_alive() for p in procs):
                with contextlib.suppress(queues.Empty):
                    while len(got) < len(procs):
                        got.append(queue.get(timeout=1))
                codes = [p.exitcode for p in procs]
                got += [{"error": f"a process ended without a result (exit codes {codes})"}] * (len(procs) - len(got))
                break
    for p in procs:
        p.join()
    return got


def run_concurrent(args: argparse.Namespace) -> dict:
    ctx = mp.get_context("spawn")  # CUDA cannot be used in forked children
    results = []
    base = None
    for n in args.concurrent:
        barrier, queue = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=concurrent_worker, args=(i, args, barrier, queue)) for i in range(n)]
        for p in procs:
            p.start()
        got = collect(queue, procs)
        errors = [g["error"] for g in got if "error" in g]
        if errors:
            entry = {"runs": n, "error": errors[0]}
            print(f"  {n} runs: failed: {errors[0]}")
        else:
            span = max(g["end"] for g in got) - min(g["start"] for g in got)
            total = sum(g["images"] for g in got) / span
            per_run = statistics.mean(g["images"] / (g["end"] - g["start"]) for g in got)
            base = base or (total if n == args.concurrent[0] else None)
            factor = total / base if base else None
            entry = {"runs": n, "images_per_s": total, "images_per_s_per_run": per_run, "factor_vs_first": factor}
            print(
                f"  {n:>2} concurrent runs: {total:10.0f} images/s in total, {per_run:9.0f} per run"
                + (f", {factor:.2f}x the throughput of {args.concurrent[0]}" if factor else ""),
                flush=True,
            )
        results.append(entry)
    return {
        "model": args.concurrent_model,
        "precision": args.precisions[0],
        "images_per_run": args.images,
        "results": results,
    }


# -- full run -----------------------------------------------------------------------------------------


def write_synthetic_cifar10(root: Path) -> None:
    """Random pixels in CIFAR-10's batch files (a copy that says what it is), so slt.train.run can time a run."""
    import pickle

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    g = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {"data": g.integers(0, 256, (10000, 3072), dtype=np.uint8), "labels": g.integers(0, 10, 10000).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))
    (folder / "VARIANT").write_text("synthetic random pixels written by bench/speed.py (timing only)\n")


def run_full(args: argparse.Namespace, device: torch.device) -> dict:
    with tempfile.TemporaryDirectory(prefix="slt-bench-data-") as tmp:
        data_dir = args.data_dir
        if args.synthetic:
            write_synthetic_cifar10(Path(tmp))
            data_dir = tmp
        return full_run_on(args, device, data_dir)


def full_run_on(args: argparse.Namespace, device: torch.device, data_dir: str | None) -> dict:
    from slt.train import run

    subset = args.images if args.images < EPOCH_IMAGES else None
    config = RunConfig(
        model="conv6",
        dataset="cifar10",
        ticket=ticket_config(args),
        width=args.width,
        seed=args.seed,
        epochs=args.full_run_epochs,
        train_subset=subset,
        val_subset=subset,
        accept_data_copy=args.accept_data_copy or args.synthetic,
    )
    with tempfile.TemporaryDirectory(prefix="slt-bench-") as out:
        start = time.perf_counter()
        record = run(config, out, data_dir=data_dir, device=device, progress=False)
        total = time.perf_counter() - start
    epochs = [h["seconds"] for h in record["history"]]
    result = {
        "epochs": args.full_run_epochs,
        "train_subset": subset,
        "end_to_end_s": total,
        "record_wall_seconds": record["wall_seconds"],
        "median_epoch_s": statistics.median(epochs),
        "test_acc": record["test_acc"],
        "best_val_acc": record["best_val_acc"],
        "data_variant": record["data_variant"],
        "target_s": TARGETS["full_run_s"] if args.full_run_epochs == 100 and subset is None else None,
    }
    print(
        f"  Conv6 ticket search, {args.full_run_epochs} epochs"
        + (f" on {subset} images" if subset else "")
        + f": {total:.1f} s end to end ({record['wall_seconds']:.1f} s in the epochs, median epoch "
        f"{result['median_epoch_s']:.2f} s), test accuracy {record['test_acc']:.4f}"
        + (f"; target < {TARGETS['full_run_s']:.0f} s" if result["target_s"] else "")
        + (" (synthetic pixels: the accuracy means nothing, the time does)" if args.synthetic else "")
    )
    return result


# -- provenance and output ----------------------------------------------------------------------------


def git(*cmd: str) -> str | None:
    try:
        return subprocess.run(["git", *cmd], capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def provenance(args: argparse.Namespace, device: torch.device) -> dict:
    import torchvision

    commit = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {
        "device": device_name(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "command": shlex.join([sys.executable, *sys.argv]),
        "args": {k: v for k, v in vars(args).items()},
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "not_the_gpu_targets": device.type != "cuda",
    }


def default_out(device: torch.device) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device_name(device).lower()).strip("-") if device.type == "cuda" else "cpu"
    return ROOT / "bench" / "results" / f"speed-{slug}.json"


def write_json(path: Path, sections: dict, meta: dict) -> None:
    """Merge this command's sections into the file (the table, concurrency and full run are separate commands)."""
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc.update({k: meta[k] for k in ("device", "torch", "git_commit", "command")})
    doc.setdefault("sections", {})
    for name, body in sections.items():
        doc["sections"][name] = {"provenance": meta, **body}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def run_theory(args: argparse.Namespace) -> dict | None:
    script = ROOT / "bench" / "theory.py"
    if not script.exists():
        print("  bench/theory.py is not there: skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "theory.json"
        done = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=ROOT)
        if done.returncode != 0 or not out.exists():
            return {"error": f"bench/theory.py exited with {done.returncode}"}
        return json.loads(out.read_text())


# -- main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Seconds per CIFAR-10 epoch of slt's ticket search against weight training and a "
        "conventional search (see bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device, help="cuda, cuda:N or cpu (cpu: smoke check only)")
    parser.add_argument("--data-dir", default=None, help="folder holding cifar-10-batches-py (default $SLT_DATA_DIR)")
    parser.add_argument("--synthetic", action="store_true", help="random uint8 images instead of CIFAR-10")
    parser.add_argument(
        "--no-accept-data-copy",
        dest="accept_data_copy",
        action="store_false",
        help="refuse a CIFAR-10 copy that differs from the official files (speed does not depend on pixels)",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=EPOCH_IMAGES,
        help="images to time per case; fewer than 50000 are extrapolated to one epoch (and say so)",
    )
    parser.add_argument("--models", nargs="+", default=["conv6", "resnet18"], choices=["conv6", "resnet18"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--cases", nargs="*", default=["a", "b", "c"], choices=["a", "b", "c"])
    parser.add_argument(
        "--width", type=float, default=None, help="model width (default: 1, the papers' models; 0.125 on cpu)"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps per case (default: 10 cuda, 1 cpu)")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers of case (c)")
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--freeze", type=float, default=0.5)
    parser.add_argument("--scope", default="global", choices=["global", "layer"], help="scope of case (b)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--compile",
        default=None,
        choices=["default", "reduce-overhead", "max-autotune"],
        help="add rows a+compile (torch.compile) and b+compile (compiled body, eager masks) in this mode",
    )
    parser.add_argument(
        "--cuda-graph", action="store_true", help="add rows a+graph, b+graph: the whole step as one CUDA graph"
    )
    parser.add_argument("--cudnn-benchmark", action="store_true", help="set torch.backends.cudnn.benchmark")
    parser.add_argument("--no-sync-check", dest="sync_check", action="store_false", help="skip the sync check")
    parser.add_argument("--no-ticket-check", dest="check_ticket", action="store_false", help="skip the (c)=(b) check")
    parser.add_argument("--no-table", dest="table", action="store_false", help="skip the per-epoch table")
    parser.add_argument("--concurrent", type=int, nargs="*", default=[], help="e.g. 1 4 8: N processes of (b)")
    parser.add_argument("--concurrent-model", default="conv6", choices=["conv6", "resnet18"])
    parser.add_argument("--full-run", action="store_true", help="time one Conv6 search through slt.train.run")
    parser.add_argument("--full-run-epochs", type=int, default=100)
    parser.add_argument("--theory", action="store_true", help="also run bench/theory.py and store its JSON")
    parser.add_argument("--out", default=None, help="JSON file (default bench/results/speed-<device>.json)")
    args = parser.parse_args(argv)
    on_gpu = args.device.startswith("cuda")
    if args.warmup is None:
        args.warmup = 10 if on_gpu else 1
    if args.width is None:
        args.width = 1.0 if on_gpu else CPU_WIDTH
    if args.cuda_graph and not on_gpu:
        parser.error("--cuda-graph needs --device cuda")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda, but this machine has no usable GPU: use --device cpu for a smoke check.")
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    meta = provenance(args, device)
    print(f"device: {meta['device']}; torch {meta['torch']}; commit {meta['git_commit']}")
    if device.type != "cuda":
        print("CPU RUN: a smoke check of the benchmark only. CPU numbers are NOT the GPU targets.")
    if args.width != 1.0:
        print(f"MODEL WIDTH {args.width:g}: not the papers' models (pass --width 1 for those)")
    # Four loader workers on a small machine is the point of case (c), not a mistake to warn about.
    warnings.filterwarnings("ignore", message="This DataLoader will create")

    sections: dict[str, dict] = {}
    needs_data = args.table or args.concurrent
    data = load_data(args) if needs_data else None
    if data is not None:
        n_images = min(args.images, len(data.train))
        epoch_steps = steps_for(EPOCH_IMAGES, args.batch_size)
        timed_steps = steps_for(n_images, args.batch_size)
        print(f"data: CIFAR-10 training images ({data.variant}), {len(data.train)} available")
        if timed_steps != epoch_steps:
            print(
                f"EXTRAPOLATED: each case is timed on {n_images} images ({timed_steps} steps) and scaled to one "
                f"epoch of {EPOCH_IMAGES} images ({epoch_steps} steps)"
            )

    if args.table:
        print(f"\nSeconds per epoch of {EPOCH_IMAGES} images, batch {args.batch_size}, warm-up {args.warmup} steps:")
        table = run_table(args, data, device, n_images)
        table.update(
            images_timed=n_images,
            extrapolated=n_images < EPOCH_IMAGES,
            data_variant=data.variant,
            ticket=ticket_config(args).to_dict(),
        )
        if table["same_ticket_c_vs_slt_layer_scope"]:
            print(f"\n(c) selects slt's scope='layer' ticket: {table['same_ticket_c_vs_slt_layer_scope']}")
        lines = check_targets(table["rows"], device.type == "cuda")
        if lines:
            print("\nTargets:" + ("" if device.type == "cuda" else " (CPU run: not comparable to the GPU targets)"))
            for line in lines:
                print("  " + line)
        table["targets"] = lines
        if "sync_check" in table:
            print_sync(table["sync_check"], f"Per training step ({SYNC_STEPS} steps, fp32), library as it is:")
        sections["table"] = table
    if args.concurrent:
        print(f"\nConcurrent ticket searches ({args.concurrent_model}, {args.precisions[0]}) on one device:")
        sections["concurrent"] = run_concurrent(args)
    if args.full_run:
        print("\nFull run through slt.train.run:")
        sections["full_run"] = run_full(args, device)
    if args.theory:
        print("\nbench/theory.py:")
        theory = run_theory(args)
        if theory is not None:
            sections["theory"] = {"result": theory}

    out = Path(args.out) if args.out else default_out(device)
    write_json(out, sections, meta)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
