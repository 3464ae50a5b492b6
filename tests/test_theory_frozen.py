"""Frozen subset sum: pruned values are gone, locked values always count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory.frozen import (
    FREE,
    LOCKED,
    PRUNED,
    draw_roles,
    frozen_grid_errors,
    frozen_prefix_errors,
    lemma_scaling,
    split_roles,
    width_needed_map,
)
from slt.theory.subset_sum import continuum_worst_error

roles_st = st.sampled_from([FREE, PRUNED, LOCKED])


def brute_frozen_sums(values: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """Sums of every subset that contains all locked and no pruned value."""
    sums = []
    for r in range(len(values) + 1):
        for c in itertools.combinations(range(len(values)), r):
            chosen = set(c)
            if any(roles[i] == PRUNED for i in chosen) or any(
                roles[i] == LOCKED and i not in chosen for i in range(len(values))
            ):
                continue
            sums.append(sum(values[i] for i in chosen))
    return np.array(sums)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-1, 1), roles_st), min_size=0, max_size=9),
    st.integers(1, 30),
)
def test_frozen_grid_errors_match_brute_force(pairs, num_targets):
    values = np.array([v for v, _ in pairs], dtype=float)
    roles = np.array([r for _, r in pairs], dtype=np.int8)
    targets = np.linspace(-1, 1, num_targets)
    sums = brute_frozen_sums(values, roles)
    expected = np.abs(sums[None, :] - targets[:, None]).min(axis=1)
    np.testing.assert_allclose(frozen_grid_errors(values, roles, num_targets), expected, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 1), roles_st), min_size=0, max_size=8))
def test_frozen_prefix_errors_match_brute_force(pairs):
    values = np.array([v for v, _ in pairs], dtype=float)
    roles = np.array([r for _, r in pairs], dtype=np.int8)
    prefix = frozen_prefix_errors(values, roles)
    for n in range(len(values) + 1):
        expected = continuum_worst_error(np.sort(brute_frozen_sums(values[:n], roles[:n])))
        assert prefix[n] == pytest.approx(expected, abs=1e-12)


def test_locking_shifts_the_target():
    # One locked 0.75 and a free 0.5: achievable sums 0.75 and 1.25. Target 1.0 is 0.25 away either way.
    values, roles = np.array([0.75, 0.5, 0.9]), np.array([LOCKED, FREE, PRUNED], dtype=np.int8)
    free, locked = split_roles(values, roles)
    np.testing.assert_allclose(free, [0.5])
    assert locked == pytest.approx(0.75)
    errs = frozen_grid_errors(values, roles, num_targets=3)  # targets -1, 0, 1
    np.testing.assert_allclose(errs, [1.75, 0.75, 0.25])


def test_roles_have_the_requested_rates():
    roles = draw_roles(np.random.default_rng(0), 200_000, 0.3, 0.2)
    assert np.mean(roles == PRUNED) == pytest.approx(0.3, abs=0.005)
    assert np.mean(roles == LOCKED) == pytest.approx(0.2, abs=0.005)


def test_pruning_only_costs_the_lemma_factor_on_average():
    # With pruning only (no shift) the free values are an i.i.d. sample, so the width needed
    # scales like 1/(1-p); the (p, r) = (0, 0) cell must need fewer variables than heavy freezing.
    needed = width_needed_map([0.0, 0.5], [0.0, 0.25], eps=0.05, free_needed=10, draws=30, seed=0, progress=False)
    assert needed[0, 0] < needed[1, 0] < needed[1, 1]
    assert needed[1, 0] == pytest.approx(lemma_scaling(needed[0, 0], 0.5, 0.0), rel=0.35)


def test_bad_rates_are_refused():
    with pytest.raises(ConfigError, match="p \\+ r < 1"):
        draw_roles(np.random.default_rng(0), 5, 0.6, 0.4)
    with pytest.raises(ConfigError, match="same shape"):
        frozen_grid_errors(np.zeros(3), np.zeros(2, dtype=np.int8))
