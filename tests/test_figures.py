"""Every figure and Table 1, drawn from a complete laptop-scale grid of records (the scale the book shows).

Without this test a broken figure would first show after hours of runs. The
records are fixtures (``fixture_records``); what is checked is the drawing: one
panel per layer-wise rule or network, labelled axes, and a table row per network
and method.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from slt.paper.figures import FIGURES, save_figure, tabulate_table1
from slt.paper.frames import provenance, with_derived_columns
from slt.paper.scales import grid
from slt.paper.sweeps import sweep_configs, sweep_dir
from slt.records import load

from fixture_records import freezing_ratio, write_sweep


def accuracy(c) -> float:
    return 70.0 if c.ticket is None else 80 - 10 * freezing_ratio(c) + c.width + c.seed


@pytest.mark.parametrize(
    ("name", "panels"),
    [("fig4", ["EPL", "ERK"]), ("fig5", None), ("fig6", [""]), ("fig7", [""])],
)
def test_figure_draws_every_panel_with_labelled_axes(tmp_path, name, panels):
    write_sweep(tmp_path, name, accuracy)
    df = load(sweep_dir(tmp_path, name, "laptop"))
    figure = FIGURES[name](df)
    axes = [ax for ax in figure.axes if ax.has_data()]
    titles = [ax.get_title() for ax in axes]
    if panels is None:  # one panel per network searched
        panels = sorted(with_derived_columns(df)["network"].unique())
        titles = sorted(titles)
    assert titles == panels
    assert axes[0].get_ylabel() == "test accuracy (%)"  # panels side by side share the first one's
    assert all(ax.get_xlabel() for ax in axes), f"{name}: a panel without an x label"
    plt.close(figure)


def test_saved_figure_quotes_its_provenance(tmp_path):
    write_sweep(tmp_path, "fig6", accuracy)
    path = save_figure("fig6", sweep_dir(tmp_path, "fig6", "laptop"), tmp_path / "out")
    assert path.name == "fig6.png" and path.stat().st_size > 10_000
    seeds = grid("fig6", "laptop")["seeds"]
    runs = len(sweep_configs("fig6", "laptop", tmp_path))
    expected = f"{runs} runs, {len(seeds)} seed(s) ({', '.join(map(str, seeds))}); device: fixture"
    assert expected in provenance(load(sweep_dir(tmp_path, "fig6", "laptop")))


@pytest.mark.slow  # writes the full-scale Table 1 grid of records
def test_table1_has_a_row_per_network_and_method_with_mean_and_std(tmp_path):
    write_sweep(tmp_path, "table1", accuracy, scale="full")
    table = tabulate_table1(load(sweep_dir(tmp_path, "table1", "full")))
    # Conv6, GIN on three graphs x weight training, dense, sparse, frozen; ResNet-18 searched at two freezing ratios
    assert len(table) == 4 * 4 + 6
    assert set(table["seeds"]) == {3}
    wt = table[(table["network"] == "Conv6 / CIFAR-10") & (table["method"] == "weight training")].iloc[0]
    assert wt["accuracy (%)"] == "70.00 ± 0.00" and wt["search space (weights)"] == "—"
    frozen = table[(table["network"] == "Conv6 / CIFAR-10") & (table["method"] == "frozen")].iloc[0]
    assert frozen["accuracy (%)"] == "76.00 ± 1.00"  # 80 - 10 * 0.6 + width 1, seeds 0, 1, 2 add 0, 1, 2
    resnet = table[table["network"] == "ResNet-18 / CIFAR-10"]
    assert list(resnet["method"]) == [
        "weight training",
        "dense",
        "sparse (p = 0.6)",
        "sparse (p = 0.8)",
        "frozen (p + r = 0.6)",
        "frozen (p + r = 0.8)",
    ]
    frozen_08 = resnet[resnet["method"] == "frozen (p + r = 0.8)"].iloc[0]
    assert frozen_08["accuracy (%)"] == "74.00 ± 1.00"  # 80 - 10 * 0.8 + width 1 + seed


def test_laptop_table1_draws_every_network_of_the_laptop_grid(tmp_path):
    write_sweep(tmp_path, "table1", accuracy)
    table = tabulate_table1(load(sweep_dir(tmp_path, "table1", "laptop")))
    networks = ["Conv6 / CIFAR-10", "ResNet-18 / CIFAR-10", "GIN / Cora", "GIN / CiteSeer"]
    assert list(dict.fromkeys(table["network"])) == networks
    seeds = grid("table1", "laptop")["seeds"]
    per_model = dict.fromkeys(["conv6", "resnet18", "gin"], seeds) if not isinstance(seeds, dict) else seeds
    models = ["conv6", "resnet18", "gin", "gin"]
    assert list(table.drop_duplicates("network")["seeds"]) == [len(per_model[m]) for m in models]
