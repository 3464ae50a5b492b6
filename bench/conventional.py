"""The conventional Edge-Popup search that ``bench/speed.py`` compares against (case (c)).

Reference implementations (allenai/hidden-networks, ``utils/conv_type.py``:
``GetSubnet`` and ``SubnetConv``) swap every convolution and linear layer for
a subclass whose forward sorts that layer's ``|scores|`` with a full
``torch.sort`` and builds its mask from scratch, in every forward pass; the
mask passes the gradient straight through to ``|scores|`` (so autograd adds
the sign). This module writes that design down from the description, with
two additions so that it does the same work as slt's search and selects the
same ticket: frozen entries (pruned entries get the key ``-inf`` and are
never selected, locked entries are always kept) and slt's per-layer counts
and random draws (same seed, same names), so with ``scope="layer"`` its masks
equal slt's (:func:`bench_masks` checks it in the benchmark).

It is a benchmark baseline, not part of the library.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from slt.config import TicketConfig
from slt.freezing import LOCKED, SEARCHABLE, draw_frozen_mask, layer_counts
from slt.initialization import draw_scores, draw_weight
from slt.supermask import searchable_layers


class SortedSubnet(torch.autograd.Function):
    """Mask of the ``k`` largest keys of one layer from a full sort; gradient straight through."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, keys: torch.Tensor, k: int) -> torch.Tensor:
        order = keys.flatten().sort().indices  # ascending, as GetSubnet does
        mask = torch.zeros_like(keys)
        mask.view(-1)[order[keys.numel() - k :]] = 1.0
        return mask

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


class SortedMaskMixin:
    """What both swapped layer types share: frozen random weight, scores, freezing mask, k."""

    weight: nn.Parameter

    def setup(self, weight: torch.Tensor, scores: torch.Tensor, frozen: torch.Tensor, selected: int) -> None:
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.scores = nn.Parameter(scores)
        self.register_buffer("searchable", frozen == SEARCHABLE)
        self.register_buffer("locked", (frozen == LOCKED).to(weight.dtype))
        self.selected = selected

    def subnet(self) -> torch.Tensor:
        """This layer's mask, recomputed from a sort of its scores (the conventional way)."""
        keys = torch.where(self.searchable, self.scores.abs(), float("-inf"))
        return SortedSubnet.apply(keys, self.selected) + self.locked

    def masked_weight(self) -> torch.Tensor:
        return self.weight * self.subnet()


class SortedMaskConv2d(SortedMaskMixin, nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.masked_weight(), self.bias)


class SortedMaskLinear(SortedMaskMixin, nn.Linear):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.masked_weight(), self.bias)


def _swapped(module: nn.Module) -> nn.Module:
    if type(module) is nn.Conv2d:
        m = module
        return SortedMaskConv2d(
            m.in_channels,
            m.out_channels,
            m.kernel_size,
            m.stride,
            m.padding,
            m.dilation,
            m.groups,
            bias=False,
            padding_mode=m.padding_mode,
        )
    if type(module) is nn.Linear:
        return SortedMaskLinear(module.in_features, module.out_features, bias=False)
    raise TypeError(f"the conventional baseline swaps only nn.Conv2d and nn.Linear, not {type(module).__name__}")


def swap_in_sorted_masks(model: nn.Module, config: TicketConfig) -> list[nn.Module]:
    """Replace (in place) every searchable layer of ``model`` by its sorting subclass; return them.

    Weights, freezing masks and scores are drawn exactly as slt draws them;
    each layer selects ``counts.selected`` entries of its own (the per-layer
    counts of ``config``), whatever ``config.scope`` says.
    """
    layers = searchable_layers(model)
    p, r = config.ratios
    counts = layer_counts([tuple(m.weight.shape) for _, m in layers], p, r, config.sparsity, config.layerwise)
    swapped = []
    for (name, module), c in zip(layers, counts, strict=True):
        if module.bias is not None:
            raise ValueError(f"layer {name} has a bias: the benchmark models are bias-free")
        shape, key = tuple(module.weight.shape), f"{name}.weight"
        new = _swapped(module)
        new.setup(
            draw_weight(shape, config.weights, config.seed, key),
            draw_scores(shape, config.seed, key),
            draw_frozen_mask(shape, c, config.seed, key),
            c.selected,
        )
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, new)
        swapped.append(new)
    return swapped


def scores(model: nn.Module) -> list[nn.Parameter]:
    """The trainable scores of a swapped model, for an optimizer."""
    return [m.scores for m in model.modules() if isinstance(m, SortedMaskMixin)]


@torch.no_grad()
def bench_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """The current boolean mask of every swapped layer, by layer name (as ``TicketSearch.masks``)."""
    return {name: m.subnet().bool() for name, m in model.named_modules() if isinstance(m, SortedMaskMixin)}
