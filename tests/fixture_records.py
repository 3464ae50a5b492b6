"""Records laid out exactly as a sweep writes them at a given scale, with accuracies from a formula.

For the code that reads records (verdicts, figures, the reproduce command, chapters),
which otherwise runs only once real runs exist. The accuracies are test
fixtures, never results: the book reads only ``results/``, and these records
say ``device: fixture``. The scale defaults to ``laptop``, whose records the book shows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from slt.config import RunConfig
from slt.data import dataset_spec
from slt.models import build_model
from slt.paper.sweeps import sweep_configs, sweep_dir
from slt.records import record_path, write_json_atomic
from slt.size import size_record

# Sweeps whose configs are made from the fig5 records of the same scale (each model's best dense sparsity).
NEED_FIG5 = ("table1", "fig6")
BEST_DENSE_SPARSITY = 0.7
"""The sparsity at which :func:`fig5_accuracy` peaks for dense sources, for every model of every scale's fig5 grid."""


@cache
def num_weights(model: str, dataset: str, width: float) -> int:
    """The model's real weight count (records carry it)."""
    spec = dataset_spec(dataset)
    return sum(p.numel() for p in build_model(model, spec.input_shape, spec.num_classes, width=width).parameters())


def freezing_ratio(c: RunConfig) -> float:
    """p + r, given as ``freeze`` or as explicit ``prune`` and ``lock``."""
    t = c.ticket
    return t.freeze if t.freeze is not None else (t.prune or 0.0) + (t.lock or 0.0)


def position(c: RunConfig) -> float:
    """Where the sparsity lies in [p, 1 - r] (fig4 configs give p and r explicitly)."""
    return (c.ticket.sparsity - c.ticket.prune) / (1 - c.ticket.prune - c.ticket.lock)


def fig5_accuracy(c: RunConfig) -> float:
    """Fig. 5 accuracies whose best dense-source sparsity is ``BEST_DENSE_SPARSITY`` for every model."""
    return 80 - 10 * abs(c.ticket.sparsity - BEST_DENSE_SPARSITY) - 5 * freezing_ratio(c)


def write_records(
    folder: Path,
    configs: list[RunConfig],
    accuracy: Callable[[RunConfig], float],
    extra: Callable[[RunConfig], dict] = lambda c: {},
) -> None:
    """One record per config in ``folder``, test accuracy ``accuracy(config)`` %, plus ``extra(config)``'s fields."""
    folder.mkdir(parents=True, exist_ok=True)
    for c in configs:
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
            **extra(c),
        }
        write_json_atomic(record_path(folder, c.run_id), record)


def write_sweep(
    results: Path,
    sweep: str,
    accuracy: Callable[[RunConfig], float],
    keep: Callable[[RunConfig], bool] = bool,
    scale: str = "laptop",
) -> Path:
    """One record per config of the sweep's grid at ``scale`` that ``keep`` accepts; returns the records' folder.

    Table 1 and Fig. 6 list their configs from fig5's records of the same scale, so for them fig5's
    records (``fig5_accuracy``) are written first when ``results`` has none.
    """
    if sweep in NEED_FIG5 and not any(sweep_dir(results, "fig5", scale).glob("*.json")):
        write_sweep(results, "fig5", fig5_accuracy, scale=scale)
    folder = sweep_dir(results, sweep, scale)
    write_records(folder, list(filter(keep, sweep_configs(sweep, scale, results))), accuracy)
    return folder
