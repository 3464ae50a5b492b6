"""What an experiment chapter does with records: draw ours, and a reader's own run beside them.

A chapter of the book draws its figure from the records committed under
``results/<sweep>/<scale>/``; building the book trains nothing. A reader who
points the chapter at another folder (``papermill CHAPTER.ipynb out.ipynb -p
results_dir mine``) re-runs the chapter's sweep into that folder first (a
finished config is never run twice, and an interrupted sweep resumes), and the
chapter then draws the reader's records beside ours.

Every sweep chapter shows records in the same three places, and what they do
lives here once, not in each chapter:
:func:`~slt.paper.chapters.show_grid` (the runs a sweep makes at a scale),
:func:`~slt.paper.chapters.show_your_run` (the reader's records, shown as ours
are) and :func:`~slt.paper.chapters.show_full_scale` (our full-scale records,
beside the scale a page draws).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .frames import sweep_results

COMMITTED = Path(__file__).resolve().parents[2] / "results"
"""The records committed with the book (``results/`` of the source tree)."""


@dataclass
class ChapterResults:
    """Our committed records of one sweep at one scale and, when the reader ran it, theirs."""

    sweep: str
    scale: str
    ours: pd.DataFrame | None
    ours_status: str
    mine: pd.DataFrame | None = None
    mine_status: str = ""

    def panels(self) -> list[tuple[str, pd.DataFrame]]:
        """``(title, records)`` for every set of records there is: ours first, then the reader's."""
        found = [(f"ours ({self.scale} scale)", self.ours), (f"yours ({self.scale} scale)", self.mine)]
        return [(title, df) for title, df in found if df is not None]


BOOK_RESULTS = "results"
"""The chapters' default ``results_dir``: the book's own records, never a folder to run sweeps into."""


def is_committed(results_dir: str | os.PathLike[str]) -> bool:
    """Whether ``results_dir`` names the book's own records (run nothing there).

    The default name counts even where the package was installed without its
    records (Colab's pip install ships no ``results/``): a reader who opens a
    chapter must never start a sweep without asking for one.
    """
    return str(results_dir) == BOOK_RESULTS or Path(results_dir).resolve() == COMMITTED.resolve()


def chapter_results(
    sweep: str,
    scale: str = "laptop",
    results_dir: str | os.PathLike[str] = COMMITTED,
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    max_parallel: int = 1,
) -> ChapterResults:
    """Our records of ``sweep`` at ``scale``; with any other ``results_dir``, first run the sweep into it.

    Table 1 and Fig. 6 read fig5's records of the same folder, so in a folder of
    the reader's own, fig5 runs first when its records are missing there.
    """
    from .sweeps import run_sweep, sweep_dir

    ours, ours_status = sweep_results(sweep, scale, COMMITTED if COMMITTED.is_dir() else BOOK_RESULTS)
    result = ChapterResults(sweep, scale, ours, ours_status)
    if is_committed(results_dir):
        return result
    if sweep in ("table1", "fig6") and not any(sweep_dir(results_dir, "fig5", scale).glob("*.json")):
        run_sweep("fig5", scale, results_dir, data_dir, executor=executor, max_parallel=max_parallel)
    run_sweep(sweep, scale, results_dir, data_dir, executor=executor, max_parallel=max_parallel)
    result.mine, result.mine_status = sweep_results(sweep, scale, results_dir)
    return result


def show_grid(sweep: str, scale: str, columns: Sequence[str]) -> None:
    """Say how many runs ``sweep`` makes at ``scale`` (settings and seeds) and show ``columns`` of its settings.

    A page states its grid before drawing anything from it, so that a reader sees what the records rest
    on. Table 1 and Fig. 6 read their sparsities from fig5's records: until those exist their grid is not
    fixed, and the page says so instead of failing. The seeds are named where every setting has as many.
    """
    from IPython.display import Markdown, display

    from .protocol import repository_paths
    from .sweeps import grid_table

    try:
        grid = grid_table(sweep, scale)
    except ConfigError as err:
        display(Markdown(f"The grid is not fixed yet. {repository_paths(str(err))}"))
        return
    settings = grid.drop(columns=["seed", "ticket.seed"], errors="ignore")
    runs_per_setting = set(settings.value_counts(dropna=False))
    settings = settings.drop_duplicates()
    if len(runs_per_setting) == 1:
        seeds = grid["seed"].nunique()
        display(Markdown(f"{len(grid)} runs at {scale} scale: {len(settings)} settings, each with {seeds} seeds."))
    else:
        display(Markdown(f"{len(grid)} runs at {scale} scale, {len(settings)} settings."))
    display(settings[list(columns)].reset_index(drop=True))


def _drawing(sweep: str) -> Callable[[pd.DataFrame], Any]:
    """How a sweep's records are shown: its figure, or Table 1."""
    from .figures import FIGURES, tabulate_table1

    return FIGURES.get(sweep, tabulate_table1)


def _show(shown: Any, title: str) -> None:
    """Title a figure (above its panels' own titles, where it has them); display a table as it is."""
    from IPython.display import display
    from matplotlib.figure import Figure

    if isinstance(shown, Figure):
        shown.suptitle(title, y=1.04 if any(ax.get_title() for ax in shown.axes) else None)
    else:
        display(shown)


def _rows_of(records: pd.DataFrame, models: Sequence[str] | None) -> pd.DataFrame:
    return records if models is None else records[records["model"].isin(models)]


def show_your_run(
    res: ChapterResults,
    results_dir: str | os.PathLike[str],
    verdicts: str | None = None,
    draw: Callable[[pd.DataFrame], Any] | None = None,
    models: Sequence[str] | None = None,
    say_when_ours_only: bool = True,
) -> None:
    """The reader's records of ``res``, shown as ours are, with the ``verdicts`` of that chapter on them.

    A reader who ran a chapter into a folder of their own (``results_dir``) sees their figure or table,
    titled as theirs, and our verdicts recomputed from their records alone, so the two can be compared
    claim by claim. ``draw`` shows a set of records (default: the sweep's figure, or Table 1), ``models``
    keeps only those networks' rows. On the committed records there is nothing of the reader's, and the
    page says so (unless ``say_when_ours_only`` is False).
    """
    from IPython.display import Markdown, display

    from .protocol import verdict_lines

    draw = draw or _drawing(res.sweep)
    yours = [(title, records) for title, records in res.panels() if records is res.mine]
    for title, records in yours:
        display(Markdown(f"**{title}**: {res.mine_status}"))
        _show(draw(_rows_of(records, models)), title)
        if verdicts is not None:
            for line in verdict_lines(verdicts, results_dir, (res.scale,)):
                display(Markdown(line))
    if res.mine is None and say_when_ours_only:
        display(Markdown("This page was built from our records only (`results_dir` is the committed `results`)."))


def show_full_scale(
    res: ChapterResults,
    draw: Callable[[pd.DataFrame], Any] | None = None,
    models: Sequence[str] | None = None,
) -> None:
    """Our full-scale records of ``res.sweep`` (the paper's settings), where a page draws another scale.

    The laptop-scale figures are the paper's comparisons made small; the full-scale records, where they
    exist, are the ones to hold against the paper, so every sweep chapter sets them beside its own scale,
    and says when there are none yet. ``draw`` and ``models`` as in
    :func:`~slt.paper.chapters.show_your_run`; with ``models``, nothing is shown when the full-scale
    records hold none of those networks.
    """
    from IPython.display import Markdown, display

    from .figures import FIGURES
    from .protocol import repository_paths

    full, status = sweep_results(res.sweep, "full", COMMITTED)
    if full is None:
        shown = "drawn" if res.sweep in FIGURES else "shown"
        missing = f"No full-scale records of `{res.sweep}` (the paper's settings, on a GPU) exist yet"
        display(Markdown(f"{missing}, so none are {shown}."))
        return
    full = _rows_of(full, models)
    if res.scale != "full" and not full.empty:
        display(Markdown(repository_paths(status)))
        _show((draw or _drawing(res.sweep))(full), "full scale")
