"""The reproduction of the frozen-network paper (Okabe et al.), built on the library.

The library (everything in :mod:`slt` outside this package) searches tickets, trains,
records and launches runs, and never imports this package. Here live the paper's
own choices: the grids of its figures and Table 1 at three scales (:mod:`.scales`,
:mod:`.sweeps`), the data frames and figures drawn from their records
(:mod:`.frames`, :mod:`.figures`), the verdict on each of its claims
(:mod:`.claims`), the laptop-scale protocol (:mod:`.protocol`), what a chapter
does with records (:mod:`.chapters`) and the graph baselines (:mod:`.baselines`).
"""
