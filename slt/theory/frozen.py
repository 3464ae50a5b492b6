"""Random subset sum with frozen variables: some pruned for good, some locked in.

In a frozen network (Otsuka et al., 2024) a random fraction ``p`` of the weights
is pruned before the search (never usable) and a fraction ``r`` is locked (always
part of the ticket). For one subset-sum problem this means: a pruned value is
simply gone, and a locked value is always added, so the achievable sums are

    L + (subset sums of the searchable values),   L = sum of the locked values.

Approximating a target t is therefore ordinary subset sum on the searchable
values with the *shifted* target t - L. Only the ``1 - p - r`` searchable
fraction does any work, so a natural yardstick for the width needed is
n(0, 0) / (1 - p - r) (:func:`searchable_fraction_scaling`); that yardstick is
ours, for measuring, not a statement of the paper's lemmas. The shift costs
more on top, because t - L sits away from the centre of the searchable sums.

A variable's role uses the mask codes of :mod:`slt.freezing`: ``PRUNED``,
``SEARCHABLE`` or ``LOCKED``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError
from ..freezing import LOCKED, PRUNED, SEARCHABLE
from . import checks
from .subset_sum import MAX_ENUMERATE, _check_grid, _continuum_worst_error, grid_errors


def _check_rates(p: float, r: float) -> tuple[float, float]:
    p, r = checks.real(p, "p"), checks.real(r, "r")
    if not (p >= 0.0 and r >= 0.0 and p + r < 1.0):
        raise ConfigError(f"p={p}, r={r} leave no searchable variables: use p, r >= 0 with p + r < 1.")
    return p, r


def _check_roles(values: object, roles: object) -> tuple[np.ndarray, np.ndarray]:
    """Finite float values and int8 role codes of the same shape; refuses codes but PRUNED, SEARCHABLE, LOCKED."""
    values = checks.floats(values, "the values")
    roles = checks.integers(roles, "the roles")
    if values.shape != roles.shape:
        raise ConfigError("values and roles must have the same shape: pass one role per value.")
    bad = ~np.isin(roles, (PRUNED, SEARCHABLE, LOCKED))
    if bad.any():
        raise ConfigError(
            f"role code {roles[bad].flat[0]} is unknown: use PRUNED ({PRUNED}), SEARCHABLE ({SEARCHABLE}) "
            f"or LOCKED ({LOCKED}) from slt.freezing."
        )
    return values, roles.astype(np.int8)


def draw_roles(rng: np.random.Generator, n: int, p: float, r: float) -> np.ndarray:
    """Each of n variables independently pruned (prob. p), locked (prob. r) or searchable (int8 codes)."""
    p, r = _check_rates(p, r)
    n = checks.count(n, "n")
    u = rng.random(n)
    return np.where(u < p, PRUNED, np.where(u < p + r, LOCKED, SEARCHABLE)).astype(np.int8)


def split_roles(values: np.ndarray, roles: np.ndarray) -> tuple[np.ndarray, float]:
    """The searchable values and the locked sum L (the amount every target is shifted by)."""
    values, roles = _check_roles(values, roles)
    return values[roles == SEARCHABLE], float(values[roles == LOCKED].sum())


def frozen_grid_errors(
    values: np.ndarray, roles: np.ndarray, num_targets: int = 2001, low: float = -1.0, high: float = 1.0
) -> np.ndarray:
    """Exact error at each grid target t_j: the searchable subsets approximate t_j - L.

    However large the locked sum L, the work stays small: targets far from
    every searchable sum are settled from the sums nearest them.
    """
    searchable, locked = split_roles(values, roles)
    _check_grid(num_targets, low, high)
    return grid_errors(searchable, num_targets, float(low) - locked, float(high) - locked)


def frozen_prefix_errors(
    values: np.ndarray, roles: np.ndarray, low: float = -1.0, high: float = 1.0, max_searchable: int = MAX_ENUMERATE
) -> np.ndarray:
    """Continuum worst error over [low, high] of the first n variables, n = 0 .. len(values).

    Unlike plain subset sum this is *not* monotone in n: a locked variable moves
    every achievable sum. Entries after the searchable count exceeds
    ``max_searchable`` are NaN (too many sums to enumerate); they count as
    failures downstream.
    """
    values, roles = _check_roles(values, roles)
    values, roles = values.ravel(), roles.ravel()
    if checks.count(max_searchable, "max_searchable") > MAX_ENUMERATE:
        raise ConfigError(
            f"max_searchable={max_searchable} exceeds {MAX_ENUMERATE}: "
            "the continuum error enumerates 2^searchable sums."
        )
    _check_grid(1, low, high)
    low, high = float(low), float(high)
    out = np.full(values.size + 1, np.nan)
    sums, locked, n_searchable = np.zeros(1), 0.0, 0
    out[0] = _continuum_worst_error(sums, low, high)
    for i, (v, role) in enumerate(zip(values, roles, strict=True)):
        if role == LOCKED:
            locked += v
        elif role == SEARCHABLE:
            n_searchable += 1
            if n_searchable > max_searchable:
                break
            sums = np.sort(np.concatenate([sums, sums + v]), kind="stable")
        out[i + 1] = _continuum_worst_error(sums, low - locked, high - locked)
    return out


def frozen_errors_by_width(
    p: float, r: float, n_max: int, draws: int, *, seed: int = 0, max_searchable: int = 20, progress: bool = True
) -> np.ndarray:
    """Continuum worst errors (draws, n_max + 1) for U[-1, 1] values with random roles.

    Every (p, r) uses the same values for a given seed (only the roles differ),
    so the comparison between cells is paired.
    """
    p, r = _check_rates(p, r)
    n_max, draws = checks.count(n_max, "n_max"), checks.count(draws, "draws", 1)
    max_searchable = checks.count(max_searchable, "max_searchable", 0, MAX_ENUMERATE)
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.0, 1.0, (draws, n_max))
    role_rng = np.random.default_rng([seed, 1])
    out = np.empty((draws, n_max + 1))
    for d in tqdm(range(draws), desc=f"frozen p={p:g} r={r:g}", disable=not progress):
        out[d] = frozen_prefix_errors(values[d], draw_roles(role_rng, n_max, p, r), max_searchable=max_searchable)
    return out


def width_needed_map(
    ps: Sequence[float],
    rs: Sequence[float],
    eps: float,
    searchable_needed: int,
    draws: int,
    *,
    seed: int = 0,
    level: float = 0.5,
    progress: bool = True,
) -> np.ndarray:
    """Smallest n with P(worst error <= eps) >= level, for each (p, r) cell (NaN where p + r >= 1).

    ``searchable_needed`` sizes the search: each cell looks up to n_max = 3 *
    searchable_needed / (1 - p - r) variables, three times the
    searchable-fraction yardstick of a width that needs ``searchable_needed``
    searchable variables.
    """
    ps, rs = checks.floats(ps, "ps").ravel(), checks.floats(rs, "rs").ravel()
    if np.any(ps < 0) or np.any(rs < 0):
        raise ConfigError("a pruning or locking rate is negative: pass rates ps, rs >= 0.")
    eps = checks.real(eps, "eps", positive=True)
    searchable_needed = checks.count(searchable_needed, "searchable_needed", 1)
    draws, level = checks.count(draws, "draws", 1), checks.fraction(level, "level")
    out = np.full((len(ps), len(rs)), np.nan)
    cells = [(i, j) for i, p in enumerate(ps) for j, r in enumerate(rs) if p + r < 1.0]
    for i, j in tqdm(cells, desc="frozen (p, r) cells", disable=not progress):
        p, r = ps[i], rs[j]
        n_max = int(np.ceil(3 * searchable_needed / (1.0 - p - r)))
        errors = frozen_errors_by_width(p, r, n_max, draws, seed=seed, progress=False)
        ok = np.mean(errors <= eps, axis=0) >= level  # NaN compares False: counted as failure
        out[i, j] = float(np.argmax(ok)) if ok.any() else np.nan
    return out


def searchable_fraction_scaling(n0: float, p: np.ndarray | float, r: np.ndarray | float) -> np.ndarray:
    """Our yardstick n0 / (1 - p - r): the unfrozen width n0 spread over the searchable fraction (NaN where p + r >= 1).

    It counts only the searchable variables lost to freezing. It is not the
    bound of the frozen-network paper's lemmas, whose proofs also set
    searchable variables aside to absorb the locked sum.
    """
    searchable = 1.0 - checks.floats(p, "p") - checks.floats(r, "r")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(searchable > 0, checks.real(n0, "n0") / searchable, np.nan)
