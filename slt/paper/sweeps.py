"""Named grids, one per result of the frozen-network paper: each turns a scale into run configs.

A scale (``quick``, ``laptop`` or ``full``, see :mod:`slt.paper.scales`) sizes the runs and picks
the grid points; :func:`run_sweep` launches the configs still missing a record
(:mod:`slt.launch`), so a sweep that was stopped resumes where it stopped.

Table 1 and Fig. 6 search each model at "the sparsity of the best performing SLT found in a dense
source network in Figure 5" (Sec. 4.3): their configs are made from the fig5 records of the same
scale, so fig5 runs first.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import RunConfig, TicketConfig, check_choice
from ..data import dataset_spec, recipe
from ..errors import ConfigError
from ..estimate import describe_duration, estimate_seconds
from ..launch import config_fields, pending, run_configs, select
from ..models import model_entry
from ..records import record_path
from .scales import SCALES, grid, size_of

DEFAULT_RESULTS = "results"

# Where each image model is searched; the GIN runs on every graph of the sweep's grid.
IMAGE_DATASET = {"conv6": "cifar10", "resnet18": "cifar10"}
# Weights of the SLT rows of Table 1 and the sources of Fig. 6 ("SLT" rows: signed Kaiming constant).
SLT_WEIGHTS = "signed_constant"


def make_config(
    scale: str, model: str, dataset: str, ticket: TicketConfig | None, seed: int, width: float = 1.0
) -> RunConfig:
    """A run of ``model`` on ``dataset`` with the data set's recipe, sized by ``scale``."""
    size = size_of(scale, model)
    settings = recipe(dataset)
    if ticket is None:
        settings |= size.recipe
    sized = {"train_subset": size.train_subset, "val_subset": size.val_subset}
    if size.epochs is not None:
        sized["epochs"] = size.epochs
    return RunConfig(
        model=model,
        dataset=dataset,
        ticket=ticket,
        width=width * size.width,
        seed=seed,
        accept_data_copy=dataset_spec(dataset).copy_in_use,
        **(settings | sized),
    )


def model_datasets(points: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for model in points["models"]:
        datasets = points["graphs"] if model_entry(model).data == "graph" else (IMAGE_DATASET[model],)
        pairs += [(model, dataset) for dataset in datasets]
    return pairs


def per_model(value: Any, model: str) -> Any:
    """A grid entry that is either the same for every model or a dict by model."""
    return value[model] if isinstance(value, dict) else value


def fig4(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Search-space positioning: at a fixed freezing ratio, every prune:lock split, the sparsity
    swept across that split's searchable range [p, 1 - r]; EPL vs ERK; Conv6 on CIFAR-10."""
    points = grid("fig4", scale)
    freeze = points["freeze"]
    configs = []
    for seed in points["seeds"]:
        for prune_share in points["prune_shares"]:
            p, r = freeze * prune_share, freeze * (1 - prune_share)
            for position in points["positions"]:
                k = p + position * (1 - freeze)
                for rule in ("epl", "erk"):
                    ticket = TicketConfig(sparsity=round(k, 6), prune=round(p, 6), lock=round(r, 6), layerwise=rule)
                    configs.append(make_config(scale, "conv6", "cifar10", ticket, seed))
    return configs


def fig5(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Accuracy vs freezing ratio at several sparsities (positioned by the centring rule):
    Conv6 and ResNet-18 on CIFAR-10, the GIN on graphs. Model by model, in the grid's order."""
    points = grid("fig5", scale)
    configs = []
    for model, dataset in model_datasets(points):
        for seed in per_model(points["seeds"], model):
            for k in points["sparsities"][model]:
                for f in per_model(points["freezes"], model):
                    configs.append(make_config(scale, model, dataset, TicketConfig(sparsity=k, freeze=f), seed))
    return configs


def best_dense_sparsity(model: str, dataset: str, scale: str, results: str | os.PathLike[str]) -> float:
    """The sparsity of the best dense-source ticket of ``model`` in the fig5 records of ``scale``
    (the highest mean test accuracy over seeds at freezing ratio 0), on ``dataset`` if fig5 has it,
    else on the model's other data set (the laptop fig5 runs the GIN on Cora only).

    Every dense-source run of ``model`` in fig5's grid must be recorded: a best sparsity read from
    part of the grid could change when the rest lands, and the runs made with it would be wasted.
    """
    from ..records import load

    folder = sweep_dir(results, "fig5", scale)
    df = load(folder) if folder.is_dir() else pd.DataFrame()
    if not df.empty:
        df = df[(df["model"] == model) & (df["ticket.freeze"].fillna(0.0) == 0.0)]
    why = f"Table 1 and Fig. 6 search {model} at the sparsity of its best dense-source ticket in Fig. 5, and "
    if df.empty:
        raise ConfigError(f"{why}{folder} has no dense {model} record: run `slt sweep fig5 --scale {scale}` first.")
    dense = [c for c in fig5(scale, results) if c.model == model and not c.ticket.freeze]
    missing = sum(not record_path(folder, c.run_id).exists() for c in dense)
    if missing:
        raise ConfigError(
            f"{why}{missing} of its {len(dense)} dense-source runs in {folder} are not recorded yet: "
            f"run `slt sweep fig5 --scale {scale} --where model={model}` first."
        )
    if (df["dataset"] == dataset).any():
        df = df[df["dataset"] == dataset]
    means = df.groupby("ticket.sparsity")["test_acc"].mean()
    return float(means.idxmax())


def sources(sparsity: float, freeze: float, weights: str = "kaiming_uniform") -> dict[str, TicketConfig]:
    """The three sources of the paper at one sparsity: dense, sparse (pruned only) and frozen.

    The sparse source is pruned at ``p = freeze``, so it stores as many bits as the frozen one.
    Its tickets can only be sparser than ``p``, and at ``k = p`` nothing is left to search, so
    when ``sparsity`` lies below the middle of its range ``[p, 1]`` it is searched at that middle
    (the paper's "unintentionally high sparsity" of sparse sources).
    """
    sparse_k = round(max(sparsity, (1 + freeze) / 2), 6)
    return {
        "dense": TicketConfig(sparsity=sparsity, weights=weights),
        "sparse": TicketConfig(sparsity=sparse_k, prune=freeze, weights=weights),
        "frozen": TicketConfig(sparsity=sparsity, freeze=freeze, weights=weights),
    }


def fig6(
    scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS, dense_sparsity: float | None = None
) -> list[RunConfig]:
    """Accuracy vs search-space size over width multipliers, for dense, sparse and frozen
    sources of Conv6 at its best dense sparsity of Fig. 5."""
    points = grid("fig6", scale)
    sparsity = dense_sparsity or best_dense_sparsity("conv6", "cifar10", scale, results)
    configs = []
    for seed in points["seeds"]:
        for width in points["widths"]:
            for ticket in sources(sparsity, points["freeze"]).values():
                configs.append(make_config(scale, "conv6", "cifar10", ticket, seed, width))
    return configs


def fig7(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Accuracy vs model size: Kaiming-uniform vs signed-constant weights, dense and frozen
    sources of Conv6 over widths."""
    points = grid("fig7", scale)
    configs = []
    for seed in points["seeds"]:
        for width in points["widths"]:
            for weights in ("kaiming_uniform", "signed_constant"):
                for f in points["freezes"]:
                    ticket = TicketConfig(sparsity=points["sparsity"], freeze=f, weights=weights)
                    configs.append(make_config(scale, "conv6", "cifar10", ticket, seed, width))
    return configs


def table1(
    scale: str,
    results: str | os.PathLike[str] = DEFAULT_RESULTS,
    dense_sparsity: float | None = None,
    models: tuple[str, ...] | None = None,
) -> list[RunConfig]:
    """Weight training (Kaiming uniform) vs SLT dense / sparse / frozen (signed Kaiming constant),
    each model's tickets at the sparsity of its best dense-source ticket in the fig5 records.

    ``models`` restricts the table to some networks, so that one network's rows can run as soon as
    its own fig5 records exist."""
    points = grid("table1", scale)
    configs = []
    for model, dataset in model_datasets(points):
        if models is not None and model not in models:
            continue
        sparsity = dense_sparsity or best_dense_sparsity(model, dataset, scale, results)
        for seed in per_model(points["seeds"], model):
            configs.append(make_config(scale, model, dataset, None, seed))
            tickets = [t for f in points["freezes"][model] for t in sources(sparsity, f, SLT_WEIGHTS).values()]
            configs += [make_config(scale, model, dataset, t, seed) for t in distinct_searches(tickets)]
    return configs


def search_key(ticket: TicketConfig) -> tuple[TicketConfig, float, float]:
    """The ticket without its freezing ratios, and the pruning and locking ratios it resolves to:
    two tickets with the same key search the same network (the masks are drawn from ``ratios``).
    The ratios stay beside the ticket, not in it, so that rounding them never makes an invalid ticket."""
    p, r = ticket.ratios
    return replace(ticket, freeze=None, prune=None, lock=None), round(p, 9), round(r, 9)


def distinct_searches(tickets: list[TicketConfig]) -> list[TicketConfig]:
    """The tickets in order, less those that repeat an earlier one's search.

    Table 1 lists one dense row whatever its freezing ratios, and a frozen source whose centring rule
    puts all of ``f`` on the pruned side (at ``k >= (1 + f)/2``) is the sparse source of the same
    ``f`` and ``k``: running it again would repeat that run to the last bit under another name.
    """
    first: dict[tuple[TicketConfig, float, float], TicketConfig] = {}
    for ticket in tickets:
        first.setdefault(search_key(ticket), ticket)
    return list(first.values())


def sources_merged_into_sparse(
    scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS, dense_sparsity: float | None = None
) -> pd.DataFrame:
    """The frozen rows of Table 1 that :func:`distinct_searches` left out because they are sparse ones:
    network (model, dataset), sparsity and freezing ratio, one row each."""
    points = grid("table1", scale)
    rows = []
    for model, dataset in model_datasets(points):
        try:
            sparsity = dense_sparsity or best_dense_sparsity(model, dataset, scale, results)
        except ConfigError:  # this model's sparsity is not known yet, nor are its rows
            continue
        for f in points["freezes"][model]:
            found = sources(sparsity, f, SLT_WEIGHTS)
            if search_key(found["frozen"]) == search_key(found["sparse"]):
                rows.append({"model": model, "dataset": dataset, "sparsity": sparsity, "freezing ratio": f})
    return pd.DataFrame(rows, columns=["model", "dataset", "sparsity", "freezing ratio"])


def calibration(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Weight training of the scale's Conv6 at several learning rates: the paper's lr 0.1 was made for
    the full-width network, and the scale's weight-training lr is the one with the best validation accuracy."""
    points = grid("calibration", scale)
    configs = []
    for seed in points["seeds"]:
        for lr in points["lrs"]:
            config = make_config(scale, points["model"], IMAGE_DATASET[points["model"]], None, seed)
            configs.append(replace(config, lr=lr))
    return configs


SWEEPS: dict[str, Callable[..., list[RunConfig]]] = {
    "calibration": calibration,
    "fig4": fig4,
    "fig5": fig5,
    "fig6": fig6,
    "fig7": fig7,
    "table1": table1,
}


READS_FIG5 = frozenset({"table1", "fig6"})
"""Sweeps whose ticket sparsity comes from the fig5 records (their best dense-source ticket)."""


def sweep_configs(
    name: str,
    scale: str,
    results: str | os.PathLike[str] = DEFAULT_RESULTS,
    dense_sparsity: float | None = None,
    models: tuple[str, ...] | None = None,
) -> list[RunConfig]:
    """The configs of a named sweep at a scale.

    Table 1 and Fig. 6 read each model's sparsity from the fig5 records under ``results``;
    ``dense_sparsity`` stands in for it, to list those grids before fig5 has run (never to run them).
    ``models`` keeps only some networks' rows of Table 1 (the other sweeps ignore it).
    """
    check_choice("sweep", name, tuple(SWEEPS))
    check_choice("scale", scale, SCALES)
    if name == "table1":
        return table1(scale, results, dense_sparsity, models)
    if name in READS_FIG5:
        return SWEEPS[name](scale, results, dense_sparsity)
    return SWEEPS[name](scale, results)


def sweep_dir(out: str | os.PathLike[str], name: str, scale: str) -> Path:
    """Records of a sweep live in ``OUT/<name>/<scale>/``."""
    return Path(out) / name / scale


TICKETS_WITH = frozenset({"table1"})
"""Sweeps whose tickets are exported as files next to their records (Table 1's model-size column)."""


def run_sweep(
    name: str,
    scale: str,
    out: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    max_parallel: int = 1,
    slurm: dict[str, Any] | None = None,
    where: dict[str, str] | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Run every missing config of a sweep (or of its part that ``where`` selects, see
    :func:`slt.launch.select`) into ``OUT/<name>/<scale>/``; returns the record paths of the configs run."""
    import torch

    models = (where["model"].lower(),) if where and "model" in where else None
    configs = select(sweep_configs(name, scale, out, models=models), where or {})
    folder = sweep_dir(out, name, scale)
    if scale == "full" and executor != "slurm" and not torch.cuda.is_available():
        todo = pending(configs, folder) if folder.is_dir() else configs
        if todo:
            warnings.warn(
                f"the full {name} sweep is the paper's setting, meant for a GPU; on this machine's CPU it takes "
                f"about {describe_duration(estimate_seconds(todo))}: use a GPU or --scale laptop.",
                stacklevel=2,
            )
    return run_configs(
        configs,
        folder,
        data_dir,
        executor=executor,
        max_parallel=max_parallel,
        slurm=slurm,
        threads=threads,
        export_tickets=name in TICKETS_WITH,
        label=f"{name} ({scale})",
    )


def sweep_status(name: str, scale: str, out: str | os.PathLike[str]) -> tuple[list[Path], list[RunConfig]]:
    """The finished record files of a sweep and the configs still missing one."""
    folder = sweep_dir(out, name, scale)
    configs = sweep_configs(name, scale, out)
    done = [record_path(folder, c.run_id) for c in configs if record_path(folder, c.run_id).exists()]
    return done, [c for c in configs if not record_path(folder, c.run_id).exists()]


def grid_table(name: str, scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> pd.DataFrame:
    """The settings of a sweep, one row per run (seeds included), config fields flattened."""
    rows = [config_fields(c) for c in sweep_configs(name, scale, results)]
    return pd.DataFrame(rows).drop(columns=["ticket"], errors="ignore")
