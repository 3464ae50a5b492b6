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
    p.add_argument("--data-dir", help="data directory (default: $SLT_DATA_DIR or ./data)")
    p.add_argument("--accept-data-copy", action="store_true", help="accept data that fail the official checksums")
    p.add_argument("--out", default="results/runs", help="directory of records and checkpoints")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def cmd_run(args: argparse.Namespace) -> None:
    from .config import RunConfig, TicketConfig
    from .recipes import recipe
    from .train import run

    settings = recipe(args.dataset)
    for field in ("epochs", "lr", "batch_size"):
        if getattr(args, field) is not None:
            settings[field] = getattr(args, field)
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
    config = RunConfig(
        model=args.model,
        dataset=args.dataset,
        ticket=ticket,
        width=args.width,
        seed=args.seed,
        train_subset=args.train_subset,
        accept_data_copy=args.accept_data_copy,
        **settings,
    )
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
