"""One figure style for the whole book: white background, colour-blind palette.

The book has a dark mode; figures keep an opaque white background so that
their axes and labels stay readable in both modes.
"""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

PALETTE = "colorblind"


def use_style() -> None:
    """Apply the book's seaborn style to every figure drawn afterwards."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.dpi": 110,
        }
    )
