"""The graph isomorphism network searched by Huang et al. (2022): 4 GINConv layers, hidden 386.

Each layer is torch_geometric's own ``GINConv`` around a bias-free two-layer
MLP, followed by non-affine BatchNorm and ReLU; a bias-free linear head
classifies the nodes. ``width`` scales the hidden size.
"""

from __future__ import annotations

import torch
from torch import nn


class GIN(nn.Module):
    def __init__(self, in_features: int, num_classes: int, hidden: int, num_layers: int = 4) -> None:
        from .._pyg import import_torch_geometric

        GINConv = import_torch_geometric().nn.GINConv

        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        previous = in_features
        for _ in range(num_layers):
            mlp = nn.Sequential(
                nn.Linear(previous, hidden, bias=False),
                nn.BatchNorm1d(hidden, affine=False),
                nn.ReLU(),
                nn.Linear(hidden, hidden, bias=False),
            )
            self.convs.append(GINConv(mlp, train_eps=False))
            self.norms.append(nn.BatchNorm1d(hidden, affine=False))
            previous = hidden
        self.head = nn.Linear(hidden, num_classes, bias=False)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x, edge_index)))
        return self.head(x)


def gin(input_shape: tuple[int, ...], num_classes: int, width: float = 1.0, hidden: int = 386) -> GIN:
    return GIN(input_shape[0], num_classes, max(1, round(hidden * width)))
