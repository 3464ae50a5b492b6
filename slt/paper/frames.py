"""Records as data frames: the columns every figure, table and verdict of the paper reads.

:func:`with_derived_columns` names each record's method and freezing ratio the same way
everywhere, :func:`provenance` says what the numbers rest on, and :func:`sweep_results`
loads a sweep's records with a sentence saying how complete they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data import DATASETS
from ..errors import ConfigError
from ..freezing import position_search_space
from ..models import MODELS
from ..records import load
from .sweeps import sweep_dir, sweep_status

SOURCES = ("weight training", "dense", "sparse", "frozen")


class Labels(Mapping[str, str]):
    """The labels of a registry's entries by name, in registry order, read when asked: a model or data
    set registered after this module was imported is named by its own label too."""

    def __init__(self, registry: Mapping[str, Any]) -> None:
        self._registry = registry

    def __getitem__(self, name: str) -> str:
        return self._registry[name].label

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __len__(self) -> int:
        return len(self._registry)


# How models and data sets are named in figures and tables, in the order their panels and rows appear.
MODEL_NAMES = Labels(MODELS)
DATASET_NAMES = Labels(DATASETS)


def source_of(row: pd.Series) -> str:
    """Which kind of network a run searched: weight training, or a dense, sparse or frozen source.

    A freezing ratio is placed by the centring rule, which can put all of it on one side: such a
    source is named by what it resolved to (pruned only: sparse), not by the ratio asked for.
    """
    sparsity = row.get("ticket.sparsity")
    if not isinstance(sparsity, float) or np.isnan(sparsity):
        return "weight training"
    if not pd.isna(row.get("ticket.freeze")) and row["ticket.freeze"] > 0:
        prune, lock = position_search_space(row["ticket.freeze"], sparsity)
    else:
        prune = 0.0 if pd.isna(row.get("ticket.prune")) else row["ticket.prune"]
        lock = 0.0 if pd.isna(row.get("ticket.lock")) else row["ticket.lock"]
    if lock > 0:
        return "frozen"
    return "sparse" if prune > 0 else "dense"


def network_labels(df: pd.DataFrame) -> pd.Categorical:
    """Labels such as "Conv6 / CIFAR-10", ordered by model, then data set, so panels and rows keep one order."""
    order = {name: i for i, name in enumerate([*MODEL_NAMES, *DATASET_NAMES])}
    pairs = sorted(
        set(zip(df["model"], df["dataset"], strict=True)), key=lambda p: (order.get(p[0], 99), order.get(p[1], 99))
    )
    label = {p: f"{MODEL_NAMES.get(p[0], p[0])} / {DATASET_NAMES.get(p[1], p[1])}" for p in pairs}
    labels = [label[p] for p in zip(df["model"], df["dataset"], strict=True)]
    return pd.Categorical(labels, categories=[label[p] for p in pairs], ordered=True)


def with_derived_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add the columns the figures use: source, freezing ratio, accuracy in %, a model label."""
    df = df.copy()
    df["source"] = df.apply(source_of, axis=1)
    df["test accuracy (%)"] = 100 * df["test_acc"]
    df["network"] = network_labels(df)
    if "ticket.sparsity" in df:
        prune = df.get("ticket.prune", pd.Series(np.nan, index=df.index)).fillna(0.0)
        lock = df.get("ticket.lock", pd.Series(np.nan, index=df.index)).fillna(0.0)
        freeze = df.get("ticket.freeze", pd.Series(np.nan, index=df.index))
        df["freezing ratio"] = freeze.combine_first(prune + lock)
        df["sparsity"] = df["ticket.sparsity"]
    return df


def search_space_position(df: pd.DataFrame) -> pd.Series:
    """Where each run's sparsity lies in its searchable range [p, 1 − r]: 0 at p, 1 at 1 − r, 0.5 at the centre."""
    return (df["sparsity"] - df["ticket.prune"]) / (1 - df["freezing ratio"])


def prune_lock_split(df: pd.DataFrame) -> pd.Series:
    """How each run's freezing ratio is shared between pruning and locking, as the label "p : r" (shares of it)."""
    return (df["ticket.prune"] / df["freezing ratio"]).map(lambda s: f"{s:.2f} : {1 - s:.2f}")


def provenance(df: pd.DataFrame) -> str:
    """One sentence on what the numbers rest on, for captions."""
    seeds = sorted(df["seed"].unique())
    devices = ", ".join(sorted(df["device"].unique()))
    variants = ", ".join(sorted(df["data_variant"].unique()))
    commits = ", ".join(sorted({str(c)[:8] for c in df["git_commit"].unique()}))
    return (
        f"{len(df)} runs, {len(seeds)} seed(s) ({', '.join(map(str, seeds))}); device: {devices}; "
        f"data: {variants}; code: {commits}."
    )


def sweep_results(
    name: str, scale: str = "laptop", results_dir: str | os.PathLike[str] = "results"
) -> tuple[pd.DataFrame | None, str]:
    """The committed records of a sweep at one scale, and a sentence saying how complete they are.

    Returns ``(None, sentence)`` when no record exists yet, so a page can say so
    instead of drawing anything. A sweep whose configs cannot be listed yet (Table 1 and
    Fig. 6 wait for fig5's records) counts what is in its folder.
    """
    folder = sweep_dir(results_dir, name, scale)
    try:
        done, missing = sweep_status(name, scale, results_dir)
    except ConfigError as err:
        done, missing = sorted(folder.glob("*.json")), []
        waiting = f" Its grid is not fixed yet: {err}"
    else:
        waiting = ""
    if not done:
        return None, (
            f"No {scale}-scale records of `{name}` exist yet in `{folder}/`: this result has not been reproduced "
            f"at {scale} scale. `slt reproduce {name} --scale {scale}` makes them.{waiting}"
        )
    df = pd.concat([load(p) for p in done], ignore_index=True)
    if waiting:
        return df, (
            f"{len(done)} {scale}-scale runs of `{name}` are recorded; how many it needs in all is not known yet."
            f"{waiting} {provenance(df)}"
        )
    if missing:
        return df, (
            f"{len(done)} of {len(done) + len(missing)} {scale}-scale runs of `{name}` are recorded; "
            f"{len(missing)} are missing and not drawn (`slt sweep {name} --scale {scale}` completes them). "
            f"{provenance(df)}"
        )
    return df, f"All {len(done)} {scale}-scale runs of `{name}` are recorded. {provenance(df)}"
