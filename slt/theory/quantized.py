"""Quantized subset sum: when does every grid target get hit *exactly*?

With weights on a grid of precision delta, samples become integers in [-M, M]
(M = 1/delta) and a quantized target can be represented exactly, not just
approximately. The question becomes combinatorial: the n samples' 2^n subset
sums must cover every target integer. Borgs, Chayes and Pittel (2001) located
the phase transition of the closely related number-partitioning problem at
kappa = log2(M) / n = 1 (their convention; more subsets than possible sums);
the quantized SLTH paper (Kumar and Natale) builds exact quantized tickets on
it, with bounds stated in terms of the precision of the target network.

The reachable sums are a bitset: adding a sample k is ``R |= R << k``, one
shift of a Python integer, so a whole draw costs n shifts of n*M bits. Coverage
only grows with n, so one pass per draw gives its *hitting time* (the first n
at which every target is hit) and with it P(all hit) at every n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError
from . import checks

MAX_BITS = 1 << 31  # largest bitset: 256 MiB


def _size(bits: int) -> str:
    size = bits / 8
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.3g} {unit}"
        size /= 1024
    raise AssertionError  # unreachable


def _check_bits(bits: int, what: str, fix: str) -> None:
    """Refuse a reachable-sum bitset larger than MAX_BITS, naming its size, before allocating anything."""
    if bits > MAX_BITS:
        raise ConfigError(
            f"the reachable-sum bitset would need {bits:.3g} bits ({_size(bits)}) for {what}, more than the "
            f"limit of 2^{MAX_BITS.bit_length() - 1} bits ({_size(MAX_BITS)}): {fix}."
        )


def _check(max_abs: int, n: int, step: int) -> tuple[int, int, int]:
    """The precision M, width n and target step as ints, refusing draws whose bitset could exceed MAX_BITS."""
    max_abs, step = checks.count(max_abs, "max_abs", 1), checks.count(step, "step", 1)
    n = checks.count(n, "n", 0)
    # n samples in [-M, M] reach at most n*M in either direction: the bitset spans n*M + 1 bits at most.
    _check_bits(
        n * max_abs + 1, f"n={n} samples in [-M, M] with M={max_abs}", "lower the precision (M) or the width (n)"
    )
    return max_abs, n, step


def _bitset(ints: np.ndarray) -> tuple[int, int]:
    """The reachable sums as a Python int (bit ``s + offset`` set iff s is a subset sum) and the offset.

    The offset is the most negative possible sum, so no shift ever drops a
    reachable bit off the low end.
    """
    offset = int(-ints[ints < 0].sum())
    reach = 1 << offset
    for k in ints.tolist():
        reach |= reach << k if k >= 0 else reach >> -k
    return reach, offset


def _comb(count: int, step: int) -> int:
    """An int with ``count`` set bits, at 0, step, 2 step, ... (built by doubling: no array of the full width)."""
    out, pos, block, size = 0, 0, 1, 1
    while count:
        if count & 1:
            out |= block << (pos * step)
            pos += size
        count >>= 1
        if count:
            block |= block << (size * step)
            size *= 2
    return out


def _target_mask(max_abs: int, step: int) -> int:
    """Bits at t + max_abs for the targets t = -max_abs, ..., max_abs that are multiples of step."""
    m = max_abs // step
    return _comb(2 * m + 1, step) << (max_abs - m * step)


def _extremes(x: np.ndarray) -> tuple[int, int]:
    """Minus the most negative and the most positive subset sum, as exact Python ints."""
    return -sum(v for v in x.tolist() if v < 0), sum(v for v in x.tolist() if v > 0)


def _sample_ints(ints: object, max_abs: int | None = None) -> tuple[np.ndarray, int, int]:
    """Integer samples as int64 (refusing non-integers), with minus their most negative and their most positive sum.

    With ``max_abs`` it first drops, exactly, every sample that no subset with
    a sum in [-max_abs, max_abs] can contain: a v > max_abs + (the negatives'
    total) always overshoots, and likewise on the other side.
    """
    x = checks.integers(ints, "the samples").ravel()
    neg, pos = _extremes(x)
    while max_abs is not None:
        keep = np.array([-(max_abs + pos) <= v <= max_abs + neg for v in x.tolist()], dtype=bool)
        if keep.all():
            break
        x = x[keep]
        neg, pos = _extremes(x)
    _check_bits(
        neg + pos + 1, f"samples whose absolute values add up to {neg + pos}", "use smaller integers or fewer of them"
    )
    return x, neg, pos


def reachable_sums(ints: np.ndarray | Sequence[int]) -> np.ndarray:
    """All distinct subset sums of integer samples, sorted (for checks and small examples)."""
    x, _, _ = _sample_ints(ints)
    reach, offset = _bitset(x)
    bits = np.unpackbits(
        np.frombuffer(reach.to_bytes((reach.bit_length() + 7) // 8, "little"), np.uint8), bitorder="little"
    )
    return np.flatnonzero(bits).astype(np.int64) - offset


def all_targets_hit(ints: np.ndarray | Sequence[int], max_abs: int, step: int = 1) -> bool:
    """Whether every multiple of ``step`` in [-max_abs, max_abs] is exactly a subset sum of ``ints``.

    The bitset is sized by the samples (the sum of their absolute values),
    after dropping the samples no subset reaching [-max_abs, max_abs] can
    use; targets beyond the most negative or most positive subset sum answer
    False at once, so a large ``max_abs`` costs nothing.
    """
    max_abs, step = checks.count(max_abs, "max_abs", 1), checks.count(step, "step", 1)
    x, neg, pos = _sample_ints(ints, max_abs)
    m = max_abs // step  # the targets are -m*step, ..., m*step
    if m == 0:
        return True  # the only target is 0: the empty subset
    if m * step > min(neg, pos):
        return False  # the extreme targets lie beyond every subset sum
    reach, offset = _bitset(x)
    mask = _comb(2 * m + 1, step)
    return (reach >> (offset - m * step)) & mask == mask


def hitting_times(
    max_abs: int, n_max: int, draws: int, *, step: int = 1, seed: int = 0, progress: bool = True
) -> np.ndarray:
    """For each draw of i.i.d. uniform integers in [-M, M], the first n at which all targets are hit.

    Targets are the multiples of ``step`` in [-M, M] (target precision
    step * delta). A draw that never covers them within ``n_max`` samples gets
    ``n_max + 1``. Coverage is monotone in n, so P(all hit at n) is
    ``mean(times <= n)`` for every n at once.
    """
    max_abs, n_max, step = _check(max_abs, n_max, step)
    draws = checks.count(draws, "draws", 1)
    n_targets = 2 * (max_abs // step) + 1
    first_possible = int(np.ceil(np.log2(n_targets)))  # 2^n subsets cannot hit more targets than that
    mask = _target_mask(max_abs, step)
    rng = np.random.default_rng(seed)
    if n_targets == 1:  # the only target is 0, which the empty subset hits
        return np.zeros(draws, dtype=np.int64)
    times = np.full(draws, n_max + 1, dtype=np.int64)
    for d in tqdm(range(draws), desc=f"exact hits (M={max_abs})", disable=not progress):
        ints = rng.integers(-max_abs, max_abs, n_max, endpoint=True)
        offset = int(-ints[ints < 0].sum())  # the most negative sum of the whole draw
        reach = 1 << offset
        for n, k in enumerate(ints.tolist(), start=1):
            reach |= reach << k if k >= 0 else reach >> -k
            if n >= first_possible:
                shift = offset - max_abs
                window = reach >> shift if shift >= 0 else reach << -shift
                if window & mask == mask:
                    times[d] = n
                    break
    return times


def hit_probability(times: np.ndarray, widths: np.ndarray | Sequence[int]) -> np.ndarray:
    """P(all targets hit exactly with n samples) for each n in ``widths``, from hitting times."""
    return (np.asarray(times)[None, :] <= np.asarray(widths)[:, None]).mean(axis=1)


def kappa(n: np.ndarray | float, max_abs: np.ndarray | float) -> np.ndarray:
    """kappa = log2(M) / n, the control parameter in Borgs, Chayes and Pittel's convention (samples up to M).

    The quantized SLTH paper does not define a kappa; this is the number-partitioning one.
    """
    return np.log2(np.asarray(max_abs, dtype=np.float64)) / np.asarray(n, dtype=np.float64)


def poisson_prediction(n: np.ndarray | Sequence[int], max_abs: int, step: int = 1) -> np.ndarray:
    """A first-moment (Poisson) heuristic for P(all targets hit) -- not a theorem.

    A random subset's sum is roughly N(0, n M (M + 1) / 6), so target t is hit
    by about mu(t) = 2^n * density(t) subsets; treating the hits as independent
    Poisson counts gives P(all hit) ~ exp(-sum_t exp(-mu(t))).
    """
    n = checks.counts(n, "n").astype(np.float64)
    max_abs, step = checks.count(max_abs, "max_abs", 1), checks.count(step, "step", 1)
    t = np.arange(-(max_abs // step), max_abs // step + 1) * float(step)
    var = n[:, None] * max_abs * (max_abs + 1) / 6.0
    log2_mu = n[:, None] - 0.5 * np.log2(2 * np.pi * var) - t[None, :] ** 2 / (2 * var) / np.log(2)
    mu = np.exp2(np.minimum(log2_mu, 60.0))
    return np.exp(-np.exp(-mu).sum(axis=1))


def width_needed_vs_bits(
    bits: Sequence[int],
    draws: int,
    *,
    target_bits: int | None = None,
    level: float = 0.5,
    seed: int = 0,
    progress: bool = True,
) -> np.ndarray:
    """Smallest n with P(all targets hit exactly) >= level, for sample precision delta = 2^-b.

    Targets have precision 2^-target_bits (coarser or equal: ``target_bits <= b``);
    ``None`` means the same precision as the samples. Each precision searches
    n up to 4 b + 16; a width beyond that is reported as 4 b + 17.
    """
    bits = checks.counts(bits, "bits", 0, 30)
    draws, level = checks.count(draws, "draws", 1), checks.fraction(level, "level")
    if target_bits is not None:
        target_bits = checks.count(target_bits, "target_bits", 0)
    for b in bits.tolist():  # refuse the largest bitset before drawing anything
        _check(2**b, 4 * b + 16, 1)
    out = np.empty(len(bits))
    for i, b in enumerate(tqdm(bits.tolist(), desc="precisions", disable=not progress)):
        tb = b if target_bits is None else min(target_bits, b)
        times = hitting_times(2**b, 4 * b + 16, draws, step=2 ** (b - tb), seed=seed, progress=False)
        out[i] = float(np.quantile(times, level, method="inverted_cdf"))
    return out
