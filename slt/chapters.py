"""What an experiment chapter does with records: draw ours, and a reader's own run beside them.

A chapter of the book draws its figure from the records committed under
``results/<sweep>/<scale>/``; building the book trains nothing. A reader who
points the chapter at another folder (``papermill CHAPTER.ipynb out.ipynb -p
results_dir mine``) re-runs the chapter's sweep into that folder first (a
finished config is never run twice, and an interrupted sweep resumes), and the
chapter then draws the reader's records beside ours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .figures import sweep_results

COMMITTED = Path(__file__).resolve().parents[1] / "results"
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
