"""The speedups change no result.

slt's ticket search finds its masks with one ``torch.topk`` per step (over all
searchable scores, or per layer) and recomputes them lazily; CIFAR-10 is
cropped and flipped on the device by one gather. Here each fast path is held
against a straightforward reference kept in this file: masks rebuilt in every
forward from a full sort of ``|scores|`` (per layer, or one global sort),
frozen entries pruned-never / locked-always, the straight-through gradient
with the sign of the score; and torchvision's per-sample pad, crop and flip.
"""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from torch import nn
from torch.nn.utils import parametrize

from slt.config import TicketConfig
from slt.data.augment import crop_flip
from slt.freezing import LOCKED, SEARCHABLE
from slt.models import build_model
from slt.supermask import TicketSearch, apply_ticket_search, searchable_layers

STEPS = 3
BATCH = 8
SHAPE = (3, 32, 32)
MODELS = [("conv6", 0.125), ("resnet18", 0.0625)]
CONFIGS = [
    TicketConfig(sparsity=0.5, freeze=0.5),
    TicketConfig(sparsity=0.7, prune=0.2, lock=0.1, layerwise="erk"),
]


# -- reference: a full sort in every forward --------------------------------------------------------


def sorted_top(keys: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k`` largest keys from a full stable sort (ties go to the earlier position)."""
    order = torch.argsort(keys, descending=True, stable=True)
    chosen = torch.zeros(keys.numel(), dtype=torch.bool)
    chosen[order[:k]] = True
    return chosen


class Group(list):
    """The reference masks of all layers, with the last global sort (redone whenever a score changed)."""

    state: tuple[int, ...] = ()
    chosen: torch.Tensor | None = None

    def global_choice(self) -> torch.Tensor:
        """One stable sort over every layer's searchable scores."""
        state = tuple(m.scores._version for m in self)
        if self.chosen is None or state != self.state:
            self.state = state
            self.chosen = sorted_top(torch.cat([m.keys() for m in self]), sum(m.selected for m in self))
        return self.chosen


class ReferenceMask(nn.Module):
    """A parametrization that rebuilds its layer's mask from a sort of the current scores whenever the weight is used.

    With a group (global scope) the layers of one step share the group's one sort.
    """

    def __init__(self, scores: torch.Tensor, frozen: torch.Tensor, selected: int, group: Group | None):
        super().__init__()
        self.scores = nn.Parameter(scores.clone())
        self.register_buffer("frozen", frozen.clone())
        self.selected = selected
        self.__dict__["group"] = group  # every layer's mask, for one global sort; None: this layer alone

    def keys(self) -> torch.Tensor:
        searchable = self.frozen == SEARCHABLE
        return torch.where(searchable, self.scores.detach().abs(), float("-inf")).flatten()

    def mask(self) -> torch.Tensor:
        """Boolean kept mask: locked entries, plus the selected searchable ones."""
        if self.group is None:
            chosen = sorted_top(self.keys(), self.selected)
        else:
            start = sum(m.frozen.numel() for m in self.group[: self.group.index(self)])
            chosen = self.group.global_choice()[start : start + self.frozen.numel()]
        return chosen.view_as(self.frozen) | (self.frozen == LOCKED)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        mask = self.mask().to(weight.dtype)
        searchable = (self.frozen == SEARCHABLE).to(weight.dtype)
        # Zero in value; its gradient is d|s|/ds = sign(s) on searchable entries: straight through with the sign.
        through = (self.scores.abs() - self.scores.abs().detach()) * searchable
        return weight * (mask + through)


def reference_model(name: str, width: float, search: TicketSearch, scope: str) -> tuple[nn.Module, Group]:
    """The same architecture with the fast model's random weights, freezing masks and initial scores."""
    model = build_model(name, SHAPE, 10, width)
    group = Group()
    for (layer_name, module), layer in zip(searchable_layers(model), search.layers, strict=True):
        assert layer_name == layer.name
        with torch.no_grad():
            module.weight.copy_(layer.weight)
        module.weight.requires_grad_(False)
        sm = layer.supermask
        ref = ReferenceMask(sm.scores.detach(), sm.frozen, layer.counts.selected, group if scope == "global" else None)
        parametrize.register_parametrization(module, "weight", ref, unsafe=True)
        group.append(ref)
    return model, group


def sgd(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)  # the papers' recipe


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("config", CONFIGS, ids=["freeze", "prune-lock-erk"])
@pytest.mark.parametrize(("name", "width"), MODELS, ids=[m for m, _ in MODELS])
def test_fast_masks_and_losses_equal_a_full_sort_in_every_forward(name, width, config, scope):
    config = TicketConfig(**{**config.to_dict(), "scope": scope})
    torch.manual_seed(0)
    fast = build_model(name, SHAPE, 10, width)
    search = apply_ticket_search(fast, config)
    slow, refs = reference_model(name, width, search, scope)
    opt_fast, opt_slow = sgd(list(search.scores())), sgd([r.scores for r in refs])

    g = torch.Generator().manual_seed(1)
    first = {k: v.clone() for k, v in search.masks().items()}
    for _ in range(STEPS):
        x = torch.randn(BATCH, *SHAPE, generator=g)
        y = torch.randint(0, 10, (BATCH,), generator=g)
        losses = []
        for model, opt in ((fast, opt_fast), (slow, opt_slow)):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        torch.testing.assert_close(losses[0], losses[1], rtol=0, atol=1e-6)
        with torch.no_grad():
            for (layer_name, mask), ref in zip(search.masks().items(), refs, strict=True):
                assert torch.equal(mask, ref.mask()), f"{layer_name}: the masks differ"
    for layer, ref in zip(search.layers, refs, strict=True):
        torch.testing.assert_close(layer.supermask.scores.detach(), ref.scores.detach(), rtol=0, atol=1e-6)
    flipped = sum(int((first[k] != v).sum()) for k, v in search.masks().items())
    assert flipped > 0, "no mask entry changed: the steps test nothing"
    kept = sum(int(m.sum()) for m in search.masks().values())
    assert kept == search.num_kept


def reference_masks(search: TicketSearch, scope: str) -> Group:
    """Reference masks (without a model) over a search's current scores and freezing masks."""
    group = Group()
    for layer in search.layers:
        sm = layer.supermask
        shared = group if scope == "global" else None
        group.append(ReferenceMask(sm.scores.detach(), sm.frozen, layer.counts.selected, shared))
    return group


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_ties_at_the_threshold_go_to_the_earlier_entry_as_in_a_stable_sort(scope):
    model = nn.Sequential(nn.Linear(6, 5, bias=False), nn.ReLU(), nn.Linear(5, 4, bias=False))
    search = apply_ticket_search(model, TicketConfig(sparsity=0.5, freeze=0.4, scope=scope))
    with torch.no_grad():
        for layer in search.layers:  # few distinct |scores|, of both signs: many ties at the threshold
            scores = layer.supermask.scores
            scores.copy_(torch.tensor([0.5, -0.5, 1.0, -0.25]).repeat(scores.numel())[: scores.numel()].view_as(scores))
    refs = reference_masks(search, scope)
    for (name, mask), ref in zip(search.masks().items(), refs, strict=True):
        assert torch.equal(mask, ref.mask()), name


# -- CIFAR augmentation: one gather on the device vs torchvision per sample -------------------------


def every_crop_and_flip(n_images: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random uint8 images, each paired with all 9 x 9 offsets and both flips."""
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n_images, *SHAPE), dtype=torch.uint8, generator=g)
    oy, ox, flip = torch.meshgrid(torch.arange(9), torch.arange(9), torch.arange(2), indexing="ij")
    combos = oy.numel()
    images = images.repeat_interleave(combos, 0)
    return images, oy.flatten().repeat(n_images), ox.flatten().repeat(n_images), flip.flatten().bool().repeat(n_images)


def test_crop_flip_equals_torchvision_pad_crop_hflip_per_sample():
    images, oy, ox, flips = every_crop_and_flip(n_images=2)
    fast = crop_flip(images, oy, ox, flips, 4)
    for n in range(len(images)):
        expected = TF.crop(TF.pad(images[n], [4]), int(oy[n]), int(ox[n]), 32, 32)
        if flips[n]:
            expected = TF.hflip(expected)
        assert torch.equal(fast[n], expected), f"sample {n}: offsets ({oy[n]}, {ox[n]}), flip {bool(flips[n])}"


def test_torchvision_random_crop_and_flip_give_one_of_the_crops_slt_can_make():
    images, oy, ox, flips = every_crop_and_flip(n_images=1)
    candidates = crop_flip(images, oy, ox, flips, 4).flatten(1)
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
    torch.manual_seed(0)
    hits = set()
    for _ in range(60):
        out = augment(images[0]).flatten()
        matches = (candidates == out).all(1).nonzero().flatten().tolist()
        assert matches, "torchvision produced a crop that crop_flip cannot make"
        hits.update(matches)
    assert len(hits) > 30  # many different offsets and flips were drawn and all matched
