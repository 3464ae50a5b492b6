"""The reproduction's commands: ``slt sweep``, ``slt reproduce``, and ``--scale`` for ``slt run``.

Added to the library's command line through the ``slt.commands`` entry point
(see :mod:`slt.cli`), so the library never imports the reproduction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import ConfigError


def add_commands(sub: Any) -> None:
    """Add ``sweep`` and ``reproduce``, and the ``--scale`` option of ``run``."""
    from .scales import SCALES

    run = sub.choices["run"]
    run.add_argument(
        "--scale",
        choices=SCALES,
        help="size the run like a sweep's: quick (minutes), laptop (2-core CPU) or full (the paper's)",
    )
    run.set_defaults(sized_config=_sized_config)
    p = sub.add_parser("sweep", help="run every missing config of a named grid")
    _add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("reproduce", help="run what is missing of a sweep, then draw its figure and check its claims")
    _add_sweep_arguments(p)
    p.add_argument("--figure-dir", default="figures", help="where the figure is written")
    p.set_defaults(func=cmd_reproduce)


def _sized_config(args: argparse.Namespace, config: RunConfig) -> RunConfig | None:
    """``config`` sized like a sweep's run at ``--scale`` (None without it: the data set's recipe)."""
    from .sweeps import make_config

    if args.scale is None:
        return None
    return make_config(args.scale, config.model, config.dataset, config.ticket, config.seed, config.width)


def _sweep(args: argparse.Namespace) -> list[Path]:
    """Run what is missing of the sweep the arguments name; the record paths of the configs selected."""
    from .sweeps import run_sweep

    slurm, where = _slurm_options(args.slurm), _key_values(args.where, "--where")
    return run_sweep(
        args.name, args.scale, args.out, args.data_dir, args.executor, args.max_parallel, slurm, where, args.threads
    )


def cmd_sweep(args: argparse.Namespace) -> None:
    records = _sweep(args)
    done = sum(p.exists() for p in records)
    print(f"{args.name} ({args.scale}): {done} of {len(records)} records in {records[0].parent}")


def cmd_reproduce(args: argparse.Namespace) -> None:
    from .claims import CLAIMS, assess
    from .figures import save_figure

    records = _sweep(args)
    path = save_figure(args.name, records[0].parent, args.figure_dir)
    print(f"{args.name} ({args.scale}): {len(records)} records in {records[0].parent}; figure {path}")
    for claim in (c for c in CLAIMS if c.sweep == args.name):
        row = assess(claim, args.out, args.scale)
        print(f"- {claim.statement}\n  {row['verdict']}: {row['measurement']}")


def _key_values(pairs: list[str], option: str) -> dict[str, str]:
    """Repeated ``KEY=VALUE`` arguments as a dict."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{option} expects KEY=VALUE (e.g. {option} model=gin), got {pair!r}.")
        options[key] = value
    return options


def _slurm_options(pairs: list[str]) -> dict[str, object]:
    """``--slurm KEY=VALUE`` pairs as submitit SLURM parameters (numbers become numbers)."""
    return {k: int(v) if v.isdigit() else v for k, v in _key_values(pairs, "--slurm").items()}


def _add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    from ..launch import EXECUTORS
    from .scales import SCALES
    from .sweeps import SWEEPS

    p.add_argument("name", help=f"one of {', '.join(SWEEPS)}")
    p.add_argument(
        "--scale",
        default="laptop",
        choices=SCALES,
        help="quick (minutes: a pipeline check), laptop (2-core CPU: the book records) or full (the paper, a GPU)",
    )
    p.add_argument("--executor", default="local", help=f"one of {', '.join(EXECUTORS)}")
    p.add_argument("--max-parallel", type=int, default=1, help="runs at once (they may share one GPU)")
    p.add_argument("--threads", type=int, help="torch threads per local run (default: the cores / max-parallel)")
    p.add_argument("--data-dir", help="data directory (default: $SLT_DATA_DIR or ./data)")
    p.add_argument("--out", default="results", help="records go to OUT/<name>/<scale>/")
    p.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a submitit SLURM parameter, e.g. slurm_partition=gpu gpus_per_node=1 timeout_min=240 (repeatable)",
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="run only the configs with this field value, e.g. model=gin or seed=0 (repeatable)",
    )
