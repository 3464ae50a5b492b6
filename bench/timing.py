"""How ``bench/speed.py`` measures: device time from CUDA events, the host's own time, peak GPU memory.

On a CPU the same calls measure wall-clock time and report no memory.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import torch

EPOCH_IMAGES = 50_000  # CIFAR-10's training images: one epoch as the speed targets count it


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """Device time between start() and stop() (CUDA events on a GPU), plus the host's own time."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def start(self) -> None:
        synchronize(self.device)
        if self.device.type == "cuda":
            self.begin = torch.cuda.Event(enable_timing=True)
            self.begin.record()
        self.t0 = time.perf_counter()

    def stop(self) -> tuple[float, float]:
        """(seconds on the device, seconds the host took to issue the work)."""
        host = time.perf_counter() - self.t0
        if self.device.type == "cuda":
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            end.synchronize()
            return self.begin.elapsed_time(end) / 1000.0, host
        return time.perf_counter() - self.t0, host


def release(device: torch.device) -> None:
    """Free what the last case left, and start a new peak-memory count."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def steps_for(images: int, batch: int) -> int:
    return -(-images // batch)


def per_epoch(seconds: float, host: float, steps: int, batch_size: int) -> dict:
    """A timed pass of ``steps`` steps, scaled to one epoch of CIFAR-10 (device and host time)."""
    epoch_steps = steps_for(EPOCH_IMAGES, batch_size)
    return {
        "timed_s": seconds,
        "host_s": host,
        "timed_steps": steps,
        "s_per_epoch": seconds * epoch_steps / steps,
        "host_s_per_epoch": host * epoch_steps / steps,
    }


def cycle(batches: Callable[[int], Iterator], epoch: int = 0) -> Iterator:
    """Batches of epoch ``epoch``, then of the next epochs, without end (warm-up needs not fit one epoch)."""
    while True:
        yield from batches(epoch)
        epoch += 1
