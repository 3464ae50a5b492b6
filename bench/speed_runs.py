"""The two whole-run measurements of ``bench/speed.py``: N searches sharing one GPU, and one full search.

``--concurrent 1 4 8`` starts N processes of case (b); each warms up, waits at a barrier and runs one
timed pass, and the throughput is all their images over the span from the first start to the last
end. ``--full-run`` times one Conv6 search through ``slt.train.run``, end to end.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from cases import step, with_precision
from report import TARGETS
from speed_cases import library_case, load_data, on_device, ticket_config
from timing import EPOCH_IMAGES, cycle, synchronize

from slt.config import RunConfig

# -- concurrent runs ------------------------------------------------------------------------------------


def concurrent_worker(rank: int, args: argparse.Namespace, barrier, queue) -> None:
    """One process of (b): load, build, warm up, wait for the others, run one timed pass."""
    try:
        device = torch.device(args.device)
        data = load_data(args)
        n_images = min(args.images, len(data.train))
        built, batches = library_case("b", args.concurrent_model, args, on_device(data, device), n_images)
        model = with_precision(built.model, args.precisions[0], device)
        totals = torch.zeros(2, device=device)
        it = cycle(batches, epoch=100)
        for _ in range(args.warmup):
            step(model, built.optimizer, *next(it), totals)
        synchronize(device)
        barrier.wait(timeout=1800)
        start = time.time()
        steps = 0
        for images, labels in batches(1):
            step(model, built.optimizer, images, labels, totals)
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


# -- full run -------------------------------------------------------------------------------------------


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
