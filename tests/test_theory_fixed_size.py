"""Fixed-size subset sum against brute force over every k-subset."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory.fixed_size import (
    binary_entropy,
    fit_rfss_constant,
    fixed_size_errors_by_width,
    fixed_size_grid_errors,
    fixed_size_sums,
    rfss_exponent,
)


def brute_k_sums(values, k) -> np.ndarray:
    return np.array([sum(c) for c in itertools.combinations(values, k)], dtype=float)


@st.composite
def instances(draw):
    values = draw(st.lists(st.floats(-1, 1), min_size=0, max_size=10))
    k = draw(st.integers(0, len(values)))
    return np.array(values, dtype=float), k


@settings(max_examples=60, deadline=None)
@given(instances(), st.integers(1, 30), st.floats(-2, 1), st.floats(0, 2))
def test_fixed_size_grid_errors_match_brute_force(instance, num_targets, low, width):
    values, k = instance
    targets = np.linspace(low, low + width, num_targets)
    sums = brute_k_sums(values, k)
    expected = np.abs(sums[None, :] - targets[:, None]).min(axis=1)
    np.testing.assert_allclose(fixed_size_grid_errors(values, k, num_targets, low, low + width), expected, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(14, 18), st.integers(0, 2**31))
def test_fixed_size_window_path_matches_brute_force(n, seed):
    # Many k-subsets per grid step: exercises the phase window over several size splits.
    values = np.random.default_rng(seed).uniform(-1, 1, n)
    k = n // 2
    targets = np.linspace(-1, 1, 7)
    sums = brute_k_sums(values, k)
    expected = np.abs(sums[None, :] - targets[:, None]).min(axis=1)
    np.testing.assert_allclose(fixed_size_grid_errors(values, k, 7), expected, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(instances())
def test_fixed_size_sums_list_every_k_subset(instance):
    values, k = instance
    got = fixed_size_sums(values, k)
    assert got.size == comb(len(values), k)
    np.testing.assert_allclose(got, np.sort(brute_k_sums(values, k)), atol=1e-12)


def test_errors_never_increase_with_width():
    errs = fixed_size_errors_by_width([4, 6, 8, 10], [2, 4], draws=3, num_targets=101, progress=False)
    assert not np.isnan(errs).any()  # every width is at least k (n = k = 4: the one full subset)
    assert np.all(np.diff(errs[0], axis=1) <= 1e-15)
    assert np.all(np.diff(errs[1], axis=1) <= 1e-15)


def test_entropy_and_exponent():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.0) == 0.0 and binary_entropy(1.0) == 0.0
    # n H2(k/n) is the exponent of C(n, k) up to O(log n)
    assert abs(rfss_exponent(40, 10) - np.log2(comb(40, 10))) < np.log2(40)
    # points lying exactly on n H2(k/n) = 2 log2(k/eps) give c = 2
    n, k = np.array([20.0, 30.0]), np.array([4.0, 6.0])
    eps = k / np.exp2(rfss_exponent(n, k) / 2)
    assert fit_rfss_constant(n, k, eps) == pytest.approx(2.0)


def test_bad_input_is_refused():
    with pytest.raises(ConfigError, match="subset size"):
        fixed_size_grid_errors([0.1, 0.2], 3)
    with pytest.raises(ConfigError, match="fixed_size_grid_errors"):
        fixed_size_sums(np.zeros(40), 20)
    with pytest.raises(ConfigError, match="at most 44"):
        fixed_size_errors_by_width([50], [2], 1, progress=False)


# --- inputs a solver cannot answer ---------------------------------------------------------------


def test_k_above_every_width_and_non_integer_sizes_are_refused():
    with pytest.raises(ConfigError, match="k=8 is larger than every width"):
        fixed_size_errors_by_width([4, 6], [2, 8], 1, progress=False)  # its row used to be all NaN
    with pytest.raises(ConfigError, match=r"ks=2\.5"):
        fixed_size_errors_by_width([4, 6], [2.5], 1, progress=False)
    with pytest.raises(ConfigError, match=r"widths=4\.5"):
        fixed_size_errors_by_width([4.5], [2], 1, progress=False)
    with pytest.raises(ConfigError, match=r"k=1\.5"):
        fixed_size_grid_errors([0.1, 0.2], 1.5)


def test_fit_rfss_constant_refuses_points_without_a_logarithm():
    with pytest.raises(ConfigError, match="eps > 0"):
        fit_rfss_constant([10.0, 12.0], [2.0, 2.0], [0.0, 0.1])
    with pytest.raises(ConfigError, match="shapes"):
        fit_rfss_constant([10.0, 12.0], [2.0], [0.1, 0.1])


@settings(max_examples=30, deadline=None)
@given(instances(), st.floats(3, 8), st.integers(1, 40))
def test_fixed_size_targets_far_from_the_sums_match_brute_force(instance, offset, num_targets):
    values, k = instance
    values = values + offset  # every k-subset sum is about k * offset: far from [-1, 1] unless k = 0
    targets = np.linspace(-1, 1, num_targets)
    sums = brute_k_sums(values, k)
    expected = np.abs(sums[None, :] - targets[:, None]).min(axis=1)
    np.testing.assert_allclose(fixed_size_grid_errors(values, k, num_targets), expected, atol=1e-12)
