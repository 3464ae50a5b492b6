"""``bench/cpu.py run``: one laptop-sized run through ``slt.train.run``, split by part, against an older commit.

Each run goes in a fresh subprocess of this file, with ``PYTHONPATH`` pointing at the ``slt`` to
time: this tree, or a ``git worktree`` of ``--against`` (an older commit). So that the child can
run that older ``slt``, this file imports nothing of ``slt`` and nothing of the other bench modules
at the top (they use the current ``slt``); the child imports only what both layouts have.

    python bench/cpu.py run --cases conv6:0.25 --against ace39cf --proposed mallopt
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("conv6", "resnet18")
RUN_FACTOR = 1.5  # bench/README.md, "On a CPU": the old commit's time over the current one's
# glibc maps (and zero-fills) afresh every block above its mmap threshold; the threshold adapts to freed blocks
# but not beyond 32 MiB. These values keep blocks up to 1 GiB on the heap and the heap untrimmed (mallopt: int).
MMAP_THRESHOLD, TRIM_THRESHOLD = 2**30, 2**31 - 1


def parse_run_case(text: str) -> tuple[str, float]:
    model, _, width = text.partition(":")
    if model not in MODELS or not width:
        raise argparse.ArgumentTypeError(f"expected MODEL:WIDTH with MODEL in {MODELS}, e.g. conv6:0.25, got {text!r}")
    return model, float(width)


def laptop_config(model: str, width: float, args: argparse.Namespace) -> dict[str, Any]:
    """The laptop scale's config at model width ``width`` (``make_config``'s own width is a multiplier)."""
    from slt.config import TicketConfig
    from slt.paper.scales import size_of
    from slt.paper.sweeps import make_config

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
    return {"cases": cases, "against": against, "selection": args.selection, "target_factor": RUN_FACTOR}


def print_run_summary(cases: list[dict[str, Any]]) -> None:
    print("\nlaptop-sized runs through slt.train.run (seconds inside run(); best of the repeats)")
    test = {True: "same test acc", False: "DIFFERENT test acc", None: "test acc not comparable"}
    for c in cases:
        times = ", ".join(f"{label} {s:.1f} s" for label, s in c["best_run_seconds"].items())
        print(f"  {c['model']} x{c['width']:g}, {c['config']['epochs']} epochs: {times}")
        for q in c["comparisons"]:
            target = ""
            if q["other"] != "proposed" or q["reference"] != "current":
                met = "met" if q["factor"] >= RUN_FACTOR else "MISSED"
                target = f", target >= {RUN_FACTOR}: {met}"
            print(
                f"    {q['reference']} / {q['other']} = {q['factor']:.3f} (pairs "
                f"{', '.join(f'{x:.3f}' for x in q['pairs'])}{target}); "
                f"{'same' if q['same_best_epoch'] else 'DIFFERENT'} best epoch, {test[q['same_test_acc']]}, "
                f"history max diff {q['history_max_abs_diff']:.1e}: "
                f"{'same record' if q['same_record'] else 'NOT the same record'}"
            )


def mode_child_run(args: argparse.Namespace) -> None:
    """One run in this process with the ``slt`` on PYTHONPATH (current or old), timed by part."""
    import slt
    import slt.train as train
    from slt.config import RunConfig

    # An older commit (ace39cf) has its epoch loops in slt/tasks.py. Asked by name, an editable install of
    # the current slt would answer slt.loops with this tree's file: look in the slt on PYTHONPATH instead.
    loops = "loops" if (Path(slt.__file__).parent / "loops.py").exists() else "tasks"
    tasks = importlib.import_module(f"slt.{loops}")

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


def set_malloc_thresholds(mmap_threshold: int, trim_threshold: int) -> bool:
    """glibc's ``mallopt``: the run-time equivalent of MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    return bool(libc.mallopt(m_mmap_threshold, mmap_threshold)) and bool(libc.mallopt(m_trim_threshold, trim_threshold))


def malloc_options() -> argparse.ArgumentParser:
    """The allocator thresholds, shared by ``cpu.py``'s options and run modes and by the child here."""
    malloc = argparse.ArgumentParser(add_help=False)
    malloc.add_argument("--malloc-mmap-threshold", type=int, default=MMAP_THRESHOLD)
    malloc.add_argument("--malloc-trim-threshold", type=int, default=TRIM_THRESHOLD, help="mallopt takes an int")
    return malloc


def parse_child_args(argv: list[str] | None = None) -> argparse.Namespace:
    child = argparse.ArgumentParser(
        description="internal to bench/cpu.py run: one run with the slt on PYTHONPATH", parents=[malloc_options()]
    )
    child.add_argument("--changes", nargs="*", default=[], choices=PROPOSED)
    child.add_argument("--eval-batch", type=int, default=128)
    child.add_argument("--config", required=True)
    child.add_argument("--work", required=True)
    child.add_argument("--threads", type=int, required=True)
    child.add_argument("--result", required=True)
    child.add_argument("--data-dir", default=None)
    child.add_argument("--profile", type=int, default=0)
    return child.parse_args(argv)


if __name__ == "__main__":
    mode_child_run(parse_child_args())
