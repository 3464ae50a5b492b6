"""Weight vs neuron pruning: exact solvers against brute force, bounds against measurements."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory.neuron_pruning import (
    MAX_BRUTE_FORCE,
    TwoLayerNet,
    compare_pruning,
    draw_network,
    draw_target,
    evaluation_points,
    neuron_pruning_bruteforce,
    neuron_pruning_milp,
    relu_neuron,
    sphere_sup_bound,
    weight_pruning,
)


def brute_neuron_pruning(net: TwoLayerNet, w: np.ndarray, points: np.ndarray) -> float:
    phi, y = net.features(points), relu_neuron(w, points)
    return min(
        np.abs(np.maximum(phi @ np.array(mask, dtype=float), 0.0) - y).max()
        for mask in itertools.product([0, 1], repeat=net.width)
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 7), st.sampled_from([2, 3]), st.integers(0, 2**31))
def test_neuron_pruning_solvers_match_brute_force(width, d, seed):
    rng = np.random.default_rng(seed)
    net, w = draw_network(rng, width, d), draw_target(rng, d)
    points = evaluation_points(w, 64, 41, seed=seed)
    best = brute_neuron_pruning(net, w, points)
    err, mask = neuron_pruning_bruteforce(net, w, points)
    assert err == pytest.approx(best, abs=1e-12)
    assert np.abs(np.maximum(net.features(points) @ mask, 0) - relu_neuron(w, points)).max() == pytest.approx(err)
    found = neuron_pruning_milp(net, w, points, time_limit=20)
    assert found.lower <= best + 1e-7 and found.upper >= best - 1e-12  # the bracket is certified
    if found.solved:
        assert found.upper == pytest.approx(best, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 20), st.sampled_from([2, 3, 5]), st.integers(0, 2**31))
def test_weight_pruning_bound_holds_and_is_exact_for_the_linear_part(per_input, d, seed):
    rng = np.random.default_rng(seed)
    net, w = draw_network(rng, per_input * d, d), draw_target(rng, d)
    wp = weight_pruning(net, w)
    points = evaluation_points(w, 500, 201, seed=seed)
    measured = np.abs(wp.output(net, points) - relu_neuron(w, points)).max()
    assert measured <= wp.bound + 1e-12
    # Each coordinate's two subset sums are optimal: compare with brute force over that block and side.
    block = np.arange(net.width) % d
    u_own = net.u[np.arange(net.width), block]
    for j in range(d):
        for sign, target, err in ((1, w[j], wp.err_pos[j]), (-1, -w[j], wp.err_neg[j])):
            members = (block == j) & (np.sign(u_own) == sign)
            samples = net.v[members] * np.abs(u_own[members])
            sums = [sum(c) for r in range(samples.size + 1) for c in itertools.combinations(samples, r)]
            assert abs(err) == pytest.approx(min(abs(s - target) for s in sums), abs=1e-12)
    # The pre-activation error's supremum over the sphere is attained: check by dense sampling.
    x = rng.standard_normal((20000, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pre = np.maximum(x, 0) @ wp.err_pos + np.maximum(-x, 0) @ wp.err_neg
    assert np.abs(pre).max() <= wp.bound + 1e-12


def test_milp_closes_the_bracket_on_typical_instances():
    rng = np.random.default_rng(7)
    solved = 0
    for _ in range(5):
        net, w = draw_network(rng, 10, 2), draw_target(rng, 2)
        points = evaluation_points(w, 120, 61)
        found = neuron_pruning_milp(net, w, points, time_limit=20)
        solved += found.solved
        if found.solved:
            assert found.upper == pytest.approx(neuron_pruning_bruteforce(net, w, points)[0], abs=1e-7)
    assert solved >= 4


def test_sphere_sup_bound_closed_form():
    # err_pos = (0.3, -0.1), err_neg = (0.2, 0.4): up = (0.3, 0.4) -> 0.5; down = (0, 0.1) -> 0.1.
    assert sphere_sup_bound(np.array([0.3, -0.1]), np.array([0.2, 0.4])) == pytest.approx(0.5)


def test_comparison_shapes_and_consistency():
    comp = compare_pruning(2, [2, 6], [4, 14], draws=2, time_limit=10, num_uniform=90, num_kink=41, progress=False)
    assert comp.wp_bound.shape == (2, 2) and comp.np_upper.shape == (2, 2)
    assert np.all(comp.wp_measured <= comp.wp_bound + 1e-12)
    assert np.all(comp.np_lower <= comp.np_upper + 1e-9)
    assert np.all(np.diff(comp.np_upper, axis=1) <= 1e-12)  # more neurons never hurt


def test_brute_force_refuses_wide_networks():
    net = draw_network(np.random.default_rng(0), MAX_BRUTE_FORCE + 1, 2)
    with pytest.raises(ConfigError, match="neuron_pruning_milp"):
        neuron_pruning_bruteforce(net, np.array([1.0, 0.0]), evaluation_points(np.array([1.0, 0.0]), 8, 3))


# --- d = 1 and inputs a solver cannot answer -------------------------------------------------------


def test_one_input_works_and_its_two_points_are_the_whole_sphere():
    # d = 1 used to give NaN points, then (inf, empty mask), then a MILP "Model error".
    w = np.array([1.0])
    np.testing.assert_array_equal(evaluation_points(w), [[-1.0], [1.0]])
    rng = np.random.default_rng(3)
    for _ in range(5):
        net, w = draw_network(rng, 8, 1), draw_target(rng, 1)
        points = evaluation_points(w)
        err, _ = neuron_pruning_bruteforce(net, w, points)
        assert np.isfinite(err) and err == pytest.approx(brute_neuron_pruning(net, w, points), abs=1e-12)
        found = neuron_pruning_milp(net, w, points, time_limit=10)
        assert found.lower <= err + 1e-7 <= found.upper + 2e-7
        # For d = 1 neuron pruning is no worse than the weight-pruning gadget (Exercise 1 of the chapter).
        wp = weight_pruning(net, w)
        assert err <= np.abs(wp.output(net, points) - relu_neuron(w, points)).max() + 1e-12
    comp = compare_pruning(1, [2, 8], [2, 8], draws=2, time_limit=5, progress=False)
    assert np.all(np.isfinite(comp.np_upper)) and np.all(np.isfinite(comp.wp_bound))


def test_bad_targets_points_and_widths_are_refused():
    net = draw_network(np.random.default_rng(0), 6, 2)
    with pytest.raises(ConfigError, match=r"shape \(3,\).*length d=2"):
        weight_pruning(net, np.array([0.6, 0.8, 0.0]))  # used to ignore the third entry
    with pytest.raises(ConfigError, match="finite"):
        weight_pruning(net, np.array([np.nan, 0.8]))
    with pytest.raises(ConfigError, match="zero"):
        evaluation_points(np.zeros(2))
    with pytest.raises(ConfigError, match=r"width=2\.7"):
        net.prefix(2.7)  # used to become 2
    with pytest.raises(ConfigError, match=r"per_input=2\.7"):
        compare_pruning(2, [2.7], [4], 1, progress=False)
    with pytest.raises(ConfigError, match="d=0"):
        draw_network(np.random.default_rng(0), 4, 0)
    with pytest.raises(ConfigError, match="points have shape"):
        neuron_pruning_bruteforce(net, np.array([0.6, 0.8]), np.ones((5, 3)))
    with pytest.raises(ConfigError, match="start"):
        neuron_pruning_milp(net, np.array([0.6, 0.8]), evaluation_points(np.array([0.6, 0.8]), 8, 3), start=[1, 0])
