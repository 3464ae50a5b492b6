"""Ticket search on toy models: exact counts, frozen entries, the straight-through sign, seeds."""

from __future__ import annotations

import math
from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from slt.config import TicketConfig
from slt.errors import ConfigError
from slt.freezing import LOCKED, PRUNED
from slt.models import build_model
from slt.supermask import ThresholdHint, apply_ticket_search, kth_largest, top_k_mask

from toys import toy_cnn, toy_mlp

CONFIGS = [
    TicketConfig(sparsity=0.5),
    TicketConfig(sparsity=0.7, prune=0.3, lock=0.1, layerwise="epl"),
    TicketConfig(sparsity=0.7, prune=0.3, lock=0.1, layerwise="erk"),
    TicketConfig(sparsity=0.6, freeze=0.5, layerwise="uniform"),
    TicketConfig(sparsity=0.3, freeze=0.9, layerwise="erk"),
]


def sgd_steps(model: nn.Module, steps: int = 3, shape: tuple[int, ...] = (8, 20)) -> None:
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        loss = model(torch.randn(shape, generator=g)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_the_network_keeps_exactly_its_share_after_every_step(config, scope):
    config = TicketConfig(**{**config.to_dict(), "scope": scope})
    model = toy_mlp()
    search = apply_ticket_search(model, config)
    n = search.num_weights
    for _ in range(3):
        kept = sum(int(m.sum()) for m in search.masks().values())
        assert kept == math.floor((1 - config.sparsity) * n + 0.5)
        if scope == "layer":
            for layer, mask in zip(search.layers, search.masks().values(), strict=True):
                assert int(mask.sum()) == layer.counts.kept
        sgd_steps(model)


@pytest.mark.parametrize("config", CONFIGS[1:], ids=str)
def test_pruned_entries_are_never_kept_and_locked_entries_always_are(config):
    model = toy_mlp()
    search = apply_ticket_search(model, config)
    for _ in range(3):
        sgd_steps(model)
        for layer, mask in zip(search.layers, search.masks().values(), strict=True):
            frozen = layer.supermask.frozen
            assert not mask[frozen == PRUNED].any()
            assert mask[frozen == LOCKED].all()


def test_scores_of_frozen_entries_change_nothing():
    model = toy_mlp()
    search = apply_ticket_search(model, TicketConfig(sparsity=0.6, prune=0.3, lock=0.2))
    x = torch.randn(4, 20)
    before = model(x)
    with torch.no_grad():
        for layer in search.layers:
            sm = layer.supermask
            frozen = sm.frozen != 0
            sm.scores[frozen] = torch.randn(int(frozen.sum())) * 100
    assert torch.equal(model(x), before)


@pytest.mark.parametrize(
    ("weights", "scale"),
    [("kaiming_uniform", 1.0), ("signed_constant", 1 / math.sqrt(1 - 0.5))],
    ids=["kaiming_uniform", "signed_constant"],
)
def test_the_score_gradient_keeps_the_sign_of_the_score_and_the_layer_scale(weights, scale):
    # For y = (W_eff) x with W_eff = W * c * M: d loss / d s = (d loss / d W_eff) * W * c * sign(s) on searchable
    # entries, 0 on frozen ones. c = 1 for random weights; for signed constants c = 1/sqrt(1 - k_l), held constant.
    # (The same sign on real data, where dropping it leaves the MLP at chance: test_first_run.)
    model = nn.Sequential(nn.Linear(6, 3, bias=False))
    search = apply_ticket_search(model, TicketConfig(sparsity=0.5, prune=0.2, lock=0.2, weights=weights))
    x = torch.randn(5, 6)
    model(x).sum().backward()
    layer = search.layers[0]
    scores, weight, frozen = layer.supermask.scores, layer.weight, layer.supermask.frozen
    (layer_scale,) = search.weight_scales()
    assert math.isclose(layer_scale.item(), scale, rel_tol=1e-6)
    grad_w_eff = torch.ones(5, 3).T @ x  # d sum(y) / d W_eff
    expected = grad_w_eff * weight * scale * torch.sign(scores) * (frozen == 0)
    assert torch.allclose(scores.grad, expected)
    assert (scores < 0).any() and (expected[scores < 0] != 0).any()


def test_top_k_breaks_ties_by_position_and_counts_exactly():
    keys = torch.tensor([1.0, 3.0, 3.0, 3.0, 2.0, 3.0])
    assert top_k_mask(keys, 2).tolist() == [False, True, True, False, False, False]
    assert top_k_mask(keys, 5).tolist() == [False, True, True, True, True, True]
    assert int(top_k_mask(torch.zeros(100), 37).sum()) == 37
    assert not top_k_mask(keys, 0).any() and top_k_mask(keys, 6).all()


def test_global_scope_uses_one_threshold_over_all_searchable_scores():
    model = toy_mlp()
    search = apply_ticket_search(model, TicketConfig(sparsity=0.6, prune=0.1, lock=0.1))
    kept_min, dropped_max = math.inf, -math.inf
    for layer, mask in zip(search.layers, search.masks().values(), strict=True):
        s = layer.supermask.scores.detach().abs()
        searchable = layer.supermask.frozen == 0
        kept_min = min(kept_min, float(s[mask & searchable].min()))
        dropped_max = max(dropped_max, float(s[~mask & searchable].max()))
    assert kept_min > dropped_max


def test_same_seed_same_network_whatever_the_construction_order():
    layers = [("a", nn.Linear(10, 20, bias=False)), ("b", nn.Linear(20, 5, bias=False))]
    torch.manual_seed(123)  # the global seed must not matter
    first = nn.Sequential(OrderedDict(layers))
    torch.manual_seed(999)
    b, a = nn.Linear(20, 5, bias=False), nn.Linear(10, 20, bias=False)
    second = nn.Sequential(OrderedDict([("a", a), ("b", b)]))
    config = TicketConfig(sparsity=0.5, freeze=0.4, seed=7)
    s1, s2 = apply_ticket_search(first, config), apply_ticket_search(second, config)
    for l1, l2 in zip(s1.layers, s2.layers, strict=True):
        assert torch.equal(l1.weight, l2.weight)
        assert torch.equal(l1.supermask.frozen, l2.supermask.frozen)
        assert torch.equal(l1.supermask.scores, l2.supermask.scores)
    other = apply_ticket_search(toy_mlp((10, 20, 5)), TicketConfig(sparsity=0.5, freeze=0.4, seed=8))
    assert not torch.equal(other.layers[0].weight, s1.layers[0].weight)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU to compare devices")
def test_same_seed_same_network_on_the_gpu():
    config = TicketConfig(sparsity=0.5, freeze=0.4)
    cpu = apply_ticket_search(toy_mlp(), config)
    gpu = apply_ticket_search(toy_mlp().cuda(), config)
    for a, b in zip(cpu.layers, gpu.layers, strict=True):
        assert torch.equal(a.weight, b.weight.cpu())
        assert torch.equal(a.supermask.frozen, b.supermask.frozen.cpu())


def test_signed_constant_weights_follow_each_layers_current_sparsity():
    """w_eff = sign(w) * std_l / sqrt(1 - k_l) * mask, with k_l counted from the layer's mask after steps
    that moved it (the authors' dynamic scale), not from the initial allocation."""
    model = toy_mlp()
    config = TicketConfig(sparsity=0.5, weights="signed_constant", layerwise="erk")
    search = apply_ticket_search(model, config)
    optimizer = torch.optim.SGD(list(search.scores()), lr=5.0)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        loss = model(torch.randn(16, 20, generator=g)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    moved = 0
    for layer, mask in zip(search.layers, search.masks().values(), strict=True):
        k_l = 1 - mask.float().mean().item()
        moved += not math.isclose(k_l, layer.counts.sparsity, abs_tol=1e-9)
        std = math.sqrt(2 / layer.weight.shape[1])
        expected = torch.sign(layer.weight) * std / math.sqrt(1 - k_l) * mask
        assert torch.allclose(layer.module.weight, expected, rtol=1e-6, atol=0)
    assert moved, "the steps should have moved some layer's sparsity away from its initial allocation"
    ku = apply_ticket_search(toy_mlp(), TicketConfig(sparsity=0.5))
    assert torch.equal(torch.sign(ku.layers[0].weight), torch.sign(search.layers[0].weight))


def test_kaiming_weights_are_not_rescaled():
    search = apply_ticket_search(toy_mlp(), TicketConfig(sparsity=0.7, freeze=0.4))
    for layer, mask in zip(search.layers, search.masks().values(), strict=True):
        assert torch.equal(layer.module.weight, layer.weight * mask)


def test_only_scores_are_trainable_and_the_model_stays_plain_pytorch():
    model = build_model("conv6", (3, 32, 32), 10, width=0.25)
    search = apply_ticket_search(model, TicketConfig(sparsity=0.5))
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(name.endswith("scores") for name in trainable)
    assert len(trainable) == len(search.layers) == 9
    assert isinstance(model[0], nn.Conv2d)


def test_works_on_a_reader_model_with_batchnorm_and_on_gin():
    cnn = toy_cnn()
    search = apply_ticket_search(cnn, TicketConfig(sparsity=0.5))
    assert cnn(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    assert len(search.layers) == 3

    from torch_geometric.nn import GINConv

    gin = GINConv(nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU(), nn.Linear(8, 3, bias=False)))
    search = apply_ticket_search(gin, TicketConfig(sparsity=0.5, freeze=0.5))
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    out = gin(torch.randn(3, 4), edge_index)
    out.sum().backward()
    assert out.shape == (3, 3)
    assert all(layer.supermask.scores.grad is not None for layer in search.layers)


def test_models_with_biases_or_affine_norms_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="bias=False"):
        apply_ticket_search(nn.Sequential(nn.Linear(3, 4)), TicketConfig())
    with pytest.raises(ConfigError, match="affine=False"):
        apply_ticket_search(nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4)), TicketConfig())


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 400),
    levels=st.sampled_from([None, 3, 50]),
    drift=st.sampled_from([0.0, 1e-3, 0.1, 10.0]),
)
def test_a_threshold_found_near_the_last_one_is_the_exact_kth_largest(seed, n, levels, drift):
    """Through a run of moving keys (with many ties or none) and any k, the hinted search returns
    exactly what a full selection does, whether the threshold stays in its band or escapes it."""
    g = torch.Generator().manual_seed(seed)
    keys = torch.rand(n, generator=g)
    hint = ThresholdHint()
    for _ in range(6):
        if levels is not None:
            keys = torch.floor(keys * levels) / levels
        k = int(torch.randint(1, n + 1, (1,), generator=g))
        assert kth_largest(keys, k, hint) == torch.kthvalue(keys, n - k + 1).values
        assert torch.equal(top_k_mask(keys, k, hint), top_k_mask(keys, k))
        keys = (keys + drift * torch.randn(n, generator=g)).abs()
