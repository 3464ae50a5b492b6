"""The cases of ``bench/speed.py``, each timed over one pass of CIFAR-10 training images.

(a) and (b) are the library's runs (``cases.build_case``) fed by slt's own data path
(``ImageTask``: uint8 images on the device, crop and flip on the device); (c) is the conventional
search of ``bench/conventional.py`` fed by a torchvision ``DataLoader``. Every case takes the same
step, ``slt.loops.train_step`` (``cases.step``); bf16 wraps the model's forward in autocast.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from typing import Any

import cases
import conventional  # bench/conventional.py (the script's folder is on sys.path)
import numpy as np
import torch
from sync_check import SYNC_STEPS, count_syncs
from timing import EPOCH_IMAGES, Timer, cycle, per_epoch, steps_for

from slt.build import build_run, make_optimizer
from slt.config import TicketConfig
from slt.data.base import DataSplits, resolve_data_dir
from slt.data.cifar10 import MEAN, STD, load_cifar10
from slt.loops import ImageTask
from slt.models import build_model

Batches = Callable[[int], Iterator[tuple[torch.Tensor, torch.Tensor]]]


# -- data -----------------------------------------------------------------------------------------------


def load_data(args: argparse.Namespace) -> DataSplits:
    """CIFAR-10's 50,000 training images on the CPU (no validation split), or random uint8 images."""
    if args.synthetic:
        n = max(args.images, args.batch_size * (SYNC_STEPS + 1))  # the sync check needs a few batches
        return cases.cifar10_splits(cases.random_split(n, torch.Generator().manual_seed(0)), "synthetic")
    data = load_cifar10(args.data_dir, download=False, accept_copy=args.accept_data_copy)
    return cases.cifar10_splits(data.train, data.variant)


def on_device(data: DataSplits, device: torch.device) -> DataSplits:
    """The training images on ``device`` (the other splits are empty)."""
    return DataSplits(
        data.name, data.train.to(device), data.val, data.test, data.mean, data.std, data.num_classes, data.variant
    )


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


# -- the library's cases: (a), (b) and their compiled and graphed rows ------------------------------------


def ticket_config(args: argparse.Namespace, scope: str | None = None) -> TicketConfig:
    return TicketConfig(sparsity=args.sparsity, freeze=args.freeze, scope=scope or args.scope, seed=args.seed)


def library_case(
    case: str, model_name: str, args: argparse.Namespace, data: DataSplits, n_images: int
) -> tuple[cases.Case, Batches]:
    """Case (a) or (b) as a run builds it (``slt.build``), and slt's own batch source (``slt.loops.ImageTask``)."""
    ticket = ticket_config(args) if case.startswith("b") else None
    config = cases.library_config(
        model_name, args.width, args.seed, args.batch_size, ticket, epochs=1, train_subset=n_images
    )
    task = ImageTask(data, config, progress=False)

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # slt's own mini-batch source: permutation, crop offsets and flips per epoch, gathered on the device.
        return task._batches(task.splits["train"], epoch)

    return cases.build_case(config, data.train.images.device), batches


def time_library(case: str, model_name: str, precision: str, args, data_dev: DataSplits, n_images: int) -> dict:
    device = data_dev.train.images.device
    built, batches = library_case(case[0], model_name, args, data_dev, n_images)
    model = built.model
    if case.endswith("+compile"):
        mode = cases.compile_mode(args.compile)
        model = torch.compile(model, mode=mode) if case[0] == "a" else cases.CompiledBody(built.run, mode)
    model = cases.with_precision(model, precision, device)
    model.train()
    totals = torch.zeros(2, device=device)
    warmup = max(args.warmup, 5) if case.endswith("+compile") else args.warmup
    it = cycle(batches, epoch=100)  # warm-up batches come from other epochs than the timed one
    for _ in range(warmup):
        cases.step(model, built.optimizer, *next(it), totals)
    del it
    timer = Timer(device)
    timer.start()
    steps = 0
    for images, labels in batches(1):
        cases.step(model, built.optimizer, images, labels, totals)
        steps += 1
    seconds, host = timer.stop()
    return per_epoch(seconds, host, steps, args.batch_size) | {
        "train_loss": float(totals[0]) / max(1, (warmup + steps) * args.batch_size)
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
    built, batches = library_case(case[0], model_name, args, data_dev, n_images)
    model = cases.with_precision(built.model, precision, device, cache=False)
    model.train()
    totals = torch.zeros(2, device=device)
    full = (b for b in cycle(batches, epoch=100) if len(b[1]) == args.batch_size)
    images, labels = next(full)
    static_x, static_y = images.clone(), labels.clone()

    def graph_step() -> None:
        cases.step(model, built.optimizer, static_x, static_y, totals)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the default stream, as capture wants (SGD makes its buffers)
        for _ in range(max(3, args.warmup)):
            images, labels = next(full)
            static_x.copy_(images)
            static_y.copy_(labels)
            graph_step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        graph_step()
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


# -- the conventional case (c) ----------------------------------------------------------------------------


def time_conventional(model_name: str, precision: str, args, data: DataSplits, n_images: int, device) -> dict:
    searched = build_model(model_name, cases.SHAPE, cases.CLASSES, args.width)
    conventional.swap_in_sorted_masks(searched, ticket_config(args, scope="layer"))
    searched.to(device).train()
    config = cases.library_config(model_name, args.width, args.seed, args.batch_size, None)
    optimizer = make_optimizer(config, conventional.scores(searched))
    model = cases.with_precision(searched, precision, device)
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
            cases.step(model, optimizer, images, labels, totals)
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
        cases.step(model, optimizer, images, labels, totals)
        steps += 1
    seconds, host = timer.stop()
    result = per_epoch(seconds, host, steps, args.batch_size)
    epoch_steps = steps_for(EPOCH_IMAGES, args.batch_size)
    if steps > 1 and epoch_steps != steps:  # worker start-up is paid once per epoch, not per step
        result["s_per_epoch"] = startup + (seconds - startup) * (epoch_steps - 1) / (steps - 1)
    return result | {
        "loader_startup_s": startup,
        "train_loss": float(totals[0]) / max(1, (args.warmup + steps) * args.batch_size),
    }


def same_ticket_check(model_name: str, args, device: torch.device) -> bool:
    """Does (c) select what slt selects with scope='layer' (same seed, counts, freezing)? One forward each."""
    ticket = ticket_config(args, scope="layer")
    ours = build_run(
        cases.library_config(model_name, args.width, args.seed, args.batch_size, ticket), cases.SHAPE, cases.CLASSES
    )
    ours.model.to(device)
    theirs = build_model(model_name, cases.SHAPE, cases.CLASSES, args.width)
    conventional.swap_in_sorted_masks(theirs, ticket)
    theirs.to(device)
    a, b = ours.search.masks(), conventional.bench_masks(theirs)
    same = list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    del ours, theirs
    return same


# -- the synchronisation check of (a) and (b) --------------------------------------------------------------


def sync_counts(model_name: str, args, data_dev: DataSplits) -> dict:
    """Ops and synchronising calls per step of (a) and (b), fp32, after a warm-up step."""
    report = {}
    for case in ("a", "b"):
        n_images = min(len(data_dev.train), args.batch_size * (SYNC_STEPS + 1))
        if steps_for(n_images, args.batch_size) <= SYNC_STEPS:
            raise ValueError(f"the sync check needs {SYNC_STEPS + 1} batches: use at least that many images")
        built, batches = library_case(case, model_name, args, data_dev, n_images)
        report[case] = count_syncs(built.model, built.optimizer, batches(0))
        del built
    return report
