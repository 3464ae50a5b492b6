"""What an experiment chapter draws (slt.paper.chapters): our committed records, and a reader's own run beside them.

The committed folder is a temporary one holding fixture records (``fixture_records``), so these
tests neither read nor write the repository's ``results/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slt.paper.chapters import chapter_results
from slt.paper.sweeps import sweep_configs

from fixture_records import fig5_accuracy, write_sweep


def accuracy(c) -> float:
    return 80.0 + (1.0 if c.ticket.weights == "signed_constant" else 0.0)


@pytest.fixture
def committed(tmp_path, monkeypatch) -> Path:
    """The folder a chapter takes for the book's committed records."""
    folder = tmp_path / "committed"
    folder.mkdir()  # an existing folder, or a chapter falls back to ./results, the repository's own records
    monkeypatch.setattr("slt.paper.chapters.COMMITTED", folder)
    return folder


def no_sweep(*args, **kwargs):
    raise AssertionError("a chapter drawing the committed records ran a sweep")


def test_a_chapter_on_the_committed_records_only_loads_them(committed, monkeypatch):
    write_sweep(committed, "fig7", accuracy)
    monkeypatch.setattr("slt.paper.sweeps.run_sweep", no_sweep)
    files = {p: p.stat().st_mtime_ns for p in committed.rglob("*")}
    result = chapter_results("fig7", "laptop", committed)
    runs = len(sweep_configs("fig7", "laptop"))
    assert len(result.ours) == runs and set(result.ours["device"]) == {"fixture"}
    assert result.ours_status.startswith(f"All {runs} laptop-scale runs of `fig7` are recorded.")
    assert result.mine is None and [title for title, _ in result.panels()] == ["ours (laptop scale)"]
    assert {p: p.stat().st_mtime_ns for p in committed.rglob("*")} == files  # nothing written


def test_a_chapter_without_committed_records_says_how_to_make_them(committed, monkeypatch):
    monkeypatch.setattr("slt.paper.sweeps.run_sweep", no_sweep)
    result = chapter_results("fig7", "laptop", committed)
    assert result.ours is None and result.panels() == []
    assert "`slt reproduce fig7 --scale laptop` makes them" in result.ours_status


@pytest.mark.parametrize("sweep", ["table1", "fig6"])
@pytest.mark.parametrize("fig5_there", [False, True], ids=["no fig5", "fig5 done"])
def test_a_table_in_another_folder_runs_fig5_there_first_when_it_is_missing(
    committed, tmp_path, monkeypatch, sweep, fig5_there
):
    calls = []

    def record_call(name, scale, out, *args, **kwargs):
        calls.append((name, scale, Path(out)))
        return []

    monkeypatch.setattr("slt.paper.sweeps.run_sweep", record_call)
    mine = tmp_path / "mine"
    if fig5_there:
        write_sweep(mine, "fig5", fig5_accuracy, scale="quick")
    result = chapter_results(sweep, "quick", mine)
    expected = [sweep] if fig5_there else ["fig5", sweep]
    assert calls == [(name, "quick", mine) for name in expected]
    assert result.mine is None and f"`slt reproduce {sweep} --scale quick`" in result.mine_status


@pytest.mark.slow
def test_a_chapter_on_another_folder_runs_the_sweep_there_and_draws_both(committed, tmp_path, cifar10_dir):
    # (Drawn again, a chapter runs nothing: a finished sweep submits nothing, test_pipeline's quick fig5 sweep.)
    write_sweep(committed, "fig7", accuracy, scale="quick")
    mine = tmp_path / "mine"
    result = chapter_results("fig7", "quick", mine, cifar10_dir, executor="debug")

    configs = sweep_configs("fig7", "quick")
    assert sorted(result.ours["run_id"]) == sorted(result.mine["run_id"]) == sorted(c.run_id for c in configs)
    assert set(result.ours["device"]) == {"fixture"} and "fixture" not in set(result.mine["device"])
    assert result.mine["test_acc"].between(0, 1).all()
    assert result.mine_status.startswith(f"All {len(configs)} quick-scale runs of `fig7` are recorded.")
    assert [title for title, _ in result.panels()] == ["ours (quick scale)", "yours (quick scale)"]
