"""The ``slt`` command: run, export and evaluate tickets.

Every error a user can fix ends in one sentence on stderr and exit status 2.
Nothing happens at import time, so the module is safe to import anywhere.

Other packages add commands through the ``slt.commands`` entry point group: each
entry is a function that receives the subparsers and the built commands (the
paper's reproduction adds ``sweep`` and ``reproduce``, and ``--scale`` to ``run``,
in :mod:`slt.paper.cli`), so the library's command line never imports them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import re
import sys
import textwrap
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from .errors import SLTError

EXIT_USAGE = 2
COMMANDS_GROUP = "slt.commands"


def field_help(cls: type) -> dict[str, str]:
    """The docstring under each field of a config dataclass: the one description of that field,
    which the command line shows as its help."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    helps = {}
    for node, after in itertools.pairwise(body):
        docstring = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and docstring:
            text = " ".join(str(after.value.value).split())
            helps[node.target.id] = re.sub(r":\w+:`([^`]+)`|``([^`]+)``", lambda m: m[1] or m[2], text)
    return helps


def _choices() -> dict[str, tuple[str, ...]]:
    """The names a field accepts, where it accepts a fixed set (the help lists them)."""
    from .config import OPTIMIZERS, SCOPES
    from .data import DATASETS
    from .data.graphs import PLANETOID_SPLITS
    from .freezing import LAYERWISE_RULES
    from .initialization import WEIGHT_INITS
    from .models import MODELS

    return {
        "model": tuple(MODELS),
        "dataset": tuple(DATASETS),
        "graph_split": PLANETOID_SPLITS,
        "optimizer": OPTIMIZERS,
        "layerwise": LAYERWISE_RULES,
        "scope": SCOPES,
        "weights": WEIGHT_INITS,
    }


def config_fields() -> list[tuple[type, dataclasses.Field]]:
    """The fields ``slt run`` sets from options: every field of RunConfig and TicketConfig but the
    nested ticket (made from the ticket's own options) and the ticket's seed (the run's seed)."""
    from .config import RunConfig, TicketConfig

    run = [(RunConfig, f) for f in dataclasses.fields(RunConfig) if f.name != "ticket"]
    return run + [(TicketConfig, f) for f in dataclasses.fields(TicketConfig) if f.name != "seed"]


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    """One option per config field, typed and described by the dataclass; every one defaults to
    None, meaning the data set's recipe for the recipe's fields and the dataclass default for others."""
    from .data import DATASETS

    recipe_fields = {name for spec in DATASETS.values() for name in spec.recipe}
    helps = {cls: field_help(cls) for cls in {cls for cls, _ in config_fields()}}
    choices = _choices()
    for cls, field in config_fields():
        kind = str(field.type).split("|")[0].strip()
        flag = "--" + field.name.replace("_", "-")
        default = "the data set's recipe" if field.name in recipe_fields else repr(field.default)
        one_of = f" One of {', '.join(choices[field.name])}." if field.name in choices else ""
        help_text = f"{helps[cls].get(field.name, '')}{one_of} (default: {default})"
        if kind == "bool":
            p.add_argument(flag, action="store_const", const=True, help=help_text)
        else:
            p.add_argument(flag, type={"int": int, "float": float, "str": str}[kind], help=help_text)
    p.add_argument("--weight-training", action="store_true", help="train the weights instead (the baseline)")
    p.add_argument("--data-dir", help="data directory (default: $SLT_DATA_DIR or ./data)")
    p.add_argument("--out", default="results/runs", help="directory of records and checkpoints")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def cmd_run(args: argparse.Namespace) -> None:
    from .config import RunConfig, TicketConfig
    from .data import recipe
    from .train import run

    given = {f.name: getattr(args, f.name) for _, f in config_fields() if getattr(args, f.name) is not None}
    ticket_fields = {f.name for f in dataclasses.fields(TicketConfig)} - {"seed"}
    run_given = {k: v for k, v in given.items() if k not in ticket_fields}
    seed = run_given.get("seed", 0)
    ticket = None
    if not args.weight_training:
        ticket = TicketConfig(**{k: v for k, v in given.items() if k in ticket_fields}, seed=seed)
    dataset = run_given.get("dataset", RunConfig.dataset)
    config = RunConfig(**(recipe(dataset) | run_given), ticket=ticket)
    sizer = getattr(args, "sized_config", None)  # a plugin may size the run (the paper's --scale)
    sized = sizer(args, config) if sizer is not None else None
    if sized is not None:  # options given on the command line win over the scale's
        overrides = {k: v for k, v in run_given.items() if k not in SIZED_FIELDS}
        config = dataclasses.replace(
            sized, **overrides, accept_data_copy=sized.accept_data_copy or config.accept_data_copy
        )
    record = run(config, args.out, args.data_dir, args.device, progress=not args.quiet)
    print(
        f"test accuracy {record['test_acc']:.4f} at best validation epoch {record['best_epoch']}; "
        f"model size {record['model_mb']:.4f} MB; record {Path(args.out) / (record['run_id'] + '.json')}"
    )


SIZED_FIELDS = frozenset({"model", "dataset", "seed", "width", "accept_data_copy"})
"""Fields a plugin's sized config takes from the run's config itself (``width`` multiplies its own)."""


def cmd_export(args: argparse.Namespace) -> None:
    from .run_tickets import export_from_run

    size, search = export_from_run(args.run_file, args.out)
    print(
        f"wrote {args.out}: {size} bytes for {search.num_searchable} searchable weights "
        f"({search.num_searchable / 8:.0f} bytes of supermask bits)"
    )


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .run_tickets import evaluate_ticket

    acc, n = evaluate_ticket(args.ticket, args.dataset, args.data_dir, args.device, args.accept_data_copy)
    print(f"test accuracy {acc:.4f} on {n} test examples")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slt", description="Find, store and evaluate strong lottery tickets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="search a ticket (or train weights) and write a record")
    _add_run_arguments(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("export", help="write the ticket of a finished run to a file")
    p.add_argument("run_file", help="a run record (.json) or checkpoint (.pt)")
    p.add_argument("--out", required=True, help="ticket file to write")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("evaluate", help="regenerate a ticket from its file and measure test accuracy")
    p.add_argument("ticket")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir")
    p.add_argument("--device", default="cpu")
    p.add_argument("--accept-data-copy", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    for entry in entry_points(group=COMMANDS_GROUP):
        entry.load()(sub)
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
