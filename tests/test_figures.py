"""Every figure and Table 1, drawn from a complete full-mode grid of records.

The book draws these only once full GPU runs exist, so without this test a
broken figure would first show on the GPU. The records are fixtures
(``fixture_records``); what is checked is the drawing: one panel per layer-wise
rule or network, labelled axes, and a table row per network and method.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from slt.figures import FIGURES, provenance, save_figure, table1, with_derived_columns
from slt.results import load
from slt.sweeps import sweep_dir

from fixture_records import freezing_ratio, write_sweep


def accuracy(c) -> float:
    return 70.0 if c.ticket is None else 80 - 10 * freezing_ratio(c) + c.width + c.seed


@pytest.mark.parametrize(
    ("name", "panels"),
    [("fig4", ["EPL", "ERK"]), ("fig5", None), ("fig6", [""]), ("fig7", [""])],
)
def test_figure_draws_every_panel_with_labelled_axes(tmp_path, name, panels):
    write_sweep(tmp_path, name, accuracy)
    df = load(sweep_dir(tmp_path, name, "full"))
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
    path = save_figure("fig6", sweep_dir(tmp_path, "fig6", "full"), tmp_path / "out")
    assert path.name == "fig6.png" and path.stat().st_size > 10_000
    assert "36 runs, 3 seed(s) (0, 1, 2); device: fixture" in provenance(load(sweep_dir(tmp_path, "fig6", "full")))


def test_table1_has_a_row_per_network_and_method_with_mean_and_std(tmp_path):
    write_sweep(tmp_path, "table1", accuracy)
    table = table1(load(sweep_dir(tmp_path, "table1", "full")))
    assert len(table) == 5 * 4  # Conv6, ResNet-18, GIN on three graphs x weight training, dense, sparse, frozen
    assert set(table["seeds"]) == {3}
    wt = table[(table["network"] == "Conv6 / CIFAR-10") & (table["method"] == "weight training")].iloc[0]
    assert wt["accuracy (%)"] == "70.00 ± 0.00" and wt["search space (weights)"] == "—"
    frozen = table[(table["network"] == "Conv6 / CIFAR-10") & (table["method"] == "frozen")].iloc[0]
    assert frozen["accuracy (%)"] == "76.00 ± 1.00"  # 80 - 10 * 0.6 + width 1, seeds 0, 1, 2 add 0, 1, 2
