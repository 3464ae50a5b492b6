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
