"""What a training step makes the host wait for, and how many operators it dispatches.

On a GPU, ``torch.cuda.set_sync_debug_mode("warn")`` names every synchronising call; everywhere,
a ``TorchFunctionMode`` spy counts the calls that synchronise on a GPU (with the line that made
them) and a ``TorchDispatchMode`` counts ATen operators (about the kernels a step launches).
"""

from __future__ import annotations

import contextlib
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import torch
from cases import step
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

ROOT = Path(__file__).resolve().parent.parent
SYNC_STEPS = 3
HOST_READS = {"item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy", "nonzero", "masked_select"}
FACTORIES = {"tensor", "as_tensor", "scalar_tensor"}


def relative(path: str) -> str:
    """``path`` relative to the repository, where it lies in it."""
    path = path.replace("\\", "/")
    with contextlib.suppress(ValueError):
        path = str(Path(path).resolve().relative_to(ROOT))
    return path


def caller() -> str:
    """The innermost frame outside torch and this spy, as 'path:line function'."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = frame.filename.replace("\\", "/")
        if "/torch/" in path or path.endswith("/contextlib.py"):
            continue
        return f"{relative(path)}:{frame.lineno} {frame.name}"
    return "?"


class HostSyncSpy(TorchFunctionMode):
    """Counts the calls that make the host wait for a GPU (reads of device values, blocking copies to it).

    Device-agnostic, so it also reports on a CPU-only machine what would synchronise on a GPU:
    ``.item()``/``bool()``/``float()``/``nonzero``/boolean-mask indexing, and ``torch.tensor(...,
    device=...)`` (a blocking copy from pageable host memory when the device is a GPU).
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        reason = None
        if name in HOST_READS:
            reason = f"{name}()"
        elif name in FACTORIES and kwargs.get("device") is not None:
            reason = f"torch.{name}(..., device=...) (blocking host-to-device copy on a GPU)"
        elif name in ("__getitem__", "__setitem__") and len(args) > 1:
            index = args[1] if isinstance(args[1], tuple) else (args[1],)
            if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in index):
                reason = "boolean-mask indexing (nonzero)"
        elif name in ("cpu", "to") and args and isinstance(args[0], torch.Tensor) and args[0].device.type != "cpu":
            target = kwargs.get("device", args[1] if len(args) > 1 else None)
            if name == "cpu" or (target is not None and str(target).startswith("cpu")):
                reason = "copy to the host"
        if reason is not None:
            self.calls[f"{caller()}: {reason}"] += 1
        return func(*args, **kwargs)


class OpCounter(TorchDispatchMode):
    """Counts the ATen operators dispatched (about the kernels a GPU step launches)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.views = 0  # views launch no kernel, but still cost the host a dispatch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        self.views += bool(getattr(func, "is_view", False))
        return func(*args, **(kwargs or {}))


def count_syncs(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]
) -> dict:
    """Ops and synchronising calls per step over ``SYNC_STEPS`` steps of ``cases.step``, after one warm-up step.

    The warm-up step takes the first batch, so the epoch's set-up (permutation, offsets: copies to
    the device) stays outside the count.
    """
    images, labels = next(batches)
    device = images.device
    totals = torch.zeros(2, device=device)
    step(model, optimizer, images, labels, totals)
    spy, ops = HostSyncSpy(), OpCounter()
    cuda_warnings: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if device.type == "cuda":
            torch.cuda.set_sync_debug_mode("warn")
        try:
            with spy, ops:
                for _ in range(SYNC_STEPS):
                    step(model, optimizer, *next(batches), totals)
        finally:
            if device.type == "cuda":
                torch.cuda.set_sync_debug_mode(0)
    for w in caught:
        if "synchroniz" in str(w.message).lower():
            cuda_warnings.append(f"{relative(w.filename)}:{w.lineno}")
    on_gpu = device.type == "cuda"
    return {
        "aten_ops_per_step": ops.count / SYNC_STEPS,
        "aten_views_per_step": ops.views / SYNC_STEPS,
        "host_sync_calls_per_step": sum(spy.calls.values()) / SYNC_STEPS,
        "host_sync_calls": {k: v / SYNC_STEPS for k, v in spy.calls.most_common()},
        "cuda_sync_warnings_per_step": len(cuda_warnings) / SYNC_STEPS if on_gpu else None,
        "cuda_sync_warnings": dict(Counter(cuda_warnings).most_common()) if on_gpu else None,
    }
