"""What a run's config builds before training: the model, its ticket search, and the optimizer.

Kept apart from the trainer because the time estimate (:mod:`slt.estimate`) and the
ticket export (:mod:`slt.run_tickets`) build the same network without training it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import RunConfig
from .models import ModelSpec
from .supermask import TicketSearch, apply_ticket_search, initialize_weights


@dataclass
class Run:
    """A model ready to train, with its search handle (None for weight training)."""

    config: RunConfig
    spec: ModelSpec
    model: nn.Module
    search: TicketSearch | None


def build_run(config: RunConfig, input_shape: tuple[int, ...], num_classes: int) -> Run:
    """The model of a run, with its random weights (and supermask) drawn from the seed."""
    spec = ModelSpec(config.model, tuple(input_shape), num_classes, config.width)
    model = spec.build()
    if config.ticket is None:
        initialize_weights(model, config.seed)
        return Run(config, spec, model, None)
    return Run(config, spec, model, apply_ticket_search(model, config.ticket))


def make_optimizer(config: RunConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """The optimizer the config names, over ``params`` (the scores of a search, or the weights)."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def default_device() -> torch.device:
    """A GPU where there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
