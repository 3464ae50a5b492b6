"""The GIN of the frozen-network paper's code (Otsuka et al. 2024, after Huang et al.'s UGTs).

Four layers. Each one averages the neighbours' features, adds the node's own
(``eps = 0``, not learned), applies one bias-free ``Linear``, then non-affine
BatchNorm and ReLU; the last layer outputs the classes and is normalised and
rectified too. A bias-free prediction ``Linear`` (searched like the others)
reads the second-to-last layer's output, and the network returns the mean of
that prediction and the last layer's output. Hidden size 386; ``width``
scales it. On OGBN-Arxiv's shapes (128 features, 40 classes) that is 378,280
weights.

The aggregation is torch_geometric's ``GINConv`` with ``aggr="mean"``:
``Linear((1 + eps) x_i + mean_{j in N(i)} x_j)``; a node without neighbours
aggregates zeros, as in the authors' DGL code.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

HIDDEN = 386
LAYERS = 4


class GIN(nn.Module):
    def __init__(self, in_features: int, num_classes: int, hidden: int = HIDDEN, num_layers: int = LAYERS) -> None:
        from .._pyg import import_torch_geometric

        GINConv = import_torch_geometric().nn.GINConv

        super().__init__()
        if num_layers < 2:
            raise ValueError(
                f"the GIN needs at least 2 layers (its prediction reads the second-to-last), got {num_layers}"
            )
        sizes = [in_features] + [hidden] * (num_layers - 1) + [num_classes]
        self.convs = nn.ModuleList(
            GINConv(nn.Linear(n_in, n_out, bias=False), eps=0.0, train_eps=False, aggr="mean")
            for n_in, n_out in itertools.pairwise(sizes)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(n_out, affine=False) for n_out in sizes[1:])
        self.prediction = nn.Linear(hidden, num_classes, bias=False)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        hidden = []
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x, edge_index)))
            hidden.append(x)
        return (self.prediction(hidden[-2]) + hidden[-1]) / 2


def gin(input_shape: tuple[int, ...], num_classes: int, width: float = 1.0, hidden: int = HIDDEN) -> GIN:
    return GIN(input_shape[0], num_classes, max(1, round(hidden * width)))
