"""Layer-wise counts and the search-space positioning rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.freezing import layer_counts, position_search_space, rule_weights, water_fill

SHAPES = [(64, 3, 3, 3), (128, 64, 3, 3), (256, 128), (10, 256)]

shapes_strategy = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)).map(tuple), min_size=1, max_size=5)
ratio = st.floats(0.0, 1.0, allow_nan=False)


@given(
    weights=st.lists(st.floats(0.1, 100.0), min_size=1, max_size=6),
    caps=st.lists(st.integers(0, 500), min_size=6, max_size=6),
    fraction=st.floats(0.0, 1.0),
)
def test_water_fill_places_exactly_the_total_within_caps(weights, caps, fraction):
    caps = caps[: len(weights)]
    total = math.floor(fraction * sum(caps))
    counts = water_fill(weights, caps, total)
    assert sum(counts) == total
    assert all(0 <= c <= cap for c, cap in zip(counts, caps, strict=True))


def test_epl_gives_every_layer_the_same_count_until_it_is_full():
    sizes = [math.prod(s) for s in SHAPES]
    counts = water_fill(rule_weights(SHAPES, "epl"), sizes, 20000)
    # The two small layers (1728 and 2560 entries) fill up; the two big ones share the rest.
    assert counts == [1728, 7856, 7856, 2560]


def test_erk_density_is_proportional_to_the_sum_of_dimensions_over_their_product():
    sizes = [math.prod(s) for s in SHAPES]
    counts = water_fill(rule_weights(SHAPES, "erk"), sizes, 50000)
    density = [c / n for c, n in zip(counts, sizes, strict=True)]
    raw = [sum(s) / math.prod(s) for s in SHAPES]
    unsaturated = [i for i, d in enumerate(density) if d < 1]
    ratios = [density[i] / raw[i] for i in unsaturated]
    assert max(ratios) / min(ratios) == pytest.approx(1.0, abs=1e-3)
    assert density[0] == 1.0  # the first convolution has the largest raw density and saturates


@settings(max_examples=200, deadline=None)
@given(shapes=shapes_strategy, p=ratio, r=ratio, t=ratio, rule=st.sampled_from(["uniform", "epl", "erk"]))
def test_layer_counts_are_exact_and_consistent(shapes, p, r, t, rule):
    if p + r > 1:
        p, r = p / (p + r), r / (p + r)
    k = p + t * (1 - r - p)  # any sparsity in the searchable range
    counts = layer_counts(shapes, p, r, k, rule)
    n = sum(c.size for c in counts)
    assert sum(c.pruned for c in counts) == math.floor(p * n + 0.5)
    assert sum(c.pruned + c.locked for c in counts) == math.floor((p + r) * n + 0.5)
    n_kept = sum(c.kept for c in counts)
    assert abs(n_kept - math.floor((1 - k) * n + 0.5)) <= 1
    for c in counts:
        assert c.pruned >= 0 and c.locked >= 0 and 0 <= c.selected <= c.searchable


@given(f=ratio, k=st.floats(0.0, 0.999))
def test_positioning_centres_the_search_space_on_the_sparsity(f, k):
    p, r = position_search_space(f, k)
    assert p >= 0 and r >= 0
    assert p + r == pytest.approx(f)
    assert p - 1e-12 <= k <= 1 - r + 1e-12
    if p > 0 and r > 0:  # no fallback: k sits in the middle of [p, 1 - r]
        assert (p + 1 - r) / 2 == pytest.approx(k)


def test_positioning_falls_back_to_one_ratio_at_the_edges():
    assert position_search_space(0.5, 0.1) == (0.0, 0.5)  # p would be negative: lock only
    assert position_search_space(0.5, 0.9) == (0.5, 0.0)  # r would be negative: prune only
    assert position_search_space(0.8, 0.5) == pytest.approx((0.4, 0.4))
