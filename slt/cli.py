"""The ``slt`` command: run, export and evaluate tickets.

Every error a user can fix ends in one sentence on stderr and exit status 2.
Nothing happens at import time, so the module is safe to import anywhere.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import SLTError

EXIT_USAGE = 2


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    from .config import SCOPES
    from .data import DATASETS
    from .freezing import LAYERWISE_RULES
    from .init import WEIGHT_INITS
    from .models import MODELS

    p.add_argument("--model", default="mlp", help=f"one of {', '.join(MODELS)}")
    p.add_argument("--dataset", default="fashion-mnist", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--sparsity", type=float, default=0.5, help="k: fraction of weights removed")
    p.add_argument("--prune", type=float, help="p: fraction pruned at initialisation")
    p.add_argument("--lock", type=float, help="r: fraction locked at initialisation")
    p.add_argument("--freeze", type=float, help="f = p + r, centred on the sparsity")
    p.add_argument("--weights", default="kaiming_uniform", help=f"one of {', '.join(WEIGHT_INITS)}")
    p.add_argument("--layerwise", default="epl", help=f"one of {', '.join(LAYERWISE_RULES)}")
    p.add_argument("--scope", default="global", help=f"one of {', '.join(SCOPES)}")
    p.add_argument("--weight-training", action="store_true", help="train the weights instead (the baseline)")
    p.add_argument("--width", type=float, default=1.0, help="multiplier of the hidden sizes")
    p.add_argument("--epochs", type=int, help="default: the data set's recipe")
    p.add_argument("--lr", type=float, help="default: the data set's recipe")
    p.add_argument("--batch-size", type=int, help="default: the data set's recipe")
    p.add_argument("--train-subset", type=int, help="use only the first N training examples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--scale",
        choices=("quick", "laptop", "full"),
        help="size the run like a sweep's: quick (minutes), laptop (2-core CPU) or full (the paper's)",
    )
    p.add_argument("--data-dir", help="data directory (default: $SLT_DATA_DIR or ./data)")
    p.add_argument("--accept-data-copy", action="store_true", help="accept data that fail the official checksums")
    p.add_argument("--out", default="results/runs", help="directory of records and checkpoints")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def cmd_run(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from .config import RunConfig, TicketConfig
    from .recipes import recipe
    from .sweeps import make_config
    from .train import run

    ticket = None
    if not args.weight_training:
        ticket = TicketConfig(
            sparsity=args.sparsity,
            prune=args.prune,
            lock=args.lock,
            freeze=args.freeze,
            layerwise=args.layerwise,
            scope=args.scope,
            weights=args.weights,
            seed=args.seed,
        )
    if args.scale is not None:
        config = make_config(args.scale, args.model, args.dataset, ticket, args.seed, args.width)
    else:
        config = RunConfig(
            model=args.model,
            dataset=args.dataset,
            ticket=ticket,
            width=args.width,
            seed=args.seed,
            accept_data_copy=args.accept_data_copy,
            **recipe(args.dataset),
        )
    overrides = {f: getattr(args, f) for f in ("epochs", "lr", "batch_size", "train_subset") if getattr(args, f)}
    config = replace(config, accept_data_copy=config.accept_data_copy or args.accept_data_copy, **overrides)
    record = run(config, args.out, args.data_dir, args.device, progress=not args.quiet)
    print(
        f"test accuracy {record['test_acc']:.4f} at best validation epoch {record['best_epoch']}; "
        f"model size {record['model_mb']:.4f} MB; record {Path(args.out) / (record['run_id'] + '.json')}"
    )


def cmd_export(args: argparse.Namespace) -> None:
    from .export import export_from_run

    size, search = export_from_run(args.source, args.out)
    print(
        f"wrote {args.out}: {size} bytes for {search.num_searchable} searchable weights "
        f"({search.num_searchable / 8:.0f} bytes of supermask bits)"
    )


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .export import evaluate_ticket

    acc, n = evaluate_ticket(args.ticket, args.dataset, args.data_dir, args.device, args.accept_data_copy)
    print(f"test accuracy {acc:.4f} on {n} test examples")


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
    from .errors import ConfigError

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
    from .scales import SCALES
    from .sweeps import EXECUTORS, SWEEPS

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slt", description="Find, store and evaluate strong lottery tickets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="search a ticket (or train weights) and write a record")
    _add_run_arguments(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("export", help="write the ticket of a finished run to a file")
    p.add_argument("source", help="a run record (.json) or checkpoint (.pt)")
    p.add_argument("--out", required=True, help="ticket file to write")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("evaluate", help="regenerate a ticket from its file and measure test accuracy")
    p.add_argument("ticket")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir")
    p.add_argument("--device", default="cpu")
    p.add_argument("--accept-data-copy", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("sweep", help="run every missing config of a named grid")
    _add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("reproduce", help="run what is missing of a sweep, then draw its figure and check its claims")
    _add_sweep_arguments(p)
    p.add_argument("--figure-dir", default="figures", help="where the figure is written")
    p.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SLTError as err:
        print(f"slt: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
