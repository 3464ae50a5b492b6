"""Seconds per CIFAR-10 epoch: ticket search against plain weight training (a script, not a test).

Cases, all timed in this one process, one after the other, on one device:

  (a)  weight training: ``slt.build.build_run`` with ``ticket=None``, SGD (momentum 0.9, lr 0.1,
       weight decay 1e-4) from ``slt.build.make_optimizer``, batch 128, on slt's device-resident data
       path (uint8 on the device, crop and flip on the device: ``slt.loops.ImageTask``);
  (b)  slt's ticket search: ``build_run`` with a ``TicketConfig`` (global top-k, freezing on), same
       recipe and data path;
  (c)  a conventional search from standard parts: a torchvision ``DataLoader`` (4 workers, CPU
       ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``) and
       per-layer masks rebuilt from a full ``torch.sort`` in every forward (``bench/conventional.py``).

Every case takes the library's one training step, ``slt.loops.train_step`` (bf16 wraps the model's
forward in autocast). Optional extra rows: ``--compile MODE`` (a+compile, b+compile) and
``--cuda-graph`` (a+graph, b+graph: the whole step replayed as one CUDA graph). Steps are timed with
CUDA events after warm-up steps, with no ``.item()`` in the step; peak GPU memory is reset between
cases. A short synchronisation check follows the table (CUDA sync debug mode on a GPU, a host-side
spy everywhere). ``--concurrent 1 4 8`` measures the throughput of N searches sharing one GPU and
``--full-run`` times one 100-epoch Conv6 search through ``slt.train.run``.

    python bench/speed.py --device cuda --data-dir DIR                       # the table -> JSON
    python bench/speed.py --device cuda --data-dir DIR --no-table --concurrent 1 4 8
    python bench/speed.py --device cuda --data-dir DIR --no-table --full-run
    python bench/speed.py --device cpu --images 256 --synthetic              # smoke check only

This file is the command line and the table's loop; the rest lives beside it: ``cases.py`` (the
library's cases and step, shared with ``cpu.py``), ``speed_cases.py`` (each case timed over a pass),
``timing.py`` (CUDA events, peak memory), ``sync_check.py``, ``report.py`` (the table and targets),
``speed_runs.py`` (concurrent runs, the full run) and ``provenance.py`` (what the JSON is stored with).
See bench/README.md for the targets.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from provenance import device_facts, device_name, provenance, write_sections
from report import add_ratios, check_targets, print_row, print_sync
from speed_cases import (
    load_data,
    on_device,
    same_ticket_check,
    sync_counts,
    ticket_config,
    time_conventional,
    time_graphed,
    time_library,
)
from speed_runs import run_concurrent, run_full
from sync_check import SYNC_STEPS
from timing import EPOCH_IMAGES, peak_mb, release, steps_for

from slt.build import default_device
from slt.data.base import DataSplits

ROOT = Path(__file__).resolve().parent.parent
CPU_WIDTH = 0.125  # the CPU smoke check's default model width: the papers' models take seconds per step there


# -- the table ------------------------------------------------------------------------------------------


def cases_for(args: argparse.Namespace) -> list[str]:
    cases = list(args.cases)
    if args.compile:
        cases += ["a+compile", "b+compile"]
    if args.cuda_graph:
        cases += ["a+graph", "b+graph"]
    return cases


def run_table(args, data: DataSplits, device: torch.device, n_images: int) -> dict:
    data_dev = on_device(data, device)
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
        report["sync_check"] = {m: sync_counts(m, args, data_dev) for m in args.models}
    del data_dev
    release(device)
    return report


# -- output ---------------------------------------------------------------------------------------------


def default_out(device: torch.device) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device_name(device).lower()).strip("-") if device.type == "cuda" else "cpu"
    return ROOT / "bench" / "results" / f"speed-{slug}.json"


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


# -- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Seconds per CIFAR-10 epoch of slt's ticket search against weight training and a "
        "conventional search (see bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--device", default=default_device().type, help="cuda, cuda:N or cpu (cpu: smoke check only)")
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
    meta = provenance(args, **device_facts(device), not_the_gpu_targets=device.type != "cuda")
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
    write_sections(out, sections, meta, summary=("device", "torch", "git_commit", "command"), indent=2)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
