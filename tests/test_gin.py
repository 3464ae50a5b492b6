"""The GIN of the frozen-network paper's code: its size, and its layers computed by hand on a toy graph."""

from __future__ import annotations

import torch
from torch import nn

from slt.config import TicketConfig
from slt.models import build_model
from slt.supermask import apply_ticket_search


def test_on_ogbn_arxiv_shapes_it_has_the_authors_378280_weights():
    model = build_model("gin", (128,), 40)
    weights = [m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)]
    assert weights == [128 * 386, 386 * 386, 386 * 386, 386 * 40, 386 * 40]
    assert sum(weights) == 378_280
    search = apply_ticket_search(model, TicketConfig(sparsity=0.7))
    assert search.num_weights == 378_280


def test_each_layer_is_a_linear_of_self_plus_neighbour_mean_then_bn_relu_and_the_output_averages_two_heads():
    torch.manual_seed(0)
    model = build_model("gin", (3,), 2, width=4 / 386).eval()  # hidden 4
    for norm in model.norms:  # running statistics that are not the identity, so normalisation is checked too
        norm.running_mean.uniform_(-0.5, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
    # 0 - 1, 1 - 2, 0 - 2, and node 3 alone (no neighbours: its mean aggregation is zero).
    edges = torch.tensor([[0, 1, 1, 2, 0, 2], [1, 0, 2, 1, 2, 0]])
    x = torch.randn(4, 3)
    neighbours = {0: [1, 2], 1: [0, 2], 2: [1, 0], 3: []}

    def by_hand(h: torch.Tensor, layer: int) -> torch.Tensor:
        mean = torch.stack([h[nbrs].mean(0) if nbrs else torch.zeros(h.shape[1]) for nbrs in neighbours.values()])
        z = (h + mean) @ model.convs[layer].nn.weight.T
        norm = model.norms[layer]
        return torch.relu((z - norm.running_mean) / torch.sqrt(norm.running_var + norm.eps))

    hidden, h = [], x
    for layer in range(4):
        h = by_hand(h, layer)
        hidden.append(h)
    expected = (hidden[-2] @ model.prediction.weight.T + hidden[-1]) / 2
    with torch.no_grad():
        assert torch.allclose(model(x, edges), expected, atol=1e-6)
