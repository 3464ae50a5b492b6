"""Tickets of runs: from a finished run to a ticket file, and from a ticket file back to an accuracy.

The file format itself is :mod:`slt.ticket`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .build import build_run
from .config import RunConfig
from .errors import ConfigError
from .loops import load_task
from .records import checkpoint_path, read_record, record_checkpoint, record_path
from .supermask import TicketSearch
from .ticket import export_ticket, load_ticket


def export_from_run(run_file: str | os.PathLike[str], out: str | os.PathLike[str]) -> tuple[int, TicketSearch]:
    """Write the best-validation ticket of a run (given its record or checkpoint) to ``out``."""
    run_file = Path(run_file)
    if run_file.suffix == ".json":
        record = read_record(run_file)
        ckpt = record_checkpoint(record, run_file)
        if ckpt is None or not ckpt.exists():  # an old record's absolute path on another machine
            ckpt = checkpoint_path(run_file.parent, record["run_id"])
    else:
        ckpt, record = run_file, None
    if not ckpt.exists():
        raise ConfigError(f"no checkpoint at {ckpt}: export needs the run's checkpoints directory next to its record.")
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    config = RunConfig.from_dict(record["config"] if record else state["config"])
    if config.ticket is None:
        raise ConfigError(
            f"{run_file} is a weight-training run, which has no ticket to export: export a ticket search."
        )
    spec = state["spec"]
    run = build_run(config, tuple(spec["input_shape"]), spec["num_classes"])
    run.model.load_state_dict(state["best"]["model"])
    assert run.search is not None
    return export_ticket(run.search, run.spec, out), run.search


def ticket_file(folder: str | os.PathLike[str], run_id: str) -> Path:
    """Where the ticket file of a run lives beside its record: ``<records>/tickets/<run-id>.slt``."""
    return Path(folder) / "tickets" / f"{run_id}.slt"


def export_beside_record(folder: str | os.PathLike[str], run_id: str) -> Path:
    """Export the best-validation ticket of a finished run in ``folder`` to its :func:`ticket_file` (once)."""
    path = ticket_file(folder, run_id)
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        export_from_run(record_path(folder, run_id), tmp)
        os.replace(tmp, path)
    return path


def evaluate_ticket(
    path: str | os.PathLike[str],
    dataset: str,
    data_dir: str | os.PathLike[str] | None = None,
    device: str | None = None,
    accept_copy: bool = False,
) -> tuple[float, int]:
    """Test accuracy of a ticket file of a library model on a data set, and the number of test examples."""
    device_ = torch.device(device or "cpu")
    ticket = load_ticket(path, device=device_)
    if ticket.header["model"] is None:
        raise ConfigError(f"{path} holds a custom model: evaluate it in Python with slt.load_ticket(path, model=...).")
    config = RunConfig(model=ticket.header["model"]["name"], dataset=dataset, ticket=None, accept_data_copy=accept_copy)
    task = load_task(config, data_dir, device_, progress=False)
    return task.accuracies(ticket.model, ("test",))["test_acc"], task.test_examples
