"""Exact random subset sum: how well the subsets of n random numbers cover an interval.

Lueker (1998) showed that n = O(log 1/eps) i.i.d. U[-1, 1] samples eps-approximate
*every* target in [-1, 1] with high probability; Pensia et al. (2020) turned this
into logarithmic over-parameterisation for strong lottery tickets. To check such a
statement numerically one needs the *worst* error over all targets, computed
exactly, not a Monte-Carlo guess. This module computes it two ways:

* over the continuum of targets: the worst error is half the largest gap between
  consecutive achievable sums (or an end of the interval), which needs all 2^n
  sums, so ``n <= MAX_ENUMERATE``;
* over a uniform grid of targets, for ``n <= MAX_EXACT`` by meet-in-the-middle:
  the sums of the two halves are combined with a *phase window* (pairs whose sum
  lies within delta grid steps of a grid point are exactly the pairs whose
  fractional phases add up to almost an integer), which finds every pair that can
  matter in one sorted pass; targets the window cannot certify are solved one by
  one with sorted searches. Both paths are exact (up to float64 rounding of the
  sums themselves).

The same engine serves the frozen (shifted targets) and fixed-size (half-sums
bucketed by size) variants in :mod:`slt.theory.frozen` and
:mod:`slt.theory.fixed_size`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from . import checks

MAX_ENUMERATE = 22  # all 2^22 sums: 32 MiB of float64
MAX_EXACT = 44  # meet in the middle: two halves of 2^22 sums
MAX_TARGETS = 1_000_000
MAX_BATCH_VALUES = 36  # best_subsets: 2^18 half-sums per problem

_WINDOW_HITS = 32.0  # expected candidate pairs per target in the phase window
_MAX_WINDOW = 0.25  # above this (in grid steps) the window is no faster than one-by-one
_CHUNK = 1 << 22  # elements per vectorised chunk (32 MiB of float64)
_MAX_INSIDE = _CHUNK  # pair sums listed at most to settle a run of open targets at once
# Rough costs on one core, to estimate work before doing it: warn above a few seconds, refuse past half an hour.
_SECONDS_PER_SEARCH = 1.2e-8  # one half-sum searched for one target
_SECONDS_PER_CANDIDATE = 7e-8  # one pair sum listed by the phase window
_WARN_SECONDS = 20.0
_MAX_SECONDS = 1800.0


def _as_values(values: np.ndarray | Sequence[float], limit: int, method: str) -> np.ndarray:
    """Values as a float64 vector, refusing (before any work) sizes the method cannot handle."""
    x = checks.floats(values, "the values").ravel()
    if x.size > limit:
        raise ConfigError(f"{x.size} values is more than exact {method} handles (at most {limit}): use fewer values.")
    return x


def _check_grid(num_targets: int, low: float, high: float) -> int:
    """The number of targets as an int, after refusing a bad grid."""
    num_targets = checks.count(num_targets, "num_targets", 1, MAX_TARGETS)
    low, high = checks.real(low, "low"), checks.real(high, "high")
    if low > high:
        raise ConfigError(f"the target interval [{low}, {high}] is empty: pass low <= high.")
    return num_targets


def all_sums(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """All 2^n subset sums, unsorted: entry ``b`` is the sum over the set bits of ``b``.

    The bit order makes the subset recoverable from an index (used by
    :func:`best_subsets`); doubling keeps it vectorised.
    """
    x = _as_values(values, MAX_ENUMERATE, "enumeration")
    sums = np.zeros(1)
    for v in x:
        sums = np.concatenate([sums, sums + v])
    return sums


def subset_sums(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """All 2^n subset sums, sorted (``n <= MAX_ENUMERATE``)."""
    return np.sort(all_sums(values))


def continuum_worst_error(sorted_sums: np.ndarray, low: float = -1.0, high: float = 1.0) -> float:
    """sup over t in [low, high] of the distance from t to the nearest achievable sum.

    The distance to a finite set is piecewise linear in t, so the supremum sits at
    an end of the interval or at the midpoint of two consecutive sums. The sums
    must be sorted (as :func:`subset_sums` returns them) and non-empty.
    """
    s = checks.floats(sorted_sums, "the sums").ravel()
    _check_grid(1, low, high)
    if s.size == 0:
        raise ConfigError("the list of sums is empty: pass at least one sum (the empty subset gives 0).")
    if np.any(s[1:] < s[:-1]):
        raise ConfigError("the sums are not sorted: pass np.sort(sums) or the output of subset_sums.")
    return _continuum_worst_error(s, low, high)


def _continuum_worst_error(s: np.ndarray, low: float, high: float) -> float:
    """:func:`continuum_worst_error` without the checks, for sorted float64 sums built here."""
    first = max(int(np.searchsorted(s, low, side="left")) - 1, 0)
    last = min(int(np.searchsorted(s, high, side="right")) + 1, s.size)
    seg = s[first:last]
    ends = np.array([low, high])
    pos = np.clip(np.searchsorted(s, ends), 1, s.size - 1) if s.size > 1 else np.zeros(2, dtype=int)
    end_err = np.minimum(np.abs(s[pos] - ends), np.abs(s[pos - 1] - ends)) if s.size > 1 else np.abs(s[0] - ends)
    gaps = np.diff(seg)
    mids = seg[:-1] + gaps / 2
    inside = (mids >= low) & (mids <= high)
    gap_err = gaps[inside].max() / 2 if inside.any() else 0.0
    return float(max(end_err.max(), gap_err))


def prefix_continuum_errors(values: np.ndarray | Sequence[float], low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """The continuum worst error of the first n values, for n = 0 .. len(values).

    Adding one value merges two sorted runs, which a stable sort does in linear
    time, so the whole sequence costs about as much as its last entry.
    """
    x = _as_values(values, MAX_ENUMERATE, "enumeration")
    _check_grid(1, low, high)
    low, high = float(low), float(high)
    sums = np.zeros(1)
    out = np.empty(x.size + 1)
    out[0] = _continuum_worst_error(sums, low, high)
    for i, v in enumerate(x):
        sums = np.sort(np.concatenate([sums, sums + v]), kind="stable")
        out[i + 1] = _continuum_worst_error(sums, low, high)
    return out


class HalfSums:
    """The subset sums of one half of a sample, sortable by their phase on the target grid.

    Built from the values (plain subset sum) it sorts incrementally: adding a
    value rotates the phase order of the existing sums, so each doubling is a
    merge of two sorted runs (linear time) instead of a full sort. Built from a
    ready list of sums (the fixed-size buckets) it sorts them directly.
    """

    def __init__(self, sums: np.ndarray | None = None, values: np.ndarray | None = None):
        self._sums = None if sums is None else np.asarray(sums, dtype=np.float64)
        self._values = None if values is None else np.asarray(values, dtype=np.float64)

    @property
    def size(self) -> int:
        return self._sums.size if self._sums is not None else 1 << self._values.size

    @property
    def sums(self) -> np.ndarray:
        """All the sums (unsorted)."""
        if self._sums is None:
            self._sums = all_sums(self._values)
        return self._sums

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k sums of uniformly random subsets (with replacement)."""
        if self._values is None:
            return rng.choice(self._sums, k)
        return (rng.random((k, self._values.size)) < 0.5) @ self._values

    def by_phase(self, scale: float, sign: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
        """The phases frac(sign * s * scale + shift) in ascending order, and the sums s in that order."""
        if self._values is None:
            phase = np.mod(sign * self._sums * scale + shift, 1.0)
            order = np.argsort(phase, kind="stable")
            return phase[order], self._sums[order]
        phase, sums = np.array([np.mod(shift, 1.0)]), np.zeros(1)
        for v in self._values:
            inc = np.mod(sign * v * scale, 1.0)
            k = int(np.searchsorted(phase, 1.0 - inc))  # these wrap past 1 when shifted by inc
            moved = np.concatenate([phase[k:] + (inc - 1.0), phase[:k] + inc])
            order = np.argsort(np.concatenate([phase, moved]), kind="stable")  # a merge of two runs
            phase = np.concatenate([phase, moved])[order]
            sums = np.concatenate([sums, np.concatenate([sums[k:], sums[:k]]) + v])[order]
        return phase, sums


def _slice_sums(a: np.ndarray, b: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The sums a[i] + b[lo[i] + m] for m < c[i], for every i, as one flat array."""
    n = int(c.sum())
    within = np.arange(n) - np.repeat(np.cumsum(c) - c, c)
    return np.repeat(a, c) + b[np.repeat(lo, c) + within]


def _sides(pairs: Sequence[tuple[HalfSums, HalfSums]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each pair as (the smaller side's sums, the larger side's sums sorted): the sorted searches search the larger."""
    out = []
    for first, second in pairs:
        small, large = (first.sums, second.sums) if first.size <= second.size else (second.sums, first.sums)
        out.append((small, np.sort(large)))
    return out


def _exact_targets(sides: Sequence[tuple[np.ndarray, np.ndarray]], targets: np.ndarray) -> np.ndarray:
    """``min over pairs (A, B), a in A, b in B of abs(a + b - t)`` for each t, by one sorted search per target."""
    seconds = targets.size * sum(small.size for small, _ in sides) * _SECONDS_PER_SEARCH
    checks.too_much_work(
        seconds,
        _WARN_SECONDS,
        _MAX_SECONDS,
        f"searching every subset sum for each of {targets.size} targets far from them",
        "use fewer values or fewer targets",
    )
    best = np.full(targets.size, np.inf)
    for small, large in sides:
        step = max(1, _CHUNK // small.size)
        for start in range(0, targets.size, step):
            t = targets[start : start + step, None]
            idx = np.searchsorted(large, t - small[None, :])
            hi = large[np.minimum(idx, large.size - 1)]
            lo = large[np.maximum(idx - 1, 0)]
            err = np.minimum(np.abs(small + hi - t), np.abs(small + lo - t)).min(axis=1)
            best[start : start + step] = np.minimum(best[start : start + step], err)
    return best


def _run_candidates(sides: Sequence[tuple[np.ndarray, np.ndarray]], low: float, high: float) -> np.ndarray | None:
    """Sorted pair sums that contain the nearest one to every t in [low, high]; None if there are too many.

    They are all pair sums inside [low, high] plus the largest one below low
    and the smallest one above high: a nearest sum outside the interval can
    be no farther than those two. Two sorted searches per side pair, whatever
    the number of targets.
    """
    inside, below, above, total = [], -np.inf, np.inf, 0
    for small, large in sides:
        i0 = np.searchsorted(large, low - small, side="left")
        i1 = np.searchsorted(large, high - small, side="right")
        has = i0 > 0
        if has.any():
            below = max(below, float((small[has] + large[i0[has] - 1]).max()))
        has = i1 < large.size
        if has.any():
            above = min(above, float((small[has] + large[i1[has]]).min()))
        c = i1 - i0
        total += int(c.sum())
        if total > _MAX_INSIDE:
            return None
        keep = np.flatnonzero(c)
        inside.append(_slice_sums(small[keep], large, i0[keep], c[keep]))
    cand = np.concatenate([*inside, [below, above]])
    return np.sort(cand[np.isfinite(cand)])


def _settle_open(pairs: Sequence[tuple[HalfSums, HalfSums]], targets: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """Exact errors of ``targets[open_]`` (ascending indices), the targets no window pair settled.

    A run of three or more consecutive open targets usually lies in a stretch
    with few pair sums (far from the sums, or beyond them): it is settled at
    once from the sums inside it and its two nearest outside
    (:func:`_run_candidates`). Short runs, and runs with too many sums
    inside, get one sorted search per target.
    """
    sides = _sides(pairs)
    out = np.empty(open_.size)
    starts = np.flatnonzero(np.diff(open_, prepend=-2) != 1)
    stops = np.r_[starts[1:], open_.size]
    single = np.zeros(open_.size, dtype=bool)
    for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
        run = targets[open_[s:e]]
        cand = _run_candidates(sides, float(run[0]), float(run[-1])) if e - s >= 3 else None
        if cand is None:
            single[s:e] = True
            continue
        idx = np.searchsorted(cand, run)
        hi = cand[np.minimum(idx, cand.size - 1)]
        lo = cand[np.maximum(idx - 1, 0)]
        out[s:e] = np.minimum(np.abs(hi - run), np.abs(lo - run))
    if single.any():
        out[single] = _exact_targets(sides, targets[open_[single]])
    return out


def _window_pass(
    first: HalfSums, second: HalfSums, low: float, step: float, targets: np.ndarray, delta: float, best: np.ndarray
) -> None:
    """Lower ``best`` to the exact error of every target that some pair hits within ``delta`` steps.

    A pair (a, b) lies within delta*step of a grid point iff the phases
    frac((a - low)/step) and frac(b/step) add up to within delta of an integer.
    Sorting B by phase turns "all such b for this a" into one contiguous slice,
    and sorting A by the phase it needs makes the searches sequential. The
    number of such pairs is known before they are listed; values that put a
    great many sums on the grid points themselves (multiples of the grid step)
    are refused or warned about with that number.
    """
    if first.size > second.size:  # the searches are over the larger side; the pair sum is symmetric
        first, second = second, first
    scale = 1.0 / step
    want, a = first.by_phase(scale, -1.0, low * scale)  # the phase of b that completes a to a grid point
    phase_b, b = second.by_phase(scale, 1.0, 0.0)
    size = max(np.abs(a).max(), 1.0) + max(np.abs(b).max(), 1.0) + abs(low) + abs(targets[-1])
    margin = 1e-9 + 64 * np.finfo(np.float64).eps * size * scale
    width = delta + margin
    # Wrap around the circle: copies of the phases near 0 and 1, shifted by one turn.
    head, tail = np.searchsorted(phase_b, width), np.searchsorted(phase_b, 1.0 - width)
    phase_ext = np.concatenate([phase_b[tail:] - 1.0, phase_b, phase_b[:head] + 1.0])
    b_ext = np.concatenate([b[tail:], b, b[:head]])
    lo = np.searchsorted(phase_ext, want - width, side="left")
    counts = np.searchsorted(phase_ext, want + width, side="right") - lo
    keep = np.flatnonzero(counts)
    lo, counts, a = lo[keep], counts[keep], a[keep]
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    checks.too_much_work(
        total * _SECONDS_PER_CANDIDATE,
        _WARN_SECONDS,
        _MAX_SECONDS,
        f"checking {total:.2g} subset sums that lie on or next to the target grid",
        "use fewer values, or values that are not multiples of the grid step",
    )
    cuts = np.searchsorted(ends, np.arange(_CHUNK, total, _CHUNK), side="right")
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, a.size], strict=True):
        if e <= s:
            continue
        sums = _slice_sums(a[s:e], b_ext, lo[s:e], counts[s:e])
        j = np.rint((sums - low) * scale).astype(np.int64)
        ok = (j >= 0) & (j < targets.size)
        j = j[ok]
        np.minimum.at(best, j, np.abs(sums[ok] - targets[j]))


def grid_errors_from_halves(
    pairs: Sequence[tuple[HalfSums | np.ndarray, HalfSums | np.ndarray]],
    num_targets: int = 2001,
    low: float = -1.0,
    high: float = 1.0,
) -> np.ndarray:
    """Exact ``min over pairs (A, B), a in A, b in B of abs(a + b - t_j)`` on a uniform grid t_j.

    This is the engine: plain subset sum passes one pair (the sums of the two
    halves), the fixed-size variant one pair per split of the size between the
    halves; each side is a :class:`HalfSums` or a plain array of sums. A window
    wide enough for about 32 candidate pairs per target settles almost every
    target in one pass; the targets it leaves open (no pair within the window)
    are solved exactly by ``_settle_open``. Work that would take more
    than a few seconds is announced with an estimate (a RuntimeWarning), and
    work beyond half an hour is refused.
    """
    num_targets = _check_grid(num_targets, low, high)
    low, high = float(low), float(high)
    pairs = [tuple(x if isinstance(x, HalfSums) else HalfSums(sums=x) for x in pair) for pair in pairs]
    pairs = [(a, b) for a, b in pairs if a.size and b.size]
    if not pairs:
        raise ConfigError("every pair of half-sum lists is empty: pass at least one non-empty pair.")
    targets = np.linspace(low, high, num_targets)
    best = np.full(num_targets, np.inf)
    open_ = np.arange(num_targets)
    if num_targets > 1:
        step = (high - low) / (num_targets - 1)
        rng = np.random.default_rng(0)  # only to estimate how many pair sums fall near the targets
        useful = 0.0
        for a, b in pairs:
            probe = a.sample(rng, 4096) + b.sample(rng, 4096)
            useful += a.size * float(b.size) * np.mean((probe >= low - step) & (probe <= high + step))
        delta = _WINDOW_HITS * num_targets / (2 * useful) if useful > 0 else np.inf
        if delta <= _MAX_WINDOW:
            for a, b in pairs:
                _window_pass(a, b, low, step, targets, delta, best)
            open_ = np.flatnonzero(best > delta * step)
    if open_.size:
        best[open_] = _settle_open(pairs, targets, open_)
    return best


def halves(values: np.ndarray) -> tuple[HalfSums, HalfSums]:
    """The subset sums of the first and the second half of ``values``."""
    mid = values.size // 2
    return HalfSums(values=values[:mid]), HalfSums(values=values[mid:])


def grid_errors(
    values: np.ndarray | Sequence[float], num_targets: int = 2001, low: float = -1.0, high: float = 1.0
) -> np.ndarray:
    """The exact best-subset error at each of ``num_targets`` evenly spaced targets in [low, high].

    Works for ``n <= MAX_EXACT`` values (40 values and 2001 targets take well under a second).
    """
    x = _as_values(values, MAX_EXACT, "meet-in-the-middle")
    return grid_errors_from_halves([halves(x)], num_targets, low, high)


def best_subsets(values: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the subset of ``values[p]`` whose sum is closest to ``targets[p]``.

    Batched exact meet-in-the-middle (``torch.searchsorted`` searches each row
    in its own sorted half-sums). Integer inputs are solved in exact integer
    arithmetic, which is what the quantized constructions rely on; they must
    stay below 2^62 in size (every row's sum of absolute values plus its
    target), so that no intermediate sum can wrap around.
    Returns the errors ``abs(sum - target)`` (P,) and the boolean masks (P, s).
    """
    vals = np.asarray(values)
    t = np.asarray(targets)
    if vals.ndim != 2 or t.shape != (vals.shape[:1]):
        raise ConfigError("best_subsets takes values of shape (P, s) and targets of shape (P,): reshape the inputs.")
    if vals.shape[1] > MAX_BATCH_VALUES:
        raise ConfigError(
            f"{vals.shape[1]} values per problem is more than best_subsets handles "
            f"(at most {MAX_BATCH_VALUES}): use fewer values per problem."
        )
    integer = vals.dtype.kind in "iuO" and t.dtype.kind in "iuO"
    if integer:
        vals, t = checks.integers(vals, "the values"), checks.integers(t, "the targets")
        reach = np.abs(vals.astype(np.float64)).sum(axis=1) + np.abs(t.astype(np.float64))
        if reach.size and reach.max() >= checks.INT64_SAFE:
            raise ConfigError(
                f"integer values and targets reaching {reach.max():.3g} in size (sum of absolute values plus "
                "the target) would overflow exact 64-bit arithmetic: keep them below 2^62 or pass floats."
            )
    else:
        vals, t = checks.floats(vals, "the values"), checks.floats(t, "the targets")
    dtype = torch.int64 if integer else torch.float64
    problems, s = vals.shape
    h1 = s // 2
    bits1 = (np.arange(1 << h1)[:, None] >> np.arange(h1)) & 1
    bits2 = (np.arange(1 << (s - h1))[:, None] >> np.arange(s - h1)) & 1
    b1 = torch.as_tensor(bits1, dtype=dtype)
    b2 = torch.as_tensor(bits2, dtype=dtype)
    errors = np.empty(problems, dtype=np.int64 if integer else np.float64)
    masks = np.zeros((problems, s), dtype=bool)
    step = max(1, _CHUNK // (bits1.shape[0] + bits2.shape[0]))
    for start in range(0, problems, step):
        v = torch.as_tensor(vals[start : start + step], dtype=dtype)
        tt = torch.as_tensor(t[start : start + step], dtype=dtype)[:, None]
        left = v[:, :h1] @ b1.T if h1 else torch.zeros(len(v), 1, dtype=dtype)
        right, order = torch.sort(v[:, h1:] @ b2.T, dim=1)
        idx = torch.searchsorted(right, tt - left)
        hi = idx.clamp(max=right.shape[1] - 1)
        lo = (idx - 1).clamp(min=0)
        err_hi = (left + right.gather(1, hi) - tt).abs()
        err_lo = (left + right.gather(1, lo) - tt).abs()
        use_hi = err_hi <= err_lo
        err = torch.where(use_hi, err_hi, err_lo)
        best_err, best_left = err.min(dim=1)
        pos = torch.where(use_hi, hi, lo).gather(1, best_left[:, None])[:, 0]
        best_right = order.gather(1, pos[:, None])[:, 0]
        errors[start : start + step] = best_err.numpy()
        masks[start : start + step, :h1] = bits1[best_left.numpy()].astype(bool)
        masks[start : start + step, h1:] = bits2[best_right.numpy()].astype(bool)
    return errors, masks


def worst_errors_by_width(
    widths: Sequence[int],
    draws: int,
    *,
    seed: int = 0,
    metric: Literal["grid", "continuum"] = "grid",
    num_targets: int = 2001,
    low: float = -1.0,
    high: float = 1.0,
    progress: bool = True,
) -> np.ndarray:
    """Worst error over [low, high] for ``draws`` independent U[-1, 1] samples, at each width.

    Each draw is one sequence of samples and width n uses its first n (the
    sequences depend only on the seed, not on the widths), so the error is
    non-increasing in n within a draw (a smaller sample's subsets are
    subsets of the larger one). ``metric="grid"`` takes the worst of
    ``num_targets`` grid targets (n <= MAX_EXACT); ``"continuum"`` the supremum
    over the whole interval (n <= MAX_ENUMERATE). Returns an array (draws, len(widths)).
    """
    if metric not in ("grid", "continuum"):
        raise ConfigError(f"metric={metric!r} is unknown: use 'grid' or 'continuum'.")
    limit = MAX_EXACT if metric == "grid" else MAX_ENUMERATE
    widths = checks.counts(widths, "widths")
    if widths.max() > limit:
        raise ConfigError(f"widths must lie in 0..{limit} for metric={metric!r}: drop the larger widths.")
    draws = checks.count(draws, "draws", 1)
    num_targets = _check_grid(num_targets, low, high)
    rng = np.random.default_rng(seed)
    out = np.empty((draws, widths.size))
    for d in tqdm(range(draws), desc=f"subset sum ({metric})", disable=not progress):
        x = rng.uniform(-1.0, 1.0, MAX_EXACT)  # a fixed length: the same seed gives the same samples
        if metric == "continuum":
            out[d] = prefix_continuum_errors(x[: widths.max()], low, high)[widths]
        else:
            out[d] = [grid_errors(x[:n], num_targets, low, high).max() for n in widths]
    return out


def success_probability(errors: np.ndarray, eps: np.ndarray | Sequence[float] | float) -> np.ndarray:
    """Fraction of draws (axis -2) whose worst error is at most each eps: shape (len(eps), widths)."""
    e = np.atleast_1d(checks.floats(eps, "eps")).ravel()
    return (np.asarray(errors)[None] <= e[:, None, None]).mean(axis=1)


def width_needed(
    widths: Sequence[int], errors: np.ndarray, eps: np.ndarray | Sequence[float] | float, level: float = 0.5
) -> np.ndarray:
    """The smallest width at which at least ``level`` of the draws reach error <= eps (NaN if none does).

    With ``level=0.5`` this is the median over draws of the first width that
    works, because the errors are non-increasing along each draw.
    """
    w = checks.floats(widths, "widths").ravel()
    level = checks.fraction(level, "level")
    if np.ndim(errors) != 2 or np.shape(errors)[1] != w.size:
        raise ConfigError("errors must have one row per draw and one column per width: pass an array (draws, widths).")
    ok = success_probability(errors, eps) >= level
    first = np.argmax(ok, axis=1)
    return np.where(ok.any(axis=1), w[first], np.nan)


@dataclass(frozen=True)
class LogLawFit:
    """n ~ c * log2(1/eps) through the origin, and n ~ slope * log2(1/eps) + intercept."""

    c: float
    slope: float
    intercept: float


def fit_log2_law(eps: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float]) -> LogLawFit:
    """Least-squares fits of the width needed against log2(1/eps) (NaN widths are ignored)."""
    e = checks.floats(eps, "eps").ravel()
    try:
        y = np.asarray(n, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConfigError("the widths n must be numbers (NaN for 'not reached'): pass an array of floats.") from None
    checks.same_length(e, y, "eps and n")
    if np.any(e <= 0):
        raise ConfigError("every eps must be positive (log2(1/eps) is undefined otherwise): drop eps <= 0.")
    x = np.log2(1.0 / e)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if np.unique(x).size < 2:
        raise ConfigError(
            "fitting the log law needs finite widths at two or more distinct eps: widen the range of eps."
        )
    c = float(x @ y / (x @ x))
    slope, intercept = np.polyfit(x, y, 1)
    return LogLawFit(c, float(slope), float(intercept))
