"""Random fixed-size subset sum (RFSS): only subsets of exactly k of the n samples.

Plain subset sum says nothing about how many weights a ticket keeps. Natale et
al. (2024) bound the sparsity by allowing only k-subsets: there are
C(n, k) ~ 2^(n H2(k/n)) of them, so the role that n plays in Lueker's
log2(1/eps) law is taken by n * H2(k/n). The law we fit here,

    n ~ c * log2(k / eps) / H2(k / n),

is our own heuristic reading of that count, not a formula of the paper.
A ticket built this way keeps the fraction k/n of its candidate weights, so
small k/n means a sparse ticket, paid for by a larger n.

The exact solver is meet-in-the-middle with the half-sums bucketed by their
size: a k-subset is a j-subset of the first half plus a (k - j)-subset of the
second, so each split j is one pair for the grid engine of
:mod:`slt.theory.subset_sum`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError
from . import checks
from .subset_sum import MAX_ENUMERATE, MAX_EXACT, _as_values, all_sums, grid_errors_from_halves


def _check_k(n: int, k: int) -> int:
    k = checks.count(k, "k")
    if k > n:
        raise ConfigError(f"k={k} is not a subset size of n={n} values: use 0 <= k <= n.")
    return k


def sized_sums(values: np.ndarray) -> list[np.ndarray]:
    """The subset sums of ``values`` grouped by subset size: entry j holds the C(n, j) j-subset sums."""
    sums = all_sums(values)
    size = np.zeros(1, dtype=np.int64)
    for _ in range(values.size):  # the same doubling as all_sums: entry b has popcount(b) elements
        size = np.concatenate([size, size + 1])
    return [sums[size == j] for j in range(values.size + 1)]


def size_pairs(values: np.ndarray | Sequence[float], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (j-subset sums of the first half, (k-j)-subset sums of the second half) for every split j."""
    x = _as_values(values, MAX_EXACT, "meet-in-the-middle")
    k = _check_k(x.size, k)
    mid = x.size // 2
    left, right = sized_sums(x[:mid]), sized_sums(x[mid:])
    return [(left[j], right[k - j]) for j in range(max(0, k - (x.size - mid)), min(k, mid) + 1)]


def fixed_size_sums(values: np.ndarray | Sequence[float], k: int) -> np.ndarray:
    """All C(n, k) sums of k-subsets, sorted (at most 2^MAX_ENUMERATE of them)."""
    x = _as_values(values, MAX_EXACT, "meet-in-the-middle")
    k = _check_k(x.size, k)
    if comb(x.size, k) > 1 << MAX_ENUMERATE:
        raise ConfigError(
            f"C({x.size}, {k}) = {comb(x.size, k)} sums is more than 2^{MAX_ENUMERATE} to list: "
            "use fixed_size_grid_errors, which never lists them."
        )
    return np.sort(np.concatenate([(a[:, None] + b[None, :]).ravel() for a, b in size_pairs(x, k)]))


def fixed_size_grid_errors(
    values: np.ndarray | Sequence[float], k: int, num_targets: int = 2001, low: float = -1.0, high: float = 1.0
) -> np.ndarray:
    """Exact best k-subset error at each of ``num_targets`` evenly spaced targets in [low, high]."""
    return grid_errors_from_halves(size_pairs(values, k), num_targets, low, high)


def fixed_size_errors_by_width(
    widths: Sequence[int],
    ks: Sequence[int],
    draws: int,
    *,
    seed: int = 0,
    num_targets: int = 2001,
    progress: bool = True,
) -> np.ndarray:
    """Worst grid error (len(ks), draws, len(widths)) of k-subsets of the first n U[-1, 1] samples.

    Width n uses the first n samples of each draw, so the error is
    non-increasing in n (more k-subsets); widths below k are NaN, and a k
    above every width is refused (its whole row would be NaN).
    """
    widths = checks.counts(widths, "widths")
    if widths.max() > MAX_EXACT:
        raise ConfigError(f"widths must be at most {MAX_EXACT} for the exact solver: drop the larger widths.")
    ks = checks.counts(ks, "ks")
    if ks.max() > widths.max():
        raise ConfigError(
            f"k={ks.max()} is larger than every width (at most {widths.max()}), so no n-sample draw has a "
            "k-subset: add wider widths or use smaller k."
        )
    draws = checks.count(draws, "draws", 1)
    num_targets = checks.count(num_targets, "num_targets", 1)
    rng = np.random.default_rng(seed)
    out = np.full((len(ks), draws, widths.size), np.nan)
    for d in tqdm(range(draws), desc="fixed-size subset sum", disable=not progress):
        x = rng.uniform(-1.0, 1.0, MAX_EXACT)  # a fixed length: the same seed gives the same samples
        for i, k in enumerate(ks.tolist()):
            for j, n in enumerate(widths.tolist()):
                if n >= k:
                    out[i, d, j] = fixed_size_grid_errors(x[:n], k, num_targets).max()
    return out


def binary_entropy(q: np.ndarray | float) -> np.ndarray:
    """H2(q) = -q log2 q - (1 - q) log2(1 - q), with H2(0) = H2(1) = 0."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -q * np.log2(q) - (1 - q) * np.log2(1 - q)
    return np.where((q <= 0) | (q >= 1), 0.0, h)


def rfss_exponent(n: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """n H2(k/n): the exponent of C(n, k) ~ 2^(n H2(k/n)), the RFSS analogue of n."""
    n = np.asarray(n, dtype=np.float64)
    return n * binary_entropy(np.asarray(k, dtype=np.float64) / n)


def fit_rfss_constant(n: np.ndarray, k: np.ndarray, eps: np.ndarray) -> float:
    """The c of n H2(k/n) ~ c log2(k/eps), by least squares through the origin over points with eps < k.

    The law is ours (see the module docstring); ``1 / c`` is the slope of
    log2(k/eps) against n H2(k/n), the unit in which a fitted line is read.
    """
    n, k, eps = (checks.floats(v, name).ravel() for v, name in ((n, "n"), (k, "k"), (eps, "eps")))
    checks.same_length(n, k, "n and k")
    checks.same_length(n, eps, "n and eps")
    if np.any(eps <= 0) or np.any(k < 1) or np.any(k > n):
        raise ConfigError("every point needs eps > 0 and 1 <= k <= n: drop the points that break this.")
    x = np.log2(k / eps)
    y = rfss_exponent(n, k)
    ok = x > 0
    if ok.sum() < 1:
        raise ConfigError("no point with eps < k to fit the RFSS constant: use smaller errors.")
    return float(x[ok] @ y[ok] / (x[ok] @ x[ok]))
