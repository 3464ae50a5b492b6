"""Edge-Popup ticket search applied from outside to any PyTorch model.

:func:`apply_ticket_search` freezes every weight of the model's ``Linear`` and
``Conv`` layers at a random value drawn from the seed and attaches a
parametrization (:mod:`torch.nn.utils.parametrize`) that multiplies it by a
supermask. The supermask keeps the locked entries and the searchable entries
with the largest ``|score|``; the scores are the only trainable parameters.

The straight-through gradient reaches a score through ``|score|``:
``d loss/d s = d loss/d w_eff * w * sign(s)``. Dropping the sign is a classic
silent bug (accuracy stays at chance), which is why the backward pass is
written out in :class:`StraightThroughMask`. Signed-constant weights are
multiplied by ``1/sqrt(1 - k_l)``, where ``k_l`` is the layer's *current*
sparsity under the mask (the authors' ``dynamic_scaled`` weights): a global
top-k moves each layer's sparsity away from its initial allocation.

Masks are recomputed lazily: the first layer used after any score changed
(an optimizer step, a loaded state dict, a move to another device) recomputes
the masks of all layers with *one* top-k over all searchable scores
(``scope="global"``) or one per layer (``scope="layer"``), outside autograd.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from .config import TicketConfig
from .errors import ConfigError
from .freezing import LOCKED, SEARCHABLE, LayerCounts, draw_frozen_mask, layer_counts
from .initialization import draw_scores, draw_weight

SEARCHABLE_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def searchable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers whose weights a ticket search masks, in module order, by name."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, SEARCHABLE_LAYERS)]


def check_no_learned_parameters(model: nn.Module, layers: list[tuple[str, nn.Module]]) -> None:
    """Refuse parameters outside the masked weights: a ticket has nothing else to learn or store."""
    masked = {id(m.weight) for _, m in layers}
    others = [name for name, p in model.named_parameters() if id(p) not in masked]
    if others:
        shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
        raise ConfigError(
            f"the model has parameters a ticket cannot hold ({shown}): build it without biases "
            "(bias=False) and with non-affine normalisation (affine=False)."
        )


def initialize_weights(model: nn.Module, seed: int, method: str = "kaiming_uniform") -> None:
    """Draw every searchable layer's weight from the seed (used for weight training too)."""
    with torch.no_grad():
        for name, module in searchable_layers(model):
            w = draw_weight(module.weight.shape, method, seed, f"{name}.weight")
            module.weight.copy_(w)


@dataclass
class ThresholdHint:
    """Where a top-k's last threshold was, so that the next one on a CPU is looked for near it first.

    Scores move little between two steps, and so does the k-th largest ``|score|``: a selection
    among the keys in a band around the last threshold finds the same value as a selection among
    all of them, for the cost of a few comparisons. The band widens when the threshold escapes it.
    """

    value: float | None = None
    width: float = 0.0

    def update(self, new: float, found: bool) -> None:
        """Centre the band on ``new``; widen it when the threshold was not ``found`` in it."""
        moved = 0.0 if self.value is None else abs(new - self.value)
        self.value = new
        self.width = max(4 * moved, self.width / 2 if found else 8 * self.width, 1e-7 * abs(new))


def kth_largest(keys: torch.Tensor, k: int, hint: ThresholdHint | None = None) -> torch.Tensor:
    """The k-th largest entry of a 1-D tensor (``1 <= k <= n``), as a 0-d tensor.

    On a CPU it is a ``kthvalue`` (a quickselect, about 5x faster than ``topk`` there on distinct
    keys), and with a ``hint`` one among the keys near the last threshold when the k-th lies among
    them (exactly the same value); elsewhere one ``topk`` on the smaller side, because ``kthvalue``
    is 60-200x slower on a GPU. Nothing here waits for a GPU.
    """
    n = keys.numel()
    if keys.device.type != "cpu":
        if k <= n - k:
            return torch.topk(keys, k, sorted=False).values.min()
        return torch.topk(keys, n - k + 1, largest=False, sorted=False).values.max()
    rank = n - k + 1  # the k-th largest is the rank-th smallest
    if hint is None:
        return torch.kthvalue(keys, rank).values
    if hint.value is not None:
        low, high = hint.value - hint.width, hint.value + hint.width
        below = int(torch.count_nonzero(keys < low))
        band = keys[(keys >= low) & (keys <= high)]
        if below < rank <= below + band.numel():
            threshold = torch.kthvalue(band, rank - below).values
            hint.update(float(threshold), found=True)
            return threshold
    threshold = torch.kthvalue(keys, rank).values
    hint.update(float(threshold), found=False)
    return threshold


def top_k_mask(keys: torch.Tensor, k: int, hint: ThresholdHint | None = None) -> torch.Tensor:
    """Boolean mask of exactly ``k`` largest entries of a 1-D tensor.

    Finds the threshold (the k-th largest key, :func:`kth_largest`), then breaks ties at the
    threshold by position, so the count is exact and deterministic. On a CPU the position count
    (a cumulative sum) is skipped when every tied key fits.
    """
    n = keys.numel()
    if k <= 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    if k >= n:
        return torch.ones_like(keys, dtype=torch.bool)
    threshold = kth_largest(keys, k, hint)
    above = keys > threshold
    tied = keys == threshold
    room = k - torch.count_nonzero(above)
    if keys.device.type == "cpu" and torch.count_nonzero(tied) <= room:
        return above | tied
    counts = torch.cumsum(tied, 0, dtype=torch.int32 if n < 2**31 else torch.int64)
    return above | (tied & (counts <= room))


class StraightThroughMask(torch.autograd.Function):
    """The masked weight made at refresh forward; ``grad * score_factor`` backward.

    Both tensors are made once per refresh (:meth:`TicketSearch.refresh`), so
    the forward pass copies nothing and the backward pass is one multiply.
    ``score_factor = weight * scale * sign(score)`` on searchable entries and 0
    on frozen ones: the straight-through gradient through ``|score|``.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        scores: torch.Tensor,
        masked_weight: torch.Tensor,
        score_factor: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(score_factor)
        return masked_weight.view_as(masked_weight)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (score_factor,) = ctx.saved_tensors
        return grad * score_factor, None, None


class Supermask(nn.Module):
    """The parametrization on one weight: holds its scores and ternary freezing mask."""

    def __init__(self, scores: torch.Tensor, frozen: torch.Tensor, search: TicketSearch, index: int) -> None:
        super().__init__()
        self.scores = nn.Parameter(scores)
        self.register_buffer("frozen", frozen)
        self.index = index
        # A plain attribute, not a submodule: the search is shared by all layers.
        self.__dict__["search"] = search

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        masked_weight, score_factor = self.search.layer_tensors(self.index)
        return StraightThroughMask.apply(self.scores, masked_weight, score_factor)


@dataclass
class SearchedLayer:
    name: str
    module: nn.Module
    counts: LayerCounts

    @property
    def supermask(self) -> Supermask:
        return self.module.parametrizations.weight[0]

    @property
    def weight(self) -> torch.Tensor:
        """The frozen random weight (before masking)."""
        return self.module.parametrizations.weight.original


@dataclass
class WeightLayout:
    """The frozen part of a search, flat over all layers, made once per weight or freezing-mask change."""

    size_list: list[int]
    sizes: torch.Tensor
    searchable_counts: list[int]
    searchable_counts_tensor: torch.Tensor
    locked: torch.Tensor
    """Flat indices of the locked entries."""
    locked_counts: torch.Tensor
    locked_counts_tensor: torch.Tensor
    weights_searchable: torch.Tensor
    weights_locked: torch.Tensor
    masked_base: torch.Tensor
    """w on locked entries and w * 0 elsewhere: the masked weight before the search writes its choice."""
    factor_base: torch.Tensor
    """w * 0 everywhere: the score factor of frozen entries (their scores get no gradient)."""


class TicketSearch:
    """A model under ticket search: its layers, their counts, and the current masks."""

    def __init__(self, model: nn.Module, config: TicketConfig) -> None:
        layers = searchable_layers(model)
        if not layers:
            raise ConfigError("the model has no Linear or Conv layer to search: pass a model that has some.")
        check_no_learned_parameters(model, layers)
        p, r = config.ratios
        shapes = [tuple(m.weight.shape) for _, m in layers]
        counts = layer_counts(shapes, p, r, config.sparsity, config.layerwise)
        self.model = model
        self.config = config
        self.layers = [SearchedLayer(name, m, c) for (name, m), c in zip(layers, counts, strict=True)]
        self._key: tuple[int, ...] | None = None
        self._layout_key: tuple[tuple[int, int], ...] | None = None
        self._layout: tuple[torch.Tensor, torch.Tensor] | None = None
        self._weights_key: tuple | None = None
        self._weights: WeightLayout | None = None
        self._chosen = torch.empty(0)
        self._hints = [ThresholdHint() for _ in (self.layers if config.scope == "layer" else [None])]
        self._tensors: list[tuple[torch.Tensor, torch.Tensor]] = []
        for index, layer in enumerate(self.layers):
            self._attach(layer, index)
        # Looked up once: _state_key runs in every layer's forward.
        self._supermasks = [layer.supermask for layer in self.layers]
        self._parametrizations = [layer.module.parametrizations.weight for layer in self.layers]

    def _attach(self, layer: SearchedLayer, index: int) -> None:
        cfg, name, module = self.config, f"{layer.name}.weight", layer.module
        shape, device = module.weight.shape, module.weight.device
        weight = draw_weight(shape, cfg.weights, cfg.seed, name)
        frozen = draw_frozen_mask(shape, layer.counts, cfg.seed, name)
        scores = draw_scores(shape, cfg.seed, name)
        with torch.no_grad():
            module.weight.copy_(weight)
        module.weight.requires_grad_(False)
        supermask = Supermask(scores.to(device), frozen.to(device), self, index)
        parametrize.register_parametrization(module, "weight", supermask, unsafe=True)

    # -- masks -------------------------------------------------------------------------------

    def _state_key(self) -> tuple[int, ...]:
        key: list[int] = []
        for sm, plist in zip(self._supermasks, self._parametrizations, strict=True):
            scores, frozen, weight = sm._parameters["scores"], sm._buffers["frozen"], plist._parameters["original"]
            key += (scores._version, scores.data_ptr(), frozen._version, frozen.data_ptr())
            key += (weight._version, weight.data_ptr())
        return tuple(key)

    def _fresh(self) -> None:
        key = self._state_key()
        if key != self._key:
            self.refresh()
            self._key = key

    def layer_tensors(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(masked weight, score factor) of one layer (see :class:`StraightThroughMask`); remade when stale."""
        self._fresh()
        return self._tensors[index]

    @property
    def scales_weights(self) -> bool:
        """Signed-constant weights are scaled by ``1/sqrt(1 - k_l)`` at the layer's current sparsity."""
        return self.config.weights == "signed_constant"

    @torch.no_grad()
    def refresh(self) -> None:
        """Recompute the ticket from the current scores: what forward and backward use, per layer.

        The top-k works on all layers' searchable scores concatenated, so it launches the same few
        kernels whatever the number of layers, and nothing here waits for the device (the fill value
        is a Python scalar: a ``torch.tensor(..., device=...)`` would be a blocking host-to-device
        copy). Everything frozen is laid out once (``_weight_layout``), so a refresh writes each
        of its two flat tensors once and touches the frozen entries only by copying. Signed-constant
        weights get their scale here from the layer's kept count, on the device, as the authors'
        ``dynamic_scaled`` weights do in every forward.
        """
        searchable, _ = self._frozen_layout()
        layout = self._weight_layout()
        scores = torch.cat([sm.scores.flatten() for sm in self._supermasks])
        # Only searchable scores compete: a top-k over them alone is half the work at f = 0.5, and
        # keys padded with -inf for frozen entries (thousands of ties) slow topk and kthvalue down.
        searched = scores.index_select(0, searchable)
        keys = searched.abs()
        if self.config.scope == "global":
            chosen = top_k_mask(keys, sum(layer.counts.selected for layer in self.layers), self._hints[0])
        else:
            parts = zip(keys.split(layout.searchable_counts), self.layers, self._hints, strict=True)
            chosen = torch.cat([top_k_mask(k, layer.counts.selected, hint) for k, layer, hint in parts])
        chosen = chosen.to(layout.weights_searchable.dtype)
        # w * k with k in {0, 1} and w * sign(s) with sign 0 on frozen entries, written where they differ
        # from their frozen values only (the bases hold w * 1 on locked entries and w * 0 elsewhere).
        weights, masked = layout.weights_searchable, layout.masked_base.clone()
        if self.scales_weights:
            kept = layout.locked_counts + torch.stack([c.sum() for c in chosen.split(layout.searchable_counts)])
            scales = torch.rsqrt(kept.clamp(min=1.0) / layout.sizes)
            weights = weights * self._per_entry(scales, layout.searchable_counts_tensor, weights.numel())
            locked = layout.weights_locked * self._per_entry(
                scales, layout.locked_counts_tensor, layout.weights_locked.numel()
            )
            masked.index_put_((layout.locked,), locked)
        masked.index_put_((searchable,), weights * chosen)
        factor = layout.factor_base.clone().index_put_((searchable,), weights * torch.sign(searched))
        self._chosen = chosen
        shapes = [sm.frozen.shape for sm in self._supermasks]
        self._tensors = [
            (m.view(shape), f.view(shape))
            for m, f, shape in zip(masked.split(layout.size_list), factor.split(layout.size_list), shapes, strict=True)
        ]

    def _frozen_layout(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(flat indices of the searchable entries, a flat bool of the locked ones), all layers concatenated.

        Freezing masks change only when a state dict is loaded or the model moves, so this is made
        once per such change, not at every refresh (its ``nonzero`` waits for a GPU).
        """
        key = tuple((sm.frozen._version, sm.frozen.data_ptr()) for sm in self._supermasks)
        if key != self._layout_key:
            frozen = torch.cat([sm.frozen.flatten() for sm in self._supermasks])
            searchable = (frozen == SEARCHABLE).nonzero().squeeze(1)
            if searchable.numel() != self.num_searchable:
                raise ConfigError(
                    f"the freezing masks hold {searchable.numel()} searchable entries where this ticket's counts "
                    f"give {self.num_searchable}: load a state dict made with the same TicketConfig."
                )
            self._layout, self._layout_key = (searchable, frozen == LOCKED), key
        return self._layout

    def _weight_layout(self) -> WeightLayout:
        """The frozen random weights laid out for :meth:`refresh`, remade when a weight or mask changes."""
        key = self._layout_key, tuple((p._version, p.data_ptr()) for p in self._originals())
        if key != self._weights_key:
            searchable, locked = self._frozen_layout()
            weights = torch.cat([w.flatten() for w in self._originals()])
            locked_index = locked.nonzero().squeeze(1)
            locked_per_layer = [int(m.sum()) for m in locked.split(self._sizes())]
            searchable_counts = [layer.counts.searchable for layer in self.layers]
            device = weights.device
            self._weights = WeightLayout(
                size_list=self._sizes(),
                sizes=torch.tensor(self._sizes(), dtype=weights.dtype, device=device),
                searchable_counts=searchable_counts,
                searchable_counts_tensor=torch.tensor(searchable_counts, device=device),
                locked=locked_index,
                locked_counts=torch.tensor(locked_per_layer, dtype=weights.dtype, device=device),
                locked_counts_tensor=torch.tensor(locked_per_layer, device=device),
                weights_searchable=weights.index_select(0, searchable),
                weights_locked=weights.index_select(0, locked_index),
                masked_base=weights * locked.to(weights.dtype),
                factor_base=weights * 0.0,
            )
            self._weights_key = key
        return self._weights

    @staticmethod
    def _per_entry(per_layer: torch.Tensor, counts: torch.Tensor, total: int) -> torch.Tensor:
        """A per-layer value repeated for each of the layer's ``counts`` entries (``total`` given: no device sync)."""
        return per_layer.repeat_interleave(counts, output_size=total)

    def _originals(self) -> list[torch.Tensor]:
        return [plist._parameters["original"] for plist in self._parametrizations]

    def _sizes(self) -> list[int]:
        return [layer.counts.size for layer in self.layers]

    def _kept(self) -> list[torch.Tensor]:
        """Each layer's kept mask as 0/1 in the weights' dtype (locked, plus the chosen searchable entries)."""
        self._fresh()
        searchable, locked = self._frozen_layout()
        kept = locked.to(self._chosen.dtype).index_put_((searchable,), self._chosen)
        return [k.view_as(sm.frozen) for k, sm in zip(kept.split(self._sizes()), self._supermasks, strict=True)]

    @staticmethod
    def _scale(kept: torch.Tensor) -> torch.Tensor:
        """``1/sqrt(1 - k_l)`` from a layer's kept mask, on its device (an empty layer counts as one kept entry)."""
        return torch.rsqrt(kept.sum().clamp(min=1.0) / kept.numel())

    def weight_scales(self) -> list[torch.Tensor]:
        """The factor each layer's random weight is multiplied by: 1, or ``1/sqrt(1 - k_l)`` for signed constants."""
        kept = self._kept()
        if not self.scales_weights:
            return [torch.ones((), device=k.device) for k in kept]
        return [self._scale(k) for k in kept]

    def masks(self) -> dict[str, torch.Tensor]:
        """The current boolean supermask of every layer (locked and selected entries are True)."""
        return {layer.name: k.bool() for layer, k in zip(self.layers, self._kept(), strict=True)}

    # -- counts and bits ---------------------------------------------------------------------

    @property
    def num_weights(self) -> int:
        return sum(layer.counts.size for layer in self.layers)

    @property
    def num_searchable(self) -> int:
        return sum(layer.counts.searchable for layer in self.layers)

    @property
    def num_kept(self) -> int:
        """Weights in the ticket: locked plus selected (exact by construction)."""
        return sum(layer.counts.kept for layer in self.layers)

    def scores(self) -> Iterator[nn.Parameter]:
        """The trainable scores, for an optimizer."""
        return (layer.supermask.scores for layer in self.layers)

    def supermask_bits(self) -> torch.Tensor:
        """The ticket's bits: one per *searchable* entry, in layer order, on the CPU."""
        masks = self.masks()
        bits = [masks[layer.name][layer.supermask.frozen == SEARCHABLE].cpu() for layer in self.layers]
        return torch.cat(bits)

    @torch.no_grad()
    def load_supermask_bits(self, bits: torch.Tensor) -> None:
        """Set the scores so that the masks select exactly the given searchable entries."""
        if bits.numel() != self.num_searchable:
            raise ValueError(f"expected {self.num_searchable} supermask bits, got {bits.numel()}")
        chunks = bits.split([layer.counts.searchable for layer in self.layers])
        for layer, chunk in zip(self.layers, chunks, strict=True):
            sm = layer.supermask
            scores = torch.zeros_like(sm.scores)
            scores[sm.frozen == SEARCHABLE] = chunk.to(scores.device, scores.dtype)
            sm.scores.copy_(scores)


def apply_ticket_search(model: nn.Module, config: TicketConfig) -> TicketSearch:
    """Turn ``model`` (in place) into a random network whose supermask is searched.

    Every ``Linear``/``Conv`` weight is redrawn from ``config.seed`` (so the
    model's own initialisation does not matter), frozen, and masked; the
    model's only trainable parameters afterwards are the scores.
    """
    return TicketSearch(model, config)
