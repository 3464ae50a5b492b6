"""The bitset dynamic programme for exact hits against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory.quantized import (
    all_targets_hit,
    hit_probability,
    hitting_times,
    kappa,
    poisson_prediction,
    reachable_sums,
    width_needed_vs_bits,
)


def brute_sums(ints) -> set[int]:
    return {sum(c) for r in range(len(ints) + 1) for c in itertools.combinations(ints, r)}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-40, 40), min_size=0, max_size=10))
def test_reachable_sums_match_brute_force(ints):
    np.testing.assert_array_equal(reachable_sums(ints), sorted(brute_sums(ints)))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-12, 12), min_size=0, max_size=9), st.integers(1, 12), st.integers(1, 4))
def test_all_targets_hit_matches_brute_force(ints, max_abs, step):
    sums = brute_sums(ints)
    targets = [t for t in range(-max_abs, max_abs + 1) if t % step == 0]
    assert all_targets_hit(ints, max_abs, step) == all(t in sums for t in targets)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.integers(1, 3), st.integers(0, 2**31))
def test_hitting_times_are_first_covering_prefixes(max_abs, step, seed):
    n_max, draws = 9, 4
    times = hitting_times(max_abs, n_max, draws, step=step, seed=seed, progress=False)
    rng = np.random.default_rng(seed)  # the same stream the function draws from
    for d in range(draws):
        ints = rng.integers(-max_abs, max_abs, n_max, endpoint=True)
        covered = [all_targets_hit(ints[:n], max_abs, step) for n in range(n_max + 1)]
        expected = next((n for n, ok in enumerate(covered) if ok), n_max + 1)
        assert times[d] == expected


def test_probability_and_kappa():
    times = np.array([3, 5, 5, 11])
    np.testing.assert_allclose(hit_probability(times, [2, 3, 5, 10, 11]), [0, 0.25, 0.75, 0.75, 1.0])
    assert kappa(16, 2**8) == pytest.approx(0.5)


def test_poisson_heuristic_is_a_sensible_curve():
    p = poisson_prediction(np.arange(1, 40), 2**10)
    assert np.all(np.diff(p) >= -1e-12) and p[0] < 1e-6 and p[-1] > 0.999


def test_width_needed_grows_with_precision():
    needed = width_needed_vs_bits([2, 6], draws=40, seed=0, progress=False)
    assert needed[0] < needed[1]


def test_too_big_a_bitset_is_refused():
    with pytest.raises(ConfigError, match="lower the precision"):
        hitting_times(2**40, 64, 1, progress=False)
    with pytest.raises(ConfigError, match="max_abs"):
        all_targets_hit([1, 2], 0)


# --- inputs a solver cannot answer, and work that would explode ---------------------------------


def test_non_integer_samples_are_refused():
    # Both used to truncate silently: [1.6, -1.6] "hit" every target in [-1, 1]; [0.5, 1.7] gave sums [0, 1].
    with pytest.raises(ConfigError, match="whole numbers"):
        all_targets_hit([1.6, -1.6], 1)
    with pytest.raises(ConfigError, match="whole numbers"):
        reachable_sums([0.5, 1.7])
    np.testing.assert_array_equal(reachable_sums([2.0, -3.0]), [-3, -1, 0, 2])  # whole floats are fine


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-12, 12), min_size=0, max_size=7), st.lists(st.sampled_from([1, -1]), max_size=3))
def test_huge_samples_cost_nothing_when_they_cannot_matter(ints, signs):
    # A sample bigger than every target plus everything that could cancel it is never used:
    # dropping it is exact, and the bitset no longer needs 2^40 bits (128 GiB) for it.
    huge = [s * 2**40 for s in signs]
    max_abs = 10
    sums = brute_sums(ints)
    expected = all(t in sums for t in range(-max_abs, max_abs + 1))
    if len(signs) < 2 or len(set(signs)) == 1:  # no pair of huge samples can cancel
        assert all_targets_hit(ints + huge, max_abs) == expected
    else:
        with pytest.raises(ConfigError, match="GiB"):
            all_targets_hit(ints + huge, max_abs)


def test_bitsets_are_sized_by_the_samples_before_any_work():
    with pytest.raises(ConfigError, match=r"128 GiB.*use smaller integers"):
        reachable_sums([2**40, 1])
    assert all_targets_hit([1, 2, -1, -2], 2**40) is False  # the target 2^40 is beyond every sum: no bitset
    assert all_targets_hit([1, -1], 3, step=2**50) is True  # the only target is 0
    with pytest.raises(ConfigError, match=r"draws=2\.5"):
        hitting_times(4, 8, 2.5, progress=False)
    with pytest.raises(ConfigError, match="step=0"):
        all_targets_hit([1], 1, step=0)


def test_width_needed_vs_bits_refuses_before_drawing():
    with pytest.raises(ConfigError, match="lower the precision"):
        width_needed_vs_bits([2, 30], draws=2, progress=False)
    with pytest.raises(ConfigError, match=r"bits=2\.5"):
        width_needed_vs_bits([2.5], draws=2, progress=False)
