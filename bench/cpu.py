"""What the laptop scale costs on a CPU (a script, not a test): per step, per epoch, per option, per run.

    python bench/cpu.py steps                      # ms/step: (a) weight training, (b) ticket search; b/a
    python bench/cpu.py epoch                      # seconds per 40,000-image epoch, with validation
    python bench/cpu.py options                    # channels_last, torch.compile, threads, oneDNN, allocator, OpenMP
    python bench/cpu.py run --against ace39cf      # a laptop-sized run through slt.train.run, split by part,
                                                   # and the same run on an older commit

Every timing interleaves the cases it compares (one round runs them in one order, the next round
in the reverse order), repeats the rounds, and reports the best round, the median and the spread
(slowest round / fastest round). A ratio comes from the best times, with the range of the
per-round ratios beside it: on a shared CPU a single short timing swings by more than the effects
measured here. Case (a) is ``slt.train.build_run`` with ``ticket=None``; case (b) is
``apply_ticket_search`` with ``TicketConfig(sparsity=0.5, freeze=0.5)``, global top-k; both with
SGD (momentum 0.9, lr 0.1, weight decay 1e-4), batch 128. See bench/README.md, "On a CPU".
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (3, 32, 32)
CLASSES = 10
EPOCH_IMAGES = 40_000  # CIFAR-10's training split under the papers' 4:1 split
VAL_IMAGES = 10_000
EVAL_BATCH = 1000  # slt.tasks.EVAL_BATCH
POOL = 4  # distinct random batches a timed case cycles through
LOSS_TOLERANCE = 1e-5
TARGETS = {"b/a": 1.10, "run factor": 1.5}  # bench/README.md, "On a CPU"
MODELS = ("conv6", "resnet18")
DEFAULT_WIDTHS = {"steps": (0.25, 0.5, 1.0), "epoch": (0.25, 0.5, 1.0), "options": (0.25,)}
IN_PROCESS_OPTIONS = ("channels_last", "compile", "threads", "mkldnn", "eval-batch")
ENV_OPTIONS = ("malloc", "mallopt", "malloc-nommap", "omp-passive")
# glibc maps (and zero-fills) afresh every block above its mmap threshold; the threshold adapts to freed blocks
# but not beyond 32 MiB. These values keep blocks up to 1 GiB on the heap and the heap untrimmed (mallopt: int).
MMAP_THRESHOLD, TRIM_THRESHOLD = 2**30, 2**31 - 1
MALLOPT_ENV = "SLT_BENCH_MALLOPT"  # tells a child to call mallopt itself (what a library could do at run time)


# -- the two cases --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Trainee:
    """A model of case (a) or (b) with its optimizer, built as ``slt.train`` builds it."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    search: Any  # slt.supermask.TicketSearch, or None for weight training
    name: str
    width: float


def build_case(model: str, width: float, case: str, seed: int, batch_size: int) -> Trainee:
    from slt.config import RunConfig, TicketConfig
    from slt.train import build_run, make_optimizer

    ticket = None if case == "a" else TicketConfig(sparsity=0.5, freeze=0.5, scope="global")
    config = RunConfig(
        model=model,
        dataset="cifar10",
        ticket=ticket,
        width=width,
        seed=seed,
        batch_size=batch_size,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
    )
    run = build_run(config, SHAPE, CLASSES)
    run.model.train()
    optimizer = make_optimizer(config, [p for p in run.model.parameters() if p.requires_grad])
    return Trainee(run.model, optimizer, run.search, model, width)


class Batches:
    """Random CIFAR-shaped batches, the same for a given seed.

    Plain: a few float batches cycled (the model's step alone). ``data_path``: uint8 images put
    through slt's own crop, flip and normalisation per batch (``slt.tasks.ImageTask``'s path).
    """

    def __init__(
        self,
        batch_size: int,
        seed: int,
        data_path: bool = False,
        memory_format: torch.memory_format = torch.contiguous_format,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.batch_size, self.data_path, self.memory_format, self.i = batch_size, data_path, memory_format, 0
        n = batch_size * POOL
        if data_path:
            self.images = torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=g)
            self.labels = torch.randint(0, CLASSES, (n,), generator=g)
            self.offsets = torch.randint(0, 9, (2, n), generator=g)
            self.flips = torch.randint(0, 2, (n,), generator=g).bool()
        else:
            self.pool = [
                (
                    torch.randn(batch_size, *SHAPE, generator=g).contiguous(memory_format=memory_format),
                    torch.randint(0, CLASSES, (batch_size,), generator=g),
                )
                for _ in range(POOL)
            ]

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        k, self.i = self.i % POOL, self.i + 1
        if not self.data_path:
            return self.pool[k]
        from slt.data.cifar10 import crop_flip

        idx = torch.arange(k * self.batch_size, (k + 1) * self.batch_size)
        images = crop_flip(self.images[idx], self.offsets[0, idx], self.offsets[1, idx], self.flips[idx], 4)
        return normalize(images).contiguous(memory_format=self.memory_format), self.labels[idx]


def normalize(images: torch.Tensor) -> torch.Tensor:
    """``slt.data.base.DataSplits.normalize`` with CIFAR-10's statistics."""
    from slt.data.base import channel_stats
    from slt.data.cifar10 import MEAN, STD

    mean, std = channel_stats(tuple(MEAN), tuple(STD), images.device)
    return images.float().div_(255.0).sub_(mean).div_(std)


def train_step(t: Trainee, batches: Batches, totals: torch.Tensor) -> torch.Tensor:
    """One step as ``ImageTask.train_epoch`` takes it (loss and hits accumulate, no ``.item()``)."""
    images, labels = batches.next()
    logits = t.model(images)
    loss = F.cross_entropy(logits, labels)
    t.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    t.optimizer.step()
    totals[0] += loss.detach() * len(labels)
    totals[1] += (logits.argmax(1) == labels).sum()
    return loss


class EvalBatch:
    """1000 validation images as ``ImageTask.accuracies`` scores them (eval mode, no grad), in batches of ``size``."""

    def __init__(self, t: Trainee, seed: int, size: int = EVAL_BATCH) -> None:
        g = torch.Generator().manual_seed(seed + 1)
        self.t, self.size = t, size
        self.images = torch.randint(0, 256, (EVAL_BATCH, *SHAPE), dtype=torch.uint8, generator=g)
        self.labels = torch.randint(0, CLASSES, (EVAL_BATCH,), generator=g)
        self.correct = torch.zeros(())

    @torch.no_grad()
    def __call__(self) -> None:
        for i in range(0, EVAL_BATCH, self.size):
            logits = self.t.model(normalize(self.images[i : i + self.size]))
            self.correct += (logits.argmax(1) == self.labels[i : i + self.size]).sum()

    def enter(self) -> None:
        self.t.model.eval()

    def leave(self) -> None:
        self.t.model.train()


# -- interleaved timing ---------------------------------------------------------------------------------


def noop() -> None:
    return None


@dataclasses.dataclass
class Timed:
    """One case of an interleaved measurement: what one step is, and what to set around a block of them."""

    name: str
    step: Callable[[], object]
    steps: int | None = None  # steps per round (None: the measurement's default)
    enter: Callable[[], None] = noop
    leave: Callable[[], None] = noop


def interleave(cases: list[Timed], rounds: int, steps: int, warmup: int, label: str) -> dict[str, list[float]]:
    """Seconds per step of each case, one value per round; rounds alternate the order of the cases."""
    for case in cases:
        case.enter()
        for _ in range(warmup):
            case.step()
        case.leave()
    times: dict[str, list[float]] = {case.name: [] for case in cases}
    for r in range(rounds):
        for case in cases if r % 2 == 0 else cases[::-1]:
            n = case.steps or steps
            case.enter()
            start = time.perf_counter()
            for _ in range(n):
                case.step()
            times[case.name].append((time.perf_counter() - start) / n)
            case.leave()
        shown = "  ".join(f"{name} {1000 * t[-1]:.0f}" for name, t in times.items())
        print(f"  {label}  round {r + 1}/{rounds} (ms/step): {shown}", flush=True)
    return times


def stats(seconds: list[float]) -> dict[str, Any]:
    ms = [1000 * s for s in seconds]
    return {
        "best_ms": min(ms),
        "median_ms": statistics.median(ms),
        "spread": max(ms) / min(ms),
        "rounds_ms": ms,
    }


def ratio(num: list[float], den: list[float]) -> dict[str, Any]:
    """num/den from the best times, and per round (the rounds are paired: same order, same moment)."""
    rounds = [n / d for n, d in zip(num, den, strict=True)]
    return {
        "best": min(num) / min(den),
        "median_round": statistics.median(rounds),
        "min_round": min(rounds),
        "max_round": max(rounds),
        "spread": max(rounds) / min(rounds),
        "rounds": rounds,
    }


MIN_ROUNDS = 5  # all of 5 paired rounds on one side happens by chance once in 16 (two-sided)


def verdict(r: dict[str, Any]) -> str:
    """An option against its baseline (r = option/baseline): a paired, every-round criterion."""
    few = f" ({len(r['rounds'])} rounds: too few to tell)" if len(r["rounds"]) < MIN_ROUNDS else ""
    if r["max_round"] < 1.0:
        return "faster in every round" + few
    if r["min_round"] > 1.0:
        return "slower in every round" + few
    return "within the noise"


def release() -> None:
    gc.collect()


# -- steps ----------------------------------------------------------------------------------------------


def mode_steps(args: argparse.Namespace) -> dict[str, Any]:
    rows = []
    for model in args.models:
        for width in args.widths:
            cases = []
            for case in ("a", "b"):
                t = build_case(model, width, case, args.seed, args.batch_size)
                batches, totals = Batches(args.batch_size, args.seed), torch.zeros(2)
                cases.append(Timed(case, functools.partial(train_step, t, batches, totals)))
            times = interleave(cases, args.rounds, args.steps, args.warmup, f"{model} x{width:g}")
            rows.append(
                {
                    "model": model,
                    "width": width,
                    "a": stats(times["a"]),
                    "b": stats(times["b"]),
                    "b/a": ratio(times["b"], times["a"]),
                }
            )
            del cases
            release()
    print_steps(rows)
    return {"rows": rows, "target_b_over_a": TARGETS["b/a"]}


def print_steps(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'model':<9} {'width':>5}  {'a best':>8} {'a med':>8} {'a sprd':>6}  {'b best':>8} {'b med':>8} "
        f"{'b sprd':>6}  {'b/a':>5}  {'b/a rounds':>11}  target b/a <= {TARGETS['b/a']}"
    )
    print("\nms per training step (batch 128), best of the rounds, median, spread = slowest/fastest round")
    print(head + "\n" + "-" * len(head))
    for r in rows:
        a, b, q = r["a"], r["b"], r["b/a"]
        met = "met" if q["best"] <= TARGETS["b/a"] else "MISSED"
        print(
            f"{r['model']:<9} {r['width']:>5g}  {a['best_ms']:8.1f} {a['median_ms']:8.1f} {a['spread']:6.2f}  "
            f"{b['best_ms']:8.1f} {b['median_ms']:8.1f} {b['spread']:6.2f}  {q['best']:5.2f}  "
            f"{q['min_round']:5.2f}-{q['max_round']:<5.2f}  {met}"
        )


# -- epoch ----------------------------------------------------------------------------------------------


def mode_epoch(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per epoch from measured step and eval-batch times (slt's data path included in a step)."""
    rows = []
    steps_per_epoch = math.ceil(EPOCH_IMAGES / args.batch_size)
    eval_batches = math.ceil(VAL_IMAGES / EVAL_BATCH)
    for model in args.models:
        for width in args.widths:
            cases = []
            for case in ("a", "b"):
                t = build_case(model, width, case, args.seed, args.batch_size)
                batches, totals = Batches(args.batch_size, args.seed, data_path=True), torch.zeros(2)
                cases.append(Timed(case, functools.partial(train_step, t, batches, totals)))
                ev = EvalBatch(t, args.seed, args.eval_batch)
                cases.append(Timed(f"{case}-eval", ev, args.eval_batches, ev.enter, ev.leave))
            times = interleave(cases, args.rounds, args.steps, args.warmup, f"{model} x{width:g}")
            row: dict[str, Any] = {"model": model, "width": width}
            for case in ("a", "b"):
                step, ev = times[case], times[f"{case}-eval"]
                per_round = [steps_per_epoch * s + eval_batches * e for s, e in zip(step, ev, strict=True)]
                row[case] = {
                    "step": stats(step),
                    "eval_batch": stats(ev),
                    "s_per_epoch_best": steps_per_epoch * min(step) + eval_batches * min(ev),
                    "s_per_epoch_median": statistics.median(per_round),
                    "s_per_epoch_rounds": per_round,
                    "train_share": steps_per_epoch * min(step) / (steps_per_epoch * min(step) + eval_batches * min(ev)),
                }
            row["b/a"] = ratio(row["b"]["s_per_epoch_rounds"], row["a"]["s_per_epoch_rounds"])
            rows.append(row)
            del cases
            release()
    print(
        f"\nseconds per epoch: {steps_per_epoch} training steps of {args.batch_size} ({EPOCH_IMAGES:,} images, "
        f"slt's crop/flip/normalise included) + {VAL_IMAGES:,} validation images in batches of {args.eval_batch}"
    )
    head = (
        f"{'model':<9} {'width':>5}  {'a s/ep':>8} {'(med)':>8}  {'b s/ep':>8} {'(med)':>8}  {'b/a':>5}  "
        f"{'eval share':>10}"
    )
    print(head + "\n" + "-" * len(head))
    for r in rows:
        a, b = r["a"], r["b"]
        print(
            f"{r['model']:<9} {r['width']:>5g}  {a['s_per_epoch_best']:8.1f} {a['s_per_epoch_median']:8.1f}  "
            f"{b['s_per_epoch_best']:8.1f} {b['s_per_epoch_median']:8.1f}  {r['b/a']['best']:5.2f}  "
            f"{1 - b['train_share']:10.1%}"
        )
    return {"rows": rows, "steps_per_epoch": steps_per_epoch, "eval_batches_per_epoch": eval_batches}


# -- options --------------------------------------------------------------------------------------------


class CompiledBody(nn.Module):
    """The searched model with slt's masks made eagerly and the plain network body compiled.

    ``module.weight`` runs slt's lazy top-k and straight-through function outside the compiled code;
    a plain copy of the architecture runs compiled through ``torch.func.functional_call`` with those
    weights and the searched model's buffers (BatchNorm statistics update in place).
    """

    def __init__(self, t: Trainee, mode: str | None) -> None:
        from slt.models import build_model

        super().__init__()
        self.searched = t.model
        self.body = build_model(t.name, SHAPE, CLASSES, t.width).requires_grad_(False)
        self.__dict__["search"] = t.search
        self.buffer_refs = {k: v for k, v in t.model.named_buffers() if ".parametrizations." not in k}

        def call(tensors: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(self.body, tensors, (x,))

        self.compiled = torch.compile(call, mode=mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = {f"{layer.name}.weight": layer.module.weight for layer in self.search.layers}
        tensors.update(self.buffer_refs)
        return self.compiled(tensors, x)


@dataclasses.dataclass
class Variant:
    """A way of running the same step: how to change the model and batches, and what to set around it."""

    name: str
    prepare: Callable[[Trainee], Trainee] = lambda t: t
    memory_format: torch.memory_format = torch.contiguous_format
    enter: Callable[[], None] = noop
    leave: Callable[[], None] = noop
    compiles: bool = False


def set_mkldnn(enabled: bool) -> None:
    torch.backends.mkldnn.enabled = enabled


def in_process_variants(args: argparse.Namespace, case: str) -> list[Variant]:
    mode = None if args.compile_mode == "default" else args.compile_mode
    variants: list[Variant] = []
    for option in args.options:
        if option == "channels_last":

            def to_channels_last(t: Trainee) -> Trainee:
                t.model.to(memory_format=torch.channels_last)
                return t

            variants.append(Variant("channels_last", to_channels_last, torch.channels_last))
        elif option == "compile":

            def compile_model(t: Trainee) -> Trainee:
                return dataclasses.replace(t, model=torch.compile(t.model, mode=mode))

            variants.append(Variant("compile", compile_model, compiles=True))
            if case == "b":

                def compile_body(t: Trainee) -> Trainee:
                    return dataclasses.replace(t, model=CompiledBody(t, mode))

                variants.append(Variant("compile-body", compile_body, compiles=True))
        elif option == "threads":
            for n in args.thread_counts:
                if n != args.threads:
                    variants.append(
                        Variant(
                            f"threads={n}",
                            enter=functools.partial(torch.set_num_threads, n),
                            leave=functools.partial(torch.set_num_threads, args.threads),
                        )
                    )
        elif option == "mkldnn":
            variants.append(
                Variant(
                    "mkldnn-off", enter=functools.partial(set_mkldnn, False), leave=functools.partial(set_mkldnn, True)
                )
            )
    return variants


def dynamo_counts() -> dict[str, int]:
    from torch._dynamo.utils import counters

    return {
        "graph_breaks": sum(counters["graph_break"].values()),
        "unique_graphs": counters["stats"]["unique_graphs"],
    }


def start_variant(
    args: argparse.Namespace, model: str, width: float, case: str, variant: Variant
) -> tuple[Timed, dict[str, Any]]:
    """Build, prepare and warm up one variant; its first steps are the loss check (same seed, same batches)."""
    if variant.compiles:
        torch._dynamo.reset()
        from torch._dynamo.utils import counters

        counters.clear()
    t = variant.prepare(build_case(model, width, case, args.seed, args.batch_size))
    batches, totals = Batches(args.batch_size, args.seed, memory_format=variant.memory_format), torch.zeros(2)
    losses, firsts = [], []
    variant.enter()
    try:
        for _ in range(max(args.check_steps, args.warmup)):
            start = time.perf_counter()
            losses.append(float(train_step(t, batches, totals).detach()))
            firsts.append(time.perf_counter() - start)
    finally:
        variant.leave()
    info: dict[str, Any] = {"losses": losses[: args.check_steps], "warmup_step_s": firsts}
    if variant.compiles:
        info |= dynamo_counts()
    return Timed(
        variant.name, functools.partial(train_step, t, batches, totals), None, variant.enter, variant.leave
    ), info


def compare_losses(base: list[float], other: list[float]) -> dict[str, Any]:
    diff = max(abs(x - y) for x, y in zip(base, other, strict=True))
    return {"max_loss_diff": diff, "same_loss": diff <= LOSS_TOLERANCE}


def option_row(model: str, width: float, case: str, name: str, times, base_info, info) -> dict[str, Any]:
    row = {
        "model": model,
        "width": width,
        "case": case,
        "option": name,
        "baseline": stats(times["baseline"]),
        "with_option": stats(times[name]),
        "option/baseline": ratio(times[name], times["baseline"]),
        **compare_losses(base_info["losses"], info["losses"]),
        "warmup_step_s": info["warmup_step_s"],
    }
    row["verdict"] = verdict(row["option/baseline"])
    kept = ("graph_breaks", "unique_graphs", "minflt_per_step", "env", "mallopt_accepted")
    row |= {k: v for k, v in info.items() if k in kept and v is not None}
    if "compile" in name:
        row["compile_s"] = info["warmup_step_s"][0] - base_info["warmup_step_s"][0]
    return row


def mode_options(args: argparse.Namespace) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    env_options = [o for o in args.options if o in ENV_OPTIONS]
    for model in args.models:
        for width in args.widths:
            for case in args.cases:
                for variant in in_process_variants(args, case):
                    label = f"{model} x{width:g} ({case}) {variant.name}"
                    base, base_info = start_variant(args, model, width, case, Variant("baseline"))
                    base.name = "baseline"
                    try:
                        timed, info = start_variant(args, model, width, case, variant)
                    except Exception as err:  # a compile that is refused is a result
                        message = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:300]}"
                        print(f"  {label}: failed: {message}", flush=True)
                        rows.append(
                            {"model": model, "width": width, "case": case, "option": variant.name, "error": message}
                        )
                        continue
                    times = interleave([base, timed], args.rounds, args.steps, 0, label)
                    rows.append(option_row(model, width, case, variant.name, times, base_info, info))
                    print_option(rows[-1])
                    del base, timed
                    release()
                if "eval-batch" in args.options:
                    rows.append(eval_batch_row(args, model, width, case))
                    print_option(rows[-1])
                if env_options:
                    rows += env_rows(args, model, width, case, env_options)
    print_options(rows)
    return {"rows": rows, "loss_tolerance": LOSS_TOLERANCE}


def eval_batch_row(args: argparse.Namespace, model: str, width: float, case: str) -> dict[str, Any]:
    """Validation of 1000 images as slt does it (one batch) against chunks of ``--small-eval-batch``."""
    t = build_case(model, width, case, args.seed, args.batch_size)
    totals = torch.zeros(2)
    for _ in range(max(1, args.warmup)):  # a trained state, and fresh masks for (b)
        train_step(t, Batches(args.batch_size, args.seed), totals)
    t.model.eval()
    images = normalize(torch.randint(0, 256, (EVAL_BATCH, *SHAPE), dtype=torch.uint8))
    small = args.small_eval_batch
    name = f"eval-batch={small}"

    @torch.no_grad()
    def logits(size: int) -> torch.Tensor:
        return torch.cat([t.model(images[i : i + size]) for i in range(0, EVAL_BATCH, size)])

    whole, chunked = logits(EVAL_BATCH), logits(small)
    cases = [
        Timed("baseline", functools.partial(logits, EVAL_BATCH), 1),
        Timed(name, functools.partial(logits, small), 1),
    ]
    times = interleave(cases, args.rounds, 1, 1, f"{model} x{width:g} ({case}) validation of {EVAL_BATCH} images")
    t.model.train()
    row = {
        "model": model,
        "width": width,
        "case": case,
        "option": name,
        "unit": f"{EVAL_BATCH} validation images",
        "baseline": stats(times["baseline"]),
        "with_option": stats(times[name]),
        "option/baseline": ratio(times[name], times["baseline"]),
        "max_logit_diff": float((whole - chunked).abs().max()),
        "same_predictions": bool((whole.argmax(1) == chunked.argmax(1)).all()),
    }
    row["max_loss_diff"], row["same_loss"] = row["max_logit_diff"], row["same_predictions"]
    row["verdict"] = verdict(row["option/baseline"])
    return row


def env_for(option: str, args: argparse.Namespace) -> dict[str, str]:
    if option == "malloc":
        return {
            "MALLOC_MMAP_THRESHOLD_": str(args.malloc_mmap_threshold),
            "MALLOC_TRIM_THRESHOLD_": str(args.malloc_trim_threshold),
        }
    if option == "mallopt":
        return {MALLOPT_ENV: f"{args.malloc_mmap_threshold},{args.malloc_trim_threshold}"}
    if option == "malloc-nommap":
        return {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(args.malloc_trim_threshold)}
    if option == "omp-passive":
        return {"OMP_WAIT_POLICY": "PASSIVE"}
    raise ValueError(option)


ENV_KEYS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "OMP_WAIT_POLICY",
    "GOMP_SPINCOUNT",
    MALLOPT_ENV,
)


def child_steps_once(args: argparse.Namespace, model: str, width: float, case: str, env: dict[str, str]) -> dict:
    """One subprocess of this script: build, check steps, a few rounds; its best round is one sample."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "child-steps",
            f"--model={model}",
            f"--width={width}",
            f"--case={case}",
            f"--threads={args.threads}",
            f"--seed={args.seed}",
            f"--batch-size={args.batch_size}",
            f"--steps={args.steps}",
            f"--warmup={args.warmup}",
            f"--check-steps={args.check_steps}",
            f"--child-rounds={args.child_rounds}",
            f"--result={result}",
        ]
        child_env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS} | env
        child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        subprocess.run(cmd, env=child_env, check=True, cwd=ROOT)
        return json.loads(result.read_text())


def env_rows(args: argparse.Namespace, model: str, width: float, case: str, options: list[str]) -> list[dict]:
    """Environment variables act at process start: subprocesses with and without them, interleaved."""
    names = ["baseline", *options]
    envs = {"baseline": {}} | {o: env_for(o, args) for o in options}
    samples: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            samples[name].append(child_steps_once(args, model, width, case, envs[name]))
        shown = "  ".join(f"{n} {1000 * s[-1]['best_s']:.0f}" for n, s in samples.items())
        print(f"  {model} x{width:g} ({case}) processes  round {r + 1}/{args.rounds} (ms/step): {shown}", flush=True)
    times = {n: [s["best_s"] for s in samples[n]] for n in names}
    base_info = {"losses": samples["baseline"][0]["losses"], "warmup_step_s": samples["baseline"][0]["warmup_step_s"]}
    rows = []
    for option in options:
        info = {
            "losses": samples[option][0]["losses"],
            "warmup_step_s": samples[option][0]["warmup_step_s"],
            "minflt_per_step": statistics.median(s["minflt_per_step"] for s in samples[option]),
            "env": envs[option],
            "mallopt_accepted": samples[option][0]["mallopt_accepted"],
        }
        row = option_row(model, width, case, option, times, base_info, info)
        row["baseline_minflt_per_step"] = statistics.median(s["minflt_per_step"] for s in samples["baseline"])
        rows.append(row)
        print_option(row)
    return rows


def set_malloc_thresholds(mmap_threshold: int, trim_threshold: int) -> bool:
    """glibc's ``mallopt``: the run-time equivalent of MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    return bool(libc.mallopt(m_mmap_threshold, mmap_threshold)) and bool(libc.mallopt(m_trim_threshold, trim_threshold))


def mode_child_steps(args: argparse.Namespace) -> None:
    mallopt_ok = None
    if os.environ.get(MALLOPT_ENV):
        mmap_threshold, trim_threshold = (int(v) for v in os.environ[MALLOPT_ENV].split(","))
        mallopt_ok = set_malloc_thresholds(mmap_threshold, trim_threshold)
    t = build_case(args.model, args.width, args.case, args.seed, args.batch_size)
    batches, totals = Batches(args.batch_size, args.seed), torch.zeros(2)
    losses, firsts = [], []
    for _ in range(max(args.check_steps, args.warmup)):
        start = time.perf_counter()
        losses.append(float(train_step(t, batches, totals).detach()))
        firsts.append(time.perf_counter() - start)
    rounds, faults = [], []
    for _ in range(args.child_rounds):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        for _ in range(args.steps):
            train_step(t, batches, totals)
        rounds.append((time.perf_counter() - start) / args.steps)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / args.steps)
    result = {
        "losses": losses[: args.check_steps],
        "warmup_step_s": firsts,
        "rounds_s": rounds,
        "best_s": min(rounds),
        "minflt_per_step": min(faults),
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "mallopt_accepted": mallopt_ok,
    }
    Path(args.result).write_text(json.dumps(result))


def print_option(r: dict[str, Any]) -> None:
    q = r["option/baseline"]
    extra = ""
    if "compile_s" in r:
        extra += f", compile ~{r['compile_s']:.0f} s"
    if "graph_breaks" in r:
        extra += f", {r['graph_breaks']} graph breaks, {r['unique_graphs']} graphs"
    if "minflt_per_step" in r:
        extra += f", page faults/step {r['baseline_minflt_per_step']:.0f} -> {r['minflt_per_step']:.0f}"
    unit, diff = ("ms/1000 val images", "logit diff") if "unit" in r else ("ms/step", "loss diff")
    same = ("same" if r["same_loss"] else "DIFFERENT") + (" predictions" if "unit" in r else "")
    print(
        f"  => {r['model']} x{r['width']:g} ({r['case']}) {r['option']}: {r['with_option']['best_ms']:.1f} vs "
        f"{r['baseline']['best_ms']:.1f} {unit}, x{q['best']:.2f} (rounds {q['min_round']:.2f}-{q['max_round']:.2f}, "
        f"{r['verdict']}); {diff} {r['max_loss_diff']:.1e} ({same}){extra}",
        flush=True,
    )


def print_options(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'model':<9} {'width':>5} {'case':<4} {'option':<14} {'base ms':>8} {'opt ms':>8} {'opt/base':>8} "
        f"{'rounds':>11}  {'loss diff':>9}  verdict"
    )
    print("\noptions against the baseline in the same process (env options: in interleaved subprocesses)")
    print(head + "\n" + "-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<9} {r['width']:>5g} {r['case']:<4} {r['option']:<14} failed: {r['error'][:80]}")
            continue
        q = r["option/baseline"]
        useful = r["verdict"] == "faster in every round" and r["same_loss"]  # with MIN_ROUNDS rounds or more
        print(
            f"{r['model']:<9} {r['width']:>5g} {r['case']:<4} {r['option']:<14} {r['baseline']['best_ms']:8.1f} "
            f"{r['with_option']['best_ms']:8.1f} {q['best']:8.2f} {q['min_round']:5.2f}-{q['max_round']:<5.2f}  "
            f"{r['max_loss_diff']:9.1e}  {r['verdict']}{', same results: HELPS' if useful else ''}"
        )


# -- run ------------------------------------------------------------------------------------------------


def parse_run_case(text: str) -> tuple[str, float]:
    model, _, width = text.partition(":")
    if model not in MODELS or not width:
        raise argparse.ArgumentTypeError(f"expected MODEL:WIDTH with MODEL in {MODELS}, e.g. conv6:0.25, got {text!r}")
    return model, float(width)


def laptop_config(model: str, width: float, args: argparse.Namespace) -> dict[str, Any]:
    """The laptop scale's config at model width ``width`` (``make_config``'s own width is a multiplier)."""
    from slt.config import TicketConfig
    from slt.scales import size_of
    from slt.sweeps import make_config

    ticket = None if args.weight_training else TicketConfig(sparsity=args.sparsity)
    config = make_config(
        "laptop", model, "cifar10", ticket, seed=args.seed, width=width / size_of("laptop", model).width
    )
    changes: dict[str, Any] = {"width": width, "accept_data_copy": args.accept_data_copy or config.accept_data_copy}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    if args.train_subset is not None:
        changes["train_subset"] = args.train_subset
    if args.selection == "whole":
        changes["val_subset"] = None
    return dataclasses.replace(config, **changes).to_dict()


def git(*cmd: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *cmd], capture_output=True, text=True, check=True, cwd=cwd).stdout.strip()


def worktree(commit: str) -> tuple[Path, str, bool]:
    """A checkout of ``commit`` at /tmp/slt-COMMIT (made with ``git worktree add`` unless it is there)."""
    full = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    path = Path(tempfile.gettempdir()) / f"slt-{commit}"
    if path.exists():
        head = git("rev-parse", "HEAD", cwd=path)
        if head != full:
            raise SystemExit(f"{path} holds {head[:12]}, not {commit}: remove it (git worktree remove {path}).")
        return path, full, False
    git("worktree", "add", "--detach", str(path), full)
    return path, full, True


PROPOSED = ("eval-batch", "mallopt", "channels-last")
"""Library changes a child run can apply at run time to the current code (``run --proposed``):
eval-batch: validation and test in batches of ``--proposed-eval-batch`` instead of 1000;
mallopt: glibc keeps freed memory (``set_malloc_thresholds``) instead of mapping and zeroing it again;
channels-last: the model's weights and the batches in channels_last memory format (changes results slightly)."""


@dataclasses.dataclass(frozen=True)
class Code:
    """One side of a run comparison: which slt (a folder on PYTHONPATH) and which proposed changes."""

    label: str
    root: Path
    changes: tuple[str, ...] = ()


def child_run_once(args: argparse.Namespace, config: dict[str, Any], code: Code) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="slt-cpu-run-") as tmp:
        config_file, result = Path(tmp) / "config.json", Path(tmp) / "result.json"
        config_file.write_text(json.dumps(config))
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "child-run",
            f"--config={config_file}",
            f"--work={Path(tmp) / 'out'}",
            f"--threads={args.threads}",
            f"--result={result}",
            f"--profile={args.profile}",
            f"--eval-batch={args.proposed_eval_batch}",
            f"--malloc-mmap-threshold={args.malloc_mmap_threshold}",
            f"--malloc-trim-threshold={args.malloc_trim_threshold}",
        ]
        if code.changes:
            cmd += ["--changes", *code.changes]
        if args.data_dir:
            cmd.append(f"--data-dir={Path(args.data_dir).resolve()}")  # the child runs in a temporary folder
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code.root), os.environ.get("PYTHONPATH")]))
        print(f"  {code.label}: {config['model']} x{config['width']:g}, {config['epochs']} epochs ...", flush=True)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, cwd=tmp)
        out = json.loads(result.read_text())
        out["process_seconds"] = time.perf_counter() - start
        out["label"] = code.label
        print_run(out)
        return out


def print_run(r: dict[str, Any]) -> None:
    shown = ", ".join(f"{k} {v:.1f}" for k, v in r["parts"].items())
    rec, cpu = r["record"], r["cpu"]
    print(
        f"    {r['label']}: run {r['run_seconds']:.1f} s ({shown}, other {r['other_seconds']:.1f}); "
        f"process {r['process_seconds']:.1f} s; cpu user {cpu['user_s']:.1f} s, sys {cpu['sys_s']:.1f} s, "
        f"{cpu['minor_faults']:,} page faults; best epoch {rec['best_epoch']}, test acc {rec['test_acc']:.4f}; "
        f"checkpoints {r['counts'].get('checkpoint writes', 0)}; code {r['code']} @ {str(r['git_commit'])[:8]}",
        flush=True,
    )
    print("      page faults: " + ", ".join(f"{k} {v:,}" for k, v in r["page_faults"].items()), flush=True)


def same_record(new: dict[str, Any], old: dict[str, Any], test_comparable: bool) -> dict[str, Any]:
    a, b = new["record"], old["record"]
    diffs = [
        abs(x[k] - y[k])
        for x, y in zip(a["history"], b["history"], strict=True)
        for k in ("train_loss", "train_acc", "val_acc", "lr")
    ]
    out = {
        "same_best_epoch": a["best_epoch"] == b["best_epoch"],
        "same_best_val_acc": a["best_val_acc"] == b["best_val_acc"],
        "same_test_acc": (a["test_acc"] == b["test_acc"]) if test_comparable else None,
        "same_sparsity": a["sparsity_achieved"] == b["sparsity_achieved"],
        "history_max_abs_diff": max(diffs),
    }
    checks = [out["same_best_epoch"], out["same_best_val_acc"], out["same_sparsity"], out["same_test_acc"] is not False]
    out["same_record"] = all(checks) and out["history_max_abs_diff"] == 0.0
    return out


def mode_run(args: argparse.Namespace) -> dict[str, Any]:
    codes = [Code("current", ROOT)]
    if args.proposed:
        codes.append(Code("proposed", ROOT, tuple(args.proposed)))
    created, against = None, None
    if args.against:
        path, full, made = worktree(args.against)
        created = path if made else None
        codes.append(Code(args.against, path))
        against = {"commit": full, "path": str(path)}
    # (reference, other) pairs: the factor is reference/other; the old commit's test acc is comparable on 'whole' only
    labels = {c.label for c in codes}
    pairs = [(a, b) for a, b in ((args.against, "current"), (args.against, "proposed"), ("current", "proposed"))]
    pairs = [(a, b) for a, b in pairs if a in labels and b in labels]
    cases = []
    try:
        for model, width in args.cases:
            config = laptop_config(model, width, args)
            runs: dict[str, list[dict]] = {code.label: [] for code in codes}
            for r in range(args.repeats):
                for code in codes if r % 2 == 0 else codes[::-1]:
                    runs[code.label].append(child_run_once(args, config, code))
            best = {label: min(x["run_seconds"] for x in rs) for label, rs in runs.items()}
            case: dict[str, Any] = {
                "model": model,
                "width": width,
                "config": config,
                "best_run_seconds": best,
                "runs": runs,
                "comparisons": [],
            }
            for ref, other in pairs:
                comparable = args.selection == "whole" or ref != args.against
                case["comparisons"].append(
                    {
                        "reference": ref,
                        "other": other,
                        "factor": best[ref] / best[other],
                        "pairs": [
                            x["run_seconds"] / y["run_seconds"] for x, y in zip(runs[ref], runs[other], strict=True)
                        ],
                        **same_record(runs[other][0], runs[ref][0], test_comparable=comparable),
                    }
                )
            cases.append(case)
    finally:
        if created is not None and not args.keep_worktree:
            git("worktree", "remove", "--force", str(created))
    print_run_summary(cases)
    return {"cases": cases, "against": against, "selection": args.selection, "target_factor": TARGETS["run factor"]}


def print_run_summary(cases: list[dict[str, Any]]) -> None:
    print("\nlaptop-sized runs through slt.train.run (seconds inside run(); best of the repeats)")
    test = {True: "same test acc", False: "DIFFERENT test acc", None: "test acc not comparable"}
    for c in cases:
        times = ", ".join(f"{label} {s:.1f} s" for label, s in c["best_run_seconds"].items())
        print(f"  {c['model']} x{c['width']:g}, {c['config']['epochs']} epochs: {times}")
        for q in c["comparisons"]:
            target = ""
            if q["other"] != "proposed" or q["reference"] != "current":
                met = "met" if q["factor"] >= TARGETS["run factor"] else "MISSED"
                target = f", target >= {TARGETS['run factor']}: {met}"
            print(
                f"    {q['reference']} / {q['other']} = {q['factor']:.2f} (pairs "
                f"{', '.join(f'{x:.2f}' for x in q['pairs'])}{target}); "
                f"{'same' if q['same_best_epoch'] else 'DIFFERENT'} best epoch, {test[q['same_test_acc']]}, "
                f"history max diff {q['history_max_abs_diff']:.1e}: "
                f"{'same record' if q['same_record'] else 'NOT the same record'}"
            )


def mode_child_run(args: argparse.Namespace) -> None:
    """One run in this process with the ``slt`` on PYTHONPATH (current or old), timed by part."""
    import slt
    import slt.tasks as tasks
    import slt.train as train
    from slt.config import RunConfig

    parts: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    faults: dict[str, int] = defaultdict(int)

    def timed(part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            start, faults0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            try:
                return fn(*a, **k)
            finally:
                parts[part] += time.perf_counter() - start
                counts[part] += 1
                faults[part] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0

        return wrapper

    train.load_task = timed("data loading", train.load_task)
    train.build_run = timed("model build", train.build_run)
    train.save_atomic = timed("checkpoint writes", train.save_atomic)
    train.environment = timed("record", train.environment)
    tasks.ImageTask.train_epoch = timed("training steps", tasks.ImageTask.train_epoch)
    accuracies = tasks.ImageTask.accuracies
    by_split = {"val": timed("validation", accuracies), "test": timed("test", accuracies)}

    def per_split(self: Any, model: nn.Module, splits: tuple[str, ...] = ("val", "test")) -> dict[str, float]:
        out: dict[str, float] = {}
        for split in splits:
            out |= by_split[split](self, model, (split,))
        return out

    tasks.ImageTask.accuracies = per_split
    if "eval-batch" in args.changes:
        tasks.EVAL_BATCH = args.eval_batch
    if "mallopt" in args.changes:
        set_malloc_thresholds(args.malloc_mmap_threshold, args.malloc_trim_threshold)
    if "channels-last" in args.changes:
        build_run = train.build_run

        def build_channels_last(*a: Any, **k: Any) -> Any:
            run_ = build_run(*a, **k)
            run_.model.to(memory_format=torch.channels_last)
            return run_

        train.build_run = build_channels_last
        from slt.data.base import DataSplits

        normalize_ = DataSplits.normalize

        def normalize_channels_last(self: Any, images: torch.Tensor) -> torch.Tensor:
            return normalize_(self, images).contiguous(memory_format=torch.channels_last)

        DataSplits.normalize = normalize_channels_last

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    wanted = json.loads(Path(args.config).read_text())
    given = dict(wanted)
    if "val_subset" not in fields:  # before the change: one eval_subset for validation and test, both every epoch
        given["eval_subset"] = given.pop("val_subset")
    dropped = {k: v for k, v in given.items() if k not in fields}
    config = RunConfig.from_dict({k: v for k, v in given.items() if k in fields})
    torch.set_num_threads(args.threads)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    record = train.run(config, args.work, data_dir=args.data_dir, device="cpu", progress=False)
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    profile = None
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.profile)
        profile = text.getvalue()
    keys = ("epoch", "train_loss", "train_acc", "val_acc", "lr")
    result = {
        "code": str(Path(slt.__file__).resolve().parent.parent),
        "git_commit": record.get("git_commit"),
        "config_given": {k: v for k, v in given.items() if k in fields},
        "config_dropped": dropped,
        "threads": torch.get_num_threads(),
        "changes": args.changes,
        "run_seconds": total,
        "cpu": {
            "user_s": usage.ru_utime - usage0.ru_utime,
            "sys_s": usage.ru_stime - usage0.ru_stime,
            "minor_faults": usage.ru_minflt - usage0.ru_minflt,
            "max_rss_mb": usage.ru_maxrss / 1024,
        },
        "parts": dict(parts),
        "counts": dict(counts),
        "page_faults": dict(faults),
        "other_seconds": total - sum(parts.values()),
        "record_wall_seconds": record["wall_seconds"],
        "epoch_seconds": [h["seconds"] for h in record["history"]],
        "record": {
            "best_epoch": record["best_epoch"],
            "best_val_acc": record["best_val_acc"],
            "test_acc": record["test_acc"],
            "sparsity_achieved": record["sparsity_achieved"],
            "history": [{k: h[k] for k in keys} for h in record["history"]],
        },
        "profile": profile,
    }
    Path(args.result).write_text(json.dumps(result))


# -- output ---------------------------------------------------------------------------------------------


def provenance(args: argparse.Namespace) -> dict[str, Any]:
    def maybe_git(*cmd: str) -> str | None:
        try:
            return git(*cmd)
        except (OSError, subprocess.CalledProcessError):
            return None

    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": args.threads,
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "git_commit": maybe_git("rev-parse", "HEAD"),
        "git_dirty": bool(maybe_git("status", "--porcelain", "--untracked-files=no")),
        "command": shlex.join([sys.executable, *sys.argv]),
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "loadavg_start": os.getloadavg(),
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
    }


def write_json(path: Path, mode: str, body: dict[str, Any], meta: dict[str, Any]) -> None:
    """Merge this mode's section into the file (each mode is a separate command)."""
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc.setdefault("sections", {})[mode] = {"provenance": meta, **body}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    os.replace(tmp, path)


# -- command line ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--threads", type=int, default=cores, help="torch.set_num_threads")
    common.add_argument("--seed", type=int, default=0)
    common.add_argument("--batch-size", type=int, default=128)
    common.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "cpu.json"), help="JSON file (merged by mode)"
    )
    malloc = argparse.ArgumentParser(add_help=False)
    malloc.add_argument("--malloc-mmap-threshold", type=int, default=MMAP_THRESHOLD)
    malloc.add_argument("--malloc-trim-threshold", type=int, default=TRIM_THRESHOLD, help="mallopt takes an int")
    timing = argparse.ArgumentParser(add_help=False)
    timing.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    timing.add_argument("--widths", nargs="+", type=float, default=None, help="default: 0.25 0.5 1.0 (options: 0.25)")
    timing.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best, median and spread over them)")
    timing.add_argument("--steps", type=int, default=8, help="training steps per case per round")
    timing.add_argument("--warmup", type=int, default=3, help="untimed steps per case first")

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    sub.add_parser("steps", parents=[common, timing], formatter_class=fmt, help="ms per step, (a) and (b), b/a")

    epoch = sub.add_parser("epoch", parents=[common, timing], formatter_class=fmt, help="seconds per epoch")
    epoch.add_argument("--eval-batches", type=int, default=1, help="1000-image validations per case per round")
    epoch.add_argument("--eval-batch", type=int, default=EVAL_BATCH, help="their batch size (slt: 1000)")

    options = sub.add_parser("options", parents=[common, timing, malloc], formatter_class=fmt, help="CPU options")
    options.add_argument("--cases", nargs="+", default=["a", "b"], choices=["a", "b"])
    options.add_argument(
        "--options", nargs="+", default=[*IN_PROCESS_OPTIONS, *ENV_OPTIONS], choices=[*IN_PROCESS_OPTIONS, *ENV_OPTIONS]
    )
    options.add_argument("--check-steps", type=int, default=3, help="steps whose losses must equal the baseline's")
    options.add_argument("--thread-counts", nargs="+", type=int, default=sorted({1, cores}))
    options.add_argument("--small-eval-batch", type=int, default=128, help="the eval-batch option's batch")
    options.add_argument("--compile-mode", default="default", choices=["default", "reduce-overhead", "max-autotune"])
    options.add_argument("--child-rounds", type=int, default=2, help="rounds inside each subprocess of an env option")

    run = sub.add_parser("run", parents=[common, malloc], formatter_class=fmt, help="a laptop-sized run, split by part")
    run.add_argument(
        "--cases",
        nargs="+",
        type=parse_run_case,
        default=[("conv6", 0.25), ("conv6", 0.5), ("resnet18", 0.25)],
        help="MODEL:WIDTH, the model's width (not make_config's multiplier)",
    )
    run.add_argument("--epochs", type=int, default=None, help="shorten the runs (None: the laptop scale's)")
    run.add_argument("--train-subset", type=int, default=None, help="shorten the epochs (None: the laptop scale's)")
    run.add_argument("--against", default=None, help="also run the same configs with this commit's slt")
    run.add_argument("--repeats", type=int, default=1, help="runs per code, alternating which goes first")
    run.add_argument(
        "--selection",
        default="whole",
        choices=["whole", "laptop"],
        help="whole: select on all 10,000 validation images in both codes, so the records must be equal; "
        "laptop: the laptop scale's 2,000 (the old code then also tests on 2,000 per epoch: test acc not comparable)",
    )
    run.add_argument(
        "--proposed",
        nargs="+",
        default=[],
        choices=PROPOSED,
        help="also run the current code with these library changes applied at run time (records compared)",
    )
    run.add_argument("--proposed-eval-batch", type=int, default=128, help="the eval-batch change's batch size")
    run.add_argument("--weight-training", action="store_true", help="time weight training instead of ticket search")
    run.add_argument("--sparsity", type=float, default=0.5)
    default_data = ROOT / "data"
    run.add_argument("--data-dir", default=str(default_data) if default_data.exists() else None)
    run.add_argument("--accept-data-copy", action="store_true", help="accept a CIFAR-10 copy (the laptop scale does)")
    run.add_argument("--profile", type=int, default=0, help="also keep cProfile's top N functions by cumulative time")
    run.add_argument("--keep-worktree", action="store_true", help="leave /tmp/slt-COMMIT for the next call")

    child = sub.add_parser("child-steps", help="internal: one subprocess of an env option")
    for name, kind in (("model", str), ("width", float), ("case", str), ("threads", int), ("seed", int)):
        child.add_argument(f"--{name}", type=kind, required=True)
    for name in ("batch-size", "steps", "warmup", "check-steps", "child-rounds"):
        child.add_argument(f"--{name}", type=int, required=True)
    child.add_argument("--result", required=True)

    child_run = sub.add_parser("child-run", parents=[malloc], help="internal: one run with the slt on PYTHONPATH")
    child_run.add_argument("--changes", nargs="*", default=[], choices=PROPOSED)
    child_run.add_argument("--eval-batch", type=int, default=128)
    child_run.add_argument("--config", required=True)
    child_run.add_argument("--work", required=True)
    child_run.add_argument("--threads", type=int, required=True)
    child_run.add_argument("--result", required=True)
    child_run.add_argument("--data-dir", default=None)
    child_run.add_argument("--profile", type=int, default=0)
    args = parser.parse_args(argv)
    # Each mode's default widths are set here: a subparser's set_defaults would change the shared parent's
    # action, and with it every mode's default (options' single width once leaked into steps and epoch).
    if "widths" in args and args.widths is None:
        args.widths = list(DEFAULT_WIDTHS[args.mode])
    return args


MODES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "steps": mode_steps,
    "epoch": mode_epoch,
    "options": mode_options,
    "run": mode_run,
}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mode == "child-steps":
        torch.set_num_threads(args.threads)
        mode_child_steps(args)
        return
    if args.mode == "child-run":
        mode_child_run(args)
        return
    torch.set_num_threads(args.threads)
    meta = provenance(args)
    print(
        f"bench/cpu.py {args.mode}: {meta['cpu']}, {meta['cpu_count']} cores, {args.threads} threads, "
        f"torch {meta['torch']} ({meta['cpu_capability']}), load average {meta['loadavg_start'][0]:.1f}",
        flush=True,
    )
    start = time.perf_counter()
    body = MODES[args.mode](args)
    meta |= {"loadavg_end": os.getloadavg(), "wall_s": time.perf_counter() - start}
    write_json(Path(args.out), args.mode, body, meta)
    print(f"\nwrote {args.out} ({args.mode}, {meta['wall_s']:.0f} s, load average now {meta['loadavg_end'][0]:.1f})")
    if meta["loadavg_start"][0] > 0.5 * (os.cpu_count() or 1):
        print("note: the machine was busy (load average above half the cores): the times are noisy.")


if __name__ == "__main__":
    main()
