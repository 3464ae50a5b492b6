"""How much of the machine other work took while a benchmark ran.

A load average says how busy the machine *was* (its one-minute figure still
holds a job paused a minute ago) and counts the benchmark's own threads. What
a timing needs is the CPU time that other processes used *during* it: all of
the machine's busy time from ``/proc/stat``, less this process's own and its
waited-for children's. The hypervisor's stolen time is kept beside it, since a
virtual machine can lose its cores without any process of its own running.
Linux only: elsewhere both are ``None``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far: by the whole machine, by this process tree, and stolen from the machine."""

    machine_busy: float
    own: float
    stolen: float


def read_cpu_clock(stat: Path = Path("/proc/stat")) -> CpuClock | None:
    """The clocks now, or ``None`` where the kernel does not publish ``/proc/stat``."""
    try:
        fields = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    times = os.times()
    return CpuClock(
        machine_busy=(user + nice + system + irq + softirq) / tick,
        own=times.user + times.system + times.children_user + times.children_system,
        stolen=steal / tick,
    )


def other_work(start: CpuClock | None, end: CpuClock | None) -> dict[str, float | None]:
    """CPU seconds other processes used between the two readings, and seconds stolen by the hypervisor.

    The kernel counts in ticks (10 ms), so a quiet machine reads a few tenths of a second, not zero, and
    the tick rounding can make the difference slightly negative: that reads as no other work, 0.
    """
    if start is None or end is None:
        return {"other_cpu_s": None, "stolen_s": None}
    other = (end.machine_busy - start.machine_busy) - (end.own - start.own)
    return {"other_cpu_s": max(0.0, other), "stolen_s": end.stolen - start.stolen}
