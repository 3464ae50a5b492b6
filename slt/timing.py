"""How long a run takes on this machine, measured on a few synthetic steps.

A sweep asked for in full mode on a machine without a GPU warns with this
estimate instead of refusing: the user may have the time.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from .config import RunConfig

# (input shape, classes, training examples) for images; (features, classes, nodes, edges) for graphs.
IMAGE_SHAPES = {"fashion-mnist": ((1, 28, 28), 10, 48000), "cifar10": ((3, 32, 32), 10, 40000)}
GRAPH_SIZES = {
    "cora": (1433, 7, 2708, 10556),
    "citeseer": (3703, 6, 3327, 9104),
    "ogbn-arxiv": (128, 40, 169343, 2332486),
}
TIMED_STEPS = 2


def _time_steps(model: nn.Module, inputs: tuple[torch.Tensor, ...], labels: torch.Tensor) -> float:
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    start = 0.0
    for step in range(TIMED_STEPS + 1):
        if step == 1:  # the first step warms up
            start = time.perf_counter()
        loss = nn.functional.cross_entropy(model(*inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / TIMED_STEPS


def seconds_per_epoch(config: RunConfig) -> float:
    """Seconds one epoch of ``config`` takes on this machine's CPU (training steps only)."""
    from .train import build_run

    if config.dataset in GRAPH_SIZES:
        features, classes, nodes, edges = GRAPH_SIZES[config.dataset]
        run = build_run(config, (features,), classes)
        x = torch.randn(nodes, features)
        edge_index = torch.randint(0, nodes, (2, edges))
        return _time_steps(run.model, (x, edge_index), torch.randint(0, classes, (nodes,)))
    shape, classes, examples = IMAGE_SHAPES[config.dataset]
    run = build_run(config, shape, classes)
    batch = torch.randn(config.batch_size, *shape)
    step = _time_steps(run.model, (batch,), torch.randint(0, classes, (config.batch_size,)))
    return step * -(-(config.train_subset or examples) // config.batch_size)
