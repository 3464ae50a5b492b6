"""The frozen-network paper's figures and Table 1, drawn from records.

Each function takes the DataFrame of :func:`slt.records.load` and draws one
result; :func:`slt.paper.frames.provenance` says what the numbers rest on (how
many runs and seeds, which device, which data variant), and every caption quotes it.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ..plots import use_style
from ..records import load
from .frames import SOURCES, provenance, prune_lock_split, search_space_position, with_derived_columns


def plot_fig4(df: pd.DataFrame) -> plt.Figure:
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


def plot_fig5(df: pd.DataFrame) -> plt.Figure:
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


def plot_fig6(df: pd.DataFrame) -> plt.Figure:
    """Accuracy against search-space size (searchable weights) over widths, by source."""
    df = with_derived_columns(df)
    return _against_log_axis(df, "num_searchable", "search space (searchable weights, log scale)", "source", "source")


def plot_fig7(df: pd.DataFrame) -> plt.Figure:
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


def tabulate_table1(df: pd.DataFrame) -> pd.DataFrame:
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


def tabulate_calibration(df: pd.DataFrame) -> pd.DataFrame:
    """Best validation and test accuracy (%) of each learning rate of the calibration sweep, with its best epoch."""
    if df.empty:
        return pd.DataFrame(columns=["lr", "best validation accuracy (%)", "test accuracy (%)", "best epoch", "runs"])
    out = (
        df.assign(val=100 * df["best_val_acc"], test=100 * df["test_acc"])
        .groupby("lr")
        .agg(val=("val", "mean"), test=("test", "mean"), epoch=("best_epoch", "mean"), runs=("run_id", "count"))
        .reset_index()
        .sort_values("lr", ascending=False)
    )
    out.columns = ["lr", "best validation accuracy (%)", "test accuracy (%)", "best epoch", "runs"]
    return out.reset_index(drop=True)


FIGURES = {"fig4": plot_fig4, "fig5": plot_fig5, "fig6": plot_fig6, "fig7": plot_fig7}
TABLES = {"table1": tabulate_table1, "calibration": tabulate_calibration}


def save_figure(name: str, records: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Draw a sweep's figure (or table, as CSV) from its records into ``out_dir``."""
    use_style()
    df = load(records)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if name in TABLES:
        path = out / f"{name}.csv"
        TABLES[name](df).to_csv(path, index=False)
        return path
    fig = FIGURES[name](df)
    fig.suptitle(provenance(df), fontsize="x-small", y=1.02)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return path
