"""How long a run takes on this machine, measured on a few synthetic steps.

The launcher says before a sweep starts how long it will take here, and a
sweep of the paper's setting on a machine without a GPU warns with this
estimate instead of refusing: the user may have the time.
"""

from __future__ import annotations

import time

import torch

from .build import build_run, make_optimizer
from .config import RunConfig
from .data import dataset_spec
from .errors import ConfigError
from .loops import train_step

TIMED_STEPS = 2


def _seconds_per_step(config: RunConfig, inputs: tuple[torch.Tensor, ...], labels: torch.Tensor) -> float:
    """The run's own training step, timed after one warm-up step."""
    spec = dataset_spec(config.dataset)
    run = build_run(config, spec.input_shape, spec.num_classes)
    optimizer = make_optimizer(config, [p for p in run.model.parameters() if p.requires_grad])
    start = 0.0
    for step in range(TIMED_STEPS + 1):
        if step == 1:
            start = time.perf_counter()
        train_step(run.model, optimizer, inputs, labels)
    return (time.perf_counter() - start) / TIMED_STEPS


def seconds_per_epoch(config: RunConfig) -> float:
    """Seconds one epoch of ``config`` takes on this machine's CPU (training steps only)."""
    spec = dataset_spec(config.dataset)
    if spec.kind == "graph":
        if spec.graph_size is None:
            raise ConfigError(f"the graph {spec.name} has no graph_size in its DatasetSpec: add (nodes, edges) there.")
        nodes, edges = spec.graph_size
        x = torch.randn(nodes, *spec.input_shape)
        edge_index = torch.randint(0, nodes, (2, edges))
        return _seconds_per_step(config, (x, edge_index), torch.randint(0, spec.num_classes, (nodes,)))
    batch = torch.randn(config.batch_size, *spec.input_shape)
    step = _seconds_per_step(config, (batch,), torch.randint(0, spec.num_classes, (config.batch_size,)))
    return step * -(-(config.train_subset or spec.train_examples) // config.batch_size)


def estimate_seconds(configs: list[RunConfig]) -> float:
    """Rough time of these runs, one after another, on this machine, from timing a few training steps of each model."""
    per_epoch: dict[tuple[str, str, float, int], float] = {}
    total = 0.0
    for c in configs:
        key = (c.model, c.dataset, c.width, c.train_subset or 0)
        if key not in per_epoch:
            per_epoch[key] = seconds_per_epoch(c)
        total += per_epoch[key] * c.epochs
    return total


def describe_duration(seconds: float) -> str:
    """A duration as a reader says it: hours from an hour and a half on, else whole minutes."""
    if seconds >= 5400:
        return f"{seconds / 3600:,.1f} hours"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
