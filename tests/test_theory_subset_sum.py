"""The exact subset-sum solvers against brute force over every subset."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory.subset_sum import (
    MAX_ENUMERATE,
    MAX_EXACT,
    HalfSums,
    all_sums,
    best_subsets,
    continuum_worst_error,
    fit_log2_law,
    grid_errors,
    prefix_continuum_errors,
    subset_sums,
    success_probability,
    width_needed,
    worst_errors_by_width,
)

floats = st.floats(-1.0, 1.0, allow_nan=False, width=64)


def brute_sums(values: np.ndarray) -> np.ndarray:
    return np.array([sum(c) for r in range(len(values) + 1) for c in itertools.combinations(values, r)])


def brute_errors(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    s = brute_sums(values)
    return np.abs(s[None, :] - targets[:, None]).min(axis=1)


@settings(max_examples=60, deadline=None)
@given(st.lists(floats, min_size=0, max_size=9), st.integers(1, 40), st.floats(-2, 2), st.floats(0, 3))
def test_grid_errors_match_brute_force(values, num_targets, low, width):
    x = np.array(values)
    targets = np.linspace(low, low + width, num_targets)
    np.testing.assert_allclose(grid_errors(x, num_targets, low, low + width), brute_errors(x, targets), atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(12, 16), st.integers(2, 9), st.integers(0, 2**31))
def test_phase_window_path_matches_brute_force(n, num_targets, seed):
    # Many sums per grid step: the phase window (not the one-by-one fallback) settles the targets.
    x = np.random.default_rng(seed).uniform(-1, 1, n)
    targets = np.linspace(-1, 1, num_targets)
    np.testing.assert_allclose(grid_errors(x, num_targets), brute_errors(x, targets), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(floats, min_size=0, max_size=10), st.floats(1, 1e4), st.sampled_from([1.0, -1.0]), st.floats(-5, 5))
def test_incremental_phase_sort_matches_a_full_sort(values, scale, sign, shift):
    x = np.array(values)
    phase, sums = HalfSums(values=x).by_phase(scale, sign, shift)
    assert np.all(np.diff(phase) >= 0)
    np.testing.assert_array_equal(np.sort(sums), np.sort(all_sums(x)))  # the very same float sums
    expected = np.mod(sign * sums * scale + shift, 1.0)
    circular = np.minimum(np.abs(phase - expected), 1 - np.abs(phase - expected))
    assert circular.max() < 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(floats, min_size=0, max_size=9), st.floats(-1.5, 0.5), st.floats(0, 2))
def test_continuum_worst_error_is_the_supremum(values, low, width):
    x = np.array(values)
    high = low + width
    sums = np.sort(brute_sums(x))
    worst = continuum_worst_error(sums, low, high)
    # The supremum is attained at an end or at a midpoint of two consecutive sums: check all of them.
    cands = np.concatenate([[low, high], (sums[:-1] + sums[1:]) / 2])
    cands = cands[(cands >= low) & (cands <= high)]
    assert worst == pytest.approx(brute_errors(x, cands).max(), abs=1e-12)
    # and no target on a fine grid does worse
    assert brute_errors(x, np.linspace(low, high, 501)).max() <= worst + 1e-12


@settings(max_examples=25, deadline=None)
@given(st.lists(floats, min_size=0, max_size=8))
def test_prefix_errors_match_each_prefix_and_never_increase(values):
    x = np.array(values)
    prefix = prefix_continuum_errors(x)
    for n in range(len(x) + 1):
        assert prefix[n] == pytest.approx(continuum_worst_error(np.sort(brute_sums(x[:n]))), abs=1e-12)
    assert np.all(np.diff(prefix) <= 1e-15)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 12), st.integers(0, 2**31), st.booleans())
def test_best_subsets_match_brute_force(problems, s, seed, integer):
    rng = np.random.default_rng(seed)
    if integer:
        values, targets = rng.integers(-50, 50, (problems, s)), rng.integers(-100, 100, problems)
    else:
        values, targets = rng.uniform(-1, 1, (problems, s)), rng.uniform(-2, 2, problems)
    errors, masks = best_subsets(values, targets)
    for p in range(problems):
        best = brute_errors(values[p].astype(float), np.array([float(targets[p])]))[0]
        assert errors[p] == pytest.approx(best, abs=1e-12)
        assert abs(values[p][masks[p]].sum() - targets[p]) == pytest.approx(errors[p], abs=1e-12)
    if integer:
        assert errors.dtype.kind == "i"


def test_subset_sums_are_all_sums_sorted():
    x = np.array([0.5, -0.25, 0.125])
    np.testing.assert_allclose(subset_sums(x), np.sort(brute_sums(x)))


def test_known_worst_case():
    # Sums of {1/2, 1/4} are 0, 1/4, 1/2, 3/4: the worst target in [-1, 1] is -1 (distance 1).
    x = np.array([0.5, 0.25])
    assert continuum_worst_error(subset_sums(x)) == pytest.approx(1.0)
    assert continuum_worst_error(subset_sums(x), 0.0, 0.75) == pytest.approx(0.125)
    assert grid_errors(x, 9).max() == pytest.approx(1.0)


def test_width_statistics():
    errors = np.array([[1.0, 0.1, 0.01], [1.0, 0.2, 0.01], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(success_probability(errors, [0.05, 0.5]), [[0, 0, 2 / 3], [0, 2 / 3, 2 / 3]])
    np.testing.assert_allclose(width_needed([1, 2, 3], errors, [0.5, 0.05, 1e-3]), [2, 3, np.nan])
    fit = fit_log2_law([0.5, 0.25, 0.125], [2.0, 4.0, 6.0])
    assert fit.c == pytest.approx(2.0) and fit.slope == pytest.approx(2.0) and fit.intercept == pytest.approx(0.0)


def test_worst_errors_by_width_agree_between_metrics():
    # Different width lists, same seed: the same samples, so the grid (a subset of the targets)
    # never reports a larger worst error than the continuum.
    grid = worst_errors_by_width([0, 4, 8, 12], 3, seed=1, num_targets=4001, progress=False)
    cont = worst_errors_by_width([0, 4, 8], 3, seed=1, metric="continuum", progress=False)
    assert np.all(grid[:, :3] <= cont + 1e-12)
    assert np.all(np.diff(grid, axis=1) <= 0)


def test_bad_input_is_refused_before_work():
    with pytest.raises(ConfigError, match="at most 44"):
        grid_errors(np.zeros(MAX_EXACT + 1))
    with pytest.raises(ConfigError, match="at most 22"):
        subset_sums(np.zeros(MAX_ENUMERATE + 1))
    with pytest.raises(ConfigError, match="num_targets"):
        grid_errors([0.5], num_targets=0)
    with pytest.raises(ConfigError, match="widths"):
        worst_errors_by_width([30], 1, metric="continuum", progress=False)
    with pytest.raises(ConfigError, match="NaN"):
        grid_errors([np.nan])


# --- inputs a solver cannot answer, and work that would explode ---------------------------------


def test_best_subsets_refuses_integers_that_would_overflow():
    # int64 arithmetic used to wrap around here and report an error of 5 (the true one is ~9.2e18).
    with pytest.raises(ConfigError, match="overflow exact 64-bit"):
        best_subsets([[2**62, 2**62]], [-(2**63) + 5])
    with pytest.raises(ConfigError, match="64-bit"):
        best_subsets([[2**70, 1]], [3])
    with pytest.raises(ConfigError, match="finite"):
        best_subsets([[np.nan, 1.0]], [3.0])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-(2**56), 2**56), min_size=0, max_size=10), st.integers(-(2**57), 2**57))
def test_best_subsets_are_exact_for_large_integers(values, target):
    # Python integers as the reference: no rounding, no wrap-around.
    errors, masks = best_subsets(np.array([values], dtype=np.int64).reshape(1, -1), np.array([target]))
    sums = [sum(c) for r in range(len(values) + 1) for c in itertools.combinations(values, r)]
    assert int(errors[0]) == min(abs(s - target) for s in sums)
    assert abs(sum(v for v, m in zip(values, masks[0], strict=True) if m) - target) == int(errors[0])


def test_continuum_worst_error_refuses_unsorted_and_empty_sums():
    sums = np.array([0.8, -1.0, 1.0, -0.1])  # sorted, the gaps are 0.9, 0.9, 0.2: the answer is 0.45
    assert continuum_worst_error(np.sort(sums)) == pytest.approx(0.45)
    with pytest.raises(ConfigError, match="not sorted"):
        continuum_worst_error(sums)
    with pytest.raises(ConfigError, match="empty"):
        continuum_worst_error(np.array([]))


def test_non_integer_counts_are_refused():
    with pytest.raises(ConfigError, match=r"widths=2\.7 is not a whole number"):
        worst_errors_by_width([2.7], 1, progress=False)  # used to run width 2
    with pytest.raises(ConfigError, match=r"draws=2\.5"):
        worst_errors_by_width([2], 2.5, progress=False)  # used to raise TypeError in numpy
    with pytest.raises(ConfigError, match=r"num_targets=2\.5"):
        grid_errors([0.1], num_targets=2.5)


def test_fit_log2_law_refuses_eps_it_cannot_take_the_log_of(capfd):
    with pytest.raises(ConfigError, match="positive"):
        fit_log2_law([0.1, 0.0, -1.0], [3.0, 4.0, 5.0])  # used to print LAPACK messages and raise LinAlgError
    with pytest.raises(ConfigError, match="two or more distinct eps"):
        fit_log2_law([0.1, 0.1], [3.0, 4.0])
    with pytest.raises(ConfigError, match="shapes"):
        fit_log2_law([0.1, 0.01], [3.0])
    assert capfd.readouterr().out == ""


@st.composite
def far_instances(draw):
    """Values whose sums sit far from the targets, or crowd a tiny part of the interval."""
    n = draw(st.integers(0, 11))
    kind = draw(st.sampled_from(["offset", "tiny", "aligned"]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    if kind == "offset":
        x = rng.uniform(5, 6, n) * draw(st.sampled_from([1.0, -1.0]))
    elif kind == "tiny":
        x = rng.uniform(-1, 1, n) * 10.0 ** draw(st.integers(-12, -3))
    else:
        x = rng.integers(-20, 20, n) * 0.05
    return x


@settings(max_examples=60, deadline=None)
@given(far_instances(), st.integers(1, 80), st.floats(-3, 1), st.floats(0, 3))
def test_targets_far_from_the_sums_match_brute_force(x, num_targets, low, width):
    targets = np.linspace(low, low + width, num_targets)
    np.testing.assert_allclose(grid_errors(x, num_targets, low, low + width), brute_errors(x, targets), atol=1e-12)


def test_values_far_from_the_grid_are_settled_without_a_search_per_target(monkeypatch):
    # These took over 90 s at n = 44 (one sorted search of 2^22 half-sums per target); the answers
    # are known in closed form: every sum is 0 or at least 5 (U[5, 6]), or lies in [0, 44e-9].
    import slt.theory.subset_sum as ss

    searched = []
    original = ss._exact_targets
    monkeypatch.setattr(ss, "_exact_targets", lambda sides, t: searched.append(t.size) or original(sides, t))
    targets = np.linspace(-1, 1, 2001)
    x = np.random.default_rng(0).uniform(5, 6, MAX_EXACT)
    np.testing.assert_allclose(grid_errors(x), np.abs(targets), atol=1e-15)
    tiny = np.full(40, 1e-9)
    expected = np.where(targets <= 0, -targets, targets - tiny.sum())
    np.testing.assert_allclose(grid_errors(tiny), expected, atol=1e-15)
    assert sum(searched) <= 4


def test_explosive_work_is_estimated_then_refused_or_warned(monkeypatch):
    import warnings

    import slt.theory.subset_sum as ss

    # Multiples of the grid step put 2^36 sums on the grid points: about an hour of listing.
    aligned = np.random.default_rng(0).integers(-50, 50, 36) * 0.002
    with pytest.raises(ConfigError, match="on or next to the target grid would take about"):
        grid_errors(aligned)
    aligned = aligned[:30]  # about a minute: warned about, and stopped here by turning the warning into an error
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="will take about"):
            grid_errors(aligned)
    # The per-target search, when nothing cheaper applies, is estimated too.
    monkeypatch.setattr(ss, "_MAX_INSIDE", -1)
    monkeypatch.setattr(ss, "_MAX_SECONDS", 1.0)
    with pytest.raises(ConfigError, match="each of 2001 targets far from them"):
        grid_errors(np.random.default_rng(0).uniform(5, 6, 40))
