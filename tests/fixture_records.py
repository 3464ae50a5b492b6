"""Records laid out exactly as a full sweep writes them, with accuracies from a formula.

For the code that reads records (verdicts, figures, the reproduce command),
which otherwise runs only once full GPU runs exist. The accuracies are test
fixtures, never results: the book reads only ``results/``, and these records
say ``device: fixture``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from slt.config import RunConfig
from slt.models import build_model
from slt.results import record_path, write_json_atomic
from slt.size import size_record
from slt.sweeps import sweep_configs, sweep_dir


@cache
def num_weights(model: str, dataset: str, width: float) -> int:
    """The model's real weight count (records carry it)."""
    shapes = {"cifar10": ((3, 32, 32), 10), "cora": ((1433,), 7), "citeseer": ((3703,), 6), "ogbn-arxiv": ((128,), 40)}
    shape, classes = shapes[dataset]
    return sum(p.numel() for p in build_model(model, shape, classes, width=width).parameters())


def freezing_ratio(c: RunConfig) -> float:
    """p + r, given as ``freeze`` or as explicit ``prune`` and ``lock``."""
    t = c.ticket
    return t.freeze if t.freeze is not None else (t.prune or 0.0) + (t.lock or 0.0)


def position(c: RunConfig) -> float:
    """Where the sparsity lies in [p, 1 - r] (fig4 configs give p and r explicitly)."""
    return (c.ticket.sparsity - c.ticket.prune) / (1 - c.ticket.prune - c.ticket.lock)


def write_sweep(
    results: Path, sweep: str, accuracy: Callable[[RunConfig], float], keep: Callable[[RunConfig], bool] = bool
) -> None:
    """One record per config of the sweep's full grid that ``keep`` accepts, test accuracy ``accuracy(config)`` %."""
    folder = sweep_dir(results, sweep, "full")
    folder.mkdir(parents=True)
    for c in filter(keep, sweep_configs(sweep, "full")):
        weights = num_weights(c.model, c.dataset, c.width)
        searchable = None if c.ticket is None else round((1 - freezing_ratio(c)) * weights)
        record = {
            "run_id": c.run_id,
            "config": c.to_dict(),
            "test_acc": accuracy(c) / 100,
            "num_searchable": searchable,
            **size_record(weights, searchable),
            "device": "fixture",
            "data_variant": "fixture",
            "git_commit": "fixture",
        }
        write_json_atomic(record_path(folder, c.run_id), record)
