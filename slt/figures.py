"""The frozen-network paper's figures and table, drawn from results records.

Each function takes the DataFrame of :func:`slt.results.load` and draws one
result; :func:`provenance` says what the numbers rest on (how many runs and
seeds, which device, which data variant), and every caption quotes it.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .plots import use_style
from .results import load

SOURCES = ("weight training", "dense", "sparse", "frozen")
# How models and data sets are named in figures and tables, in the order their panels and rows appear.
MODEL_NAMES = {"conv6": "Conv6", "resnet18": "ResNet-18", "gin": "GIN", "mlp": "MLP"}
DATASET_NAMES = {
    "cifar10": "CIFAR-10",
    "cora": "Cora",
    "citeseer": "CiteSeer",
    "ogbn-arxiv": "OGBN-Arxiv",
    "fashion-mnist": "Fashion-MNIST",
}


def source_of(row: pd.Series) -> str:
    """Which kind of network a run searched: weight training, or a dense, sparse or frozen source."""
    if not isinstance(row.get("ticket.sparsity"), float) or np.isnan(row["ticket.sparsity"]):
        return "weight training"
    if not pd.isna(row.get("ticket.freeze")) and row["ticket.freeze"] > 0:
        return "frozen"
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


def fig4(df: pd.DataFrame) -> plt.Figure:
    """Accuracy across each prune:lock split's search space: is the best sparsity at its centre?"""
    df = with_derived_columns(df)
    df["position in search space"] = search_space_position(df)
    df["prune : lock"] = prune_lock_split(df)
    splits = sorted(df["prune : lock"].unique(), reverse=True)  # from all pruned to all locked
    grid = sns.relplot(
        data=df,
        x="position in search space",
        y="test accuracy (%)",
        hue="prune : lock",
        hue_order=splits,
        col="ticket.layerwise",
        col_order=sorted(df["ticket.layerwise"].unique()),  # EPL, ERK whatever order the records load in
        kind="line",
        marker="o",
        errorbar="sd",
        height=3.2,
    )
    grid.set_axis_labels("position of k in [p, 1 − r]", "test accuracy (%)")
    grid.set_titles("{col_name}")
    for ax, rule in zip(grid.axes.flat, grid.col_names, strict=True):
        ax.set_title(rule.upper())
    return grid.figure


def fig5(df: pd.DataFrame) -> plt.Figure:
    """Accuracy against the freezing ratio at several sparsities, one panel per network."""
    df = with_derived_columns(df)
    grid = sns.relplot(
        data=df,
        x="freezing ratio",
        y="test accuracy (%)",
        hue="sparsity",
        col="network",
        kind="line",
        marker="o",
        errorbar="sd",
        palette="colorblind",
        height=3.2,
        facet_kws={"sharey": False},
    )
    grid.set_axis_labels("freezing ratio p + r", "test accuracy (%)")
    grid.set_titles("{col_name}")
    return grid.figure


def _against_log_axis(df: pd.DataFrame, x: str, xlabel: str, hue: str, style: str) -> plt.Figure:
    """Test accuracy against a quantity spanning several orders of magnitude (mean ± sd over seeds)."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    sns.lineplot(data=df, x=x, y="test accuracy (%)", hue=hue, style=style, markers=True, errorbar="sd", ax=ax)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize="small")
    return fig


def fig6(df: pd.DataFrame) -> plt.Figure:
    """Accuracy against search-space size (searchable weights) over widths, by source."""
    df = with_derived_columns(df)
    return _against_log_axis(df, "num_searchable", "search space (searchable weights, log scale)", "source", "source")


def fig7(df: pd.DataFrame) -> plt.Figure:
    """Accuracy against stored model size, Kaiming-uniform vs signed-constant weights."""
    df = with_derived_columns(df)
    names = {"kaiming_uniform": "Kaiming uniform", "signed_constant": "signed constant"}
    df["weights"] = df["ticket.weights"].map(names)
    return _against_log_axis(df, "model_mb", "model size (MB, log scale)", "weights", "source")


def _mean_std(mean: float, std: float, seeds: int) -> str:
    return f"{mean:.2f}" if seeds < 2 else f"{mean:.2f} ± {std:.2f}"


# How a method names its freezing ratio where a network is searched at several (ResNet-18 in Table 1).
RATIO_NAMES = {"sparse": "p", "frozen": "p + r"}


def _method(source: str, ratio: float, several: bool) -> str:
    return f"{source} ({RATIO_NAMES[source]} = {ratio:g})" if several and source in RATIO_NAMES else source


def table1(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (mean ± std over seeds), search space and model size per network and method
    (one row per freezing ratio where a network is searched at several)."""
    df = with_derived_columns(df)
    df["source"] = pd.Categorical(df["source"], categories=SOURCES, ordered=True)
    if "freezing ratio" not in df:
        df["freezing ratio"] = 0.0
    rows = (
        df.groupby(["network", "source", "freezing ratio"], observed=True)
        .agg(
            mean=("test accuracy (%)", "mean"),
            std=("test accuracy (%)", "std"),
            seeds=("seed", "nunique"),
            searchable=("num_searchable", "first"),
            model_mb=("model_mb", "first"),
        )
        .reset_index()
    )
    several = rows.groupby(["network", "source"], observed=True)["freezing ratio"].transform("nunique") > 1
    return pd.DataFrame(
        {
            "network": rows["network"],
            "method": [
                _method(source, ratio, many)
                for source, ratio, many in zip(rows["source"].astype(str), rows["freezing ratio"], several, strict=True)
            ],
            "accuracy (%)": [_mean_std(r.mean, r.std, r.seeds) for r in rows.itertuples()],
            "seeds": rows["seeds"],
            "search space (weights)": [
                "—" if pd.isna(n) else f"{int(n):,}" for n in rows["searchable"]
            ],  # weight training searches nothing
            "model size (MB)": rows["model_mb"].round(4),
        }
    )


FIGURES = {"fig4": fig4, "fig5": fig5, "fig6": fig6, "fig7": fig7}


def save_figure(name: str, records: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Draw a sweep's figure (or table, as CSV) from its records into ``out_dir``."""
    use_style()
    df = load(records)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if name == "table1":
        path = out / "table1.csv"
        table1(df).to_csv(path, index=False)
        return path
    fig = FIGURES[name](df)
    fig.suptitle(provenance(df), fontsize="x-small", y=1.02)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return path


def sweep_results(
    name: str, scale: str = "laptop", results_dir: str | os.PathLike[str] = "results"
) -> tuple[pd.DataFrame | None, str]:
    """The committed records of a sweep at one scale, and a sentence saying how complete they are.

    Returns ``(None, sentence)`` when no record exists yet, so a page can say so
    instead of drawing anything. A sweep whose configs cannot be listed yet (Table 1 and
    Fig. 6 wait for fig5's records) counts what is in its folder.
    """
    from .errors import ConfigError
    from .sweeps import sweep_dir, sweep_status

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
