"""The hand-built ticket keeps the promise of its construction."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from slt.errors import ConfigError
from slt.theory.construct import check_target, construct_ticket, output_error_bound, quantize_target


def random_target(seed: int, sizes: list[int], relu_after: list[bool]) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for (a, b), relu in zip(itertools.pairwise(sizes), relu_after, strict=False):
        layers.append(nn.Linear(a, b, bias=False))
        if relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).double()


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**31),
    st.lists(st.integers(1, 6), min_size=2, max_size=4),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.integers(1, 14),
)
def test_measured_error_is_within_the_promised_bound(seed, sizes, relu_after, per_input):
    target = random_target(seed, sizes, relu_after)
    ticket = construct_ticket(target, per_input, seed=seed, progress=False)
    x = torch.randn(64, sizes[0], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        measured = (ticket.pruned()(x) - target(x)).abs()
    bound = output_error_bound(ticket, x)
    promise = output_error_bound(ticket, x, eps=ticket.max_weight_error)
    assert torch.all(measured <= bound + 1e-10)
    assert torch.all(bound <= promise + 1e-10)


def test_per_weight_errors_are_the_best_subset_sums():
    # One 1 -> 1 layer: each side's error must equal the brute-force optimum over that side's neurons.
    target = random_target(3, [1, 1], [False])
    ticket = construct_ticket(target, 10, seed=5, progress=False)
    u = ticket.source[0].weight.detach().numpy()[:, 0]
    v = ticket.source[2].weight.detach().numpy()[0]
    w = target[0].weight.item()
    for sign, goal, err in ((1, w, ticket.errors[0].pos[0, 0]), (-1, -w, ticket.errors[0].neg[0, 0])):
        samples = (v * np.abs(u))[np.sign(u) == sign]
        sums = [sum(c) for r in range(samples.size + 1) for c in itertools.combinations(samples, r)]
        assert abs(err) == pytest.approx(min(abs(s - goal) for s in sums), abs=1e-12)


def test_wider_sources_approximate_better():
    target = random_target(0, [8, 6, 4], [True, False])
    errors = [construct_ticket(target, m, seed=1, progress=False).max_weight_error for m in (4, 12, 28)]
    assert errors[0] > errors[1] > errors[2]


def test_quantized_target_is_represented_exactly():
    target = random_target(1, [6, 5, 3], [True, False])
    ticket = construct_ticket(target, 40, seed=2, bits=3, target_bits=4, progress=False)
    assert ticket.max_weight_error == 0.0
    reference = quantize_target(target, 4)
    for layer in reference:
        if isinstance(layer, nn.Linear):  # the reference really is on the 2^-4 grid
            assert torch.equal(layer.weight * 16, torch.round(layer.weight * 16))
    x = torch.randn(32, 6, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(ticket.pruned()(x).numpy(), reference(x).numpy(), atol=1e-12)
    # and the effective coefficients of relu(x_j) and relu(-x_j) are exactly W and -W
    pruned = ticket.pruned()
    u, v = pruned[0].weight.detach(), pruned[2].weight.detach()
    assert torch.equal(v @ torch.relu(u), reference[0].weight.detach())
    assert torch.equal(v @ torch.relu(-u), -reference[0].weight.detach())


def test_masks_keep_one_input_per_hidden_neuron():
    target = random_target(4, [5, 3], [False])
    ticket = construct_ticket(target, 6, seed=0, progress=False)
    u_mask = ticket.masks[0]
    assert (u_mask.sum(dim=1) <= 1).all()
    kept_rows = u_mask.any(dim=1)
    assert torch.equal(kept_rows, ticket.masks[1].any(dim=0))  # a hidden neuron is kept iff an output uses it
    assert 0 < ticket.kept < ticket.source_size


def test_bad_targets_are_refused():
    with pytest.raises(ConfigError, match="bias"):
        check_target(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ConfigError, match="Tanh"):
        check_target(nn.Sequential(nn.Linear(2, 2, bias=False), nn.Tanh()))
    with pytest.raises(ConfigError, match=r"nn\.Sequential"):
        check_target(nn.Linear(2, 2, bias=False))
    target = random_target(0, [2, 2], [False])
    with pytest.raises(ConfigError, match="per_input"):
        construct_ticket(target, 129, progress=False)
    with pytest.raises(ConfigError, match="target_bits"):
        construct_ticket(target, 4, bits=2, target_bits=5, progress=False)


# --- inputs the construction cannot answer ---------------------------------------------------------


def test_precisions_beyond_exact_integer_arithmetic_are_refused():
    target = random_target(0, [3, 2], [False])
    # bits=33 used to wrap int64 around and report a max weight error of 0.125 while the masks gave 0.998.
    with pytest.raises(ConfigError, match="bits=33 is more than 28"):
        construct_ticket(target, 4, bits=33, progress=False)
    with pytest.raises(ConfigError, match="float32"):
        construct_ticket(target.float(), 4, bits=25, progress=False)
    big = random_target(0, [3, 2], [False])
    with torch.no_grad():
        big[0].weight.mul_(1e4)
    with pytest.raises(ConfigError, match="scale the target down"):
        construct_ticket(big, 4, bits=26, progress=False)
    with pytest.raises(ConfigError, match=r"per_input=2\.7"):
        construct_ticket(target, 2.7, progress=False)
    nan = random_target(0, [3, 2], [False])
    with torch.no_grad():
        nan[0].weight[0, 0] = float("nan")
    with pytest.raises(ConfigError, match="NaN"):
        construct_ticket(nan, 4, progress=False)


def test_reported_errors_are_the_masks_errors_at_the_largest_precision():
    target = random_target(2, [3, 2], [False])
    ticket = construct_ticket(target, 12, seed=1, bits=28, progress=False)
    pruned = ticket.pruned()
    u, v = pruned[0].weight.detach().double(), pruned[2].weight.detach().double()
    w = ticket.reference[0].weight.detach().double()
    achieved_pos = (v @ torch.relu(u)).numpy() - w.numpy()
    achieved_neg = (v @ torch.relu(-u)).numpy() + w.numpy()
    np.testing.assert_allclose(ticket.errors[0].pos, achieved_pos, atol=1e-12)
    np.testing.assert_allclose(ticket.errors[0].neg, achieved_neg, atol=1e-12)


def test_output_error_bound_refuses_negative_eps_and_wrong_inputs():
    target = random_target(0, [3, 2], [False])
    ticket = construct_ticket(target, 4, progress=False)
    with pytest.raises(ConfigError, match="eps=-1"):
        output_error_bound(ticket, torch.randn(4, 3), eps=-1)  # used to return a negative bound
    with pytest.raises(ConfigError, match="5 inputs"):
        output_error_bound(ticket, torch.randn(4, 5))
