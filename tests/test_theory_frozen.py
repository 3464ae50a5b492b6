"""Frozen subset sum: pruned values are gone, locked values always count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.freezing import LOCKED, PRUNED, SEARCHABLE
from slt.theory.frozen import (
    draw_roles,
    frozen_grid_errors,
    frozen_prefix_errors,
    searchable_fraction_scaling,
    split_roles,
    width_needed_map,
)
from slt.theory.subset_sum import continuum_worst_error

roles_st = st.sampled_from([PRUNED, SEARCHABLE, LOCKED])


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
    # One locked 0.75 and a searchable 0.5: achievable sums 0.75 and 1.25. Target 1.0 is 0.25 away either way.
    values, roles = np.array([0.75, 0.5, 0.9]), np.array([LOCKED, SEARCHABLE, PRUNED], dtype=np.int8)
    searchable, locked = split_roles(values, roles)
    np.testing.assert_allclose(searchable, [0.5])
    assert locked == pytest.approx(0.75)
    errs = frozen_grid_errors(values, roles, num_targets=3)  # targets -1, 0, 1
    np.testing.assert_allclose(errs, [1.75, 0.75, 0.25])


def test_roles_have_the_requested_rates():
    roles = draw_roles(np.random.default_rng(0), 200_000, 0.3, 0.2)
    assert np.mean(roles == PRUNED) == pytest.approx(0.3, abs=0.005)
    assert np.mean(roles == LOCKED) == pytest.approx(0.2, abs=0.005)


@pytest.mark.slow  # a width search over 30 draws per cell
def test_pruning_only_costs_the_searchable_fraction_on_average():
    # With pruning only (no shift) the searchable values are an i.i.d. sample, so the width needed
    # scales like 1/(1-p); the (p, r) = (0, 0) cell must need fewer variables than heavy freezing.
    needed = width_needed_map([0.0, 0.5], [0.0, 0.25], eps=0.05, searchable_needed=10, draws=30, seed=0, progress=False)
    assert needed[0, 0] < needed[1, 0] < needed[1, 1]
    assert needed[1, 0] == pytest.approx(searchable_fraction_scaling(needed[0, 0], 0.5, 0.0), rel=0.35)


def test_bad_rates_are_refused():
    with pytest.raises(ConfigError, match="p \\+ r < 1"):
        draw_roles(np.random.default_rng(0), 5, 0.6, 0.4)
    with pytest.raises(ConfigError, match="same shape"):
        frozen_grid_errors(np.zeros(3), np.zeros(2, dtype=np.int8))


# --- inputs a solver cannot answer, and work that would explode ---------------------------------


def test_unknown_role_codes_are_refused():
    # Code 7 used to be read as pruned (neither searchable nor locked). Code 2 was "locked" before the
    # theory took the mask codes of slt.freezing (-1 pruned, 0 searchable, 1 locked).
    with pytest.raises(ConfigError, match="role code 7 is unknown"):
        frozen_grid_errors(np.array([0.5, 0.25]), np.array([SEARCHABLE, 7]))
    with pytest.raises(ConfigError, match="role code 2 is unknown"):
        frozen_prefix_errors(np.array([0.5, 0.25]), np.array([SEARCHABLE, 2]))
    with pytest.raises(ConfigError, match="role code -2 is unknown"):
        split_roles(np.array([0.5, 0.25]), np.array([SEARCHABLE, -2]))
    with pytest.raises(ConfigError, match="whole numbers"):
        split_roles(np.array([0.5]), np.array([0.5]))


def test_non_integer_and_negative_arguments_are_refused():
    with pytest.raises(ConfigError, match=r"n=2\.5"):
        draw_roles(np.random.default_rng(0), 2.5, 0.1, 0.1)
    with pytest.raises(ConfigError, match="finite"):
        draw_roles(np.random.default_rng(0), 5, np.nan, 0.1)
    with pytest.raises(ConfigError, match="negative"):
        width_needed_map([-0.1, 0.2], [0.0], eps=0.1, searchable_needed=4, draws=2, progress=False)
    with pytest.raises(ConfigError, match="eps=0 must be positive"):
        width_needed_map([0.0], [0.0], eps=0.0, searchable_needed=4, draws=2, progress=False)


def test_searchable_fraction_scaling_is_nan_where_nothing_is_searchable():
    scaled = searchable_fraction_scaling(10.0, [0.0, 0.5, 0.6], [0.0, 0.0, 0.4])
    np.testing.assert_allclose(scaled, [10.0, 20.0, np.nan])


def test_a_large_locked_sum_is_settled_without_a_search_per_target(monkeypatch):
    # 40 searchable values and a locked sum of 1000: every target lies below all achievable sums, so the
    # error is the distance to the smallest one, L + (sum of the negative searchable values). The exact
    # solver used to search all 2^20 half-sums once per target (minutes).
    import slt.theory.subset_sum as ss

    searched = []
    original = ss._exact_targets
    monkeypatch.setattr(ss, "_exact_targets", lambda sides, t: searched.append(t.size) or original(sides, t))
    rng = np.random.default_rng(0)
    values = np.r_[rng.uniform(-1, 1, 40), 500.0, 500.0]
    roles = np.r_[np.full(40, SEARCHABLE), LOCKED, LOCKED].astype(np.int8)
    smallest = 1000.0 + values[:40][values[:40] < 0].sum()
    targets = np.linspace(-1, 1, 2001)
    np.testing.assert_allclose(frozen_grid_errors(values, roles), smallest - targets, rtol=1e-12)
    assert sum(searched) <= 4
