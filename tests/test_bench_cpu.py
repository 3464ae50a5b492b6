"""The CPU benchmark's command line (the benchmark itself is a script, run by hand: bench/README.md)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def cpu_bench():
    sys.path.insert(0, str(BENCH))  # the script imports its neighbours in bench/, as when it runs from there
    yield importlib.import_module("cpu")
    sys.path.remove(str(BENCH))


@pytest.mark.parametrize(
    ("mode", "widths"), [("steps", [0.25, 0.5, 1.0]), ("epoch", [0.25, 0.5, 1.0]), ("options", [0.25])]
)
def test_each_mode_keeps_its_own_default_widths(cpu_bench, mode, widths):
    # A default set on one mode's subparser once leaked into the others through their shared parent parser.
    assert cpu_bench.parse_args([mode]).widths == widths
    assert cpu_bench.parse_args([mode, "--widths", "0.5"]).widths == [0.5]


def test_the_run_child_imports_no_slt_before_it_runs():
    # `cpu.py run --against COMMIT` runs bench/cpu_run.py with an older commit's slt on PYTHONPATH: importing it
    # must not load the current slt (whose modules an older commit lacks), nor the bench modules that do.
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import cpu_run; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'cpu_run'" in loaded
    assert not [m for m in ("'slt'", "'cases'", "'provenance'") if m in loaded]


@pytest.fixture(scope="module")
def machine_share():
    sys.path.insert(0, str(BENCH))
    yield importlib.import_module("machine_share")
    sys.path.remove(str(BENCH))


def test_other_work_is_the_machines_busy_time_less_the_benchmarks_own(machine_share, tmp_path):
    # /proc/stat's first line: user nice system idle iowait irq softirq steal (in clock ticks).
    tick = os.sysconf("SC_CLK_TCK")
    stat = tmp_path / "stat"
    stat.write_text(f"cpu  {10 * tick} {tick} {2 * tick} 999 0 0 0 {tick} 0 0\ncpu0 1 2 3\n")
    start = machine_share.read_cpu_clock(stat)
    assert (start.machine_busy, start.stolen) == (13.0, 1.0)
    stat.write_text(f"cpu  {20 * tick} {tick} {4 * tick} 999 0 0 0 {3 * tick} 0 0\n")
    later = machine_share.CpuClock(
        machine_busy=machine_share.read_cpu_clock(stat).machine_busy, own=start.own + 5.0, stolen=3.0
    )
    # 12 busy seconds of which 5 were the benchmark's own: 7 were other processes'; 2 s stolen
    assert machine_share.other_work(start, later) == {"other_cpu_s": pytest.approx(7.0), "stolen_s": 2.0}
    assert machine_share.read_cpu_clock(tmp_path / "absent") is None
    assert machine_share.other_work(None, later) == {"other_cpu_s": None, "stolen_s": None}


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="Linux publishes /proc/stat")
def test_the_benchmarks_own_cpu_time_counts_as_its_own(machine_share):
    start = machine_share.read_cpu_clock()
    end = start
    while end.own - start.own < 0.3:  # burn CPU in this process
        end = machine_share.read_cpu_clock()
    assert end.own - start.own >= 0.3
    assert end.machine_busy - start.machine_busy >= 0.3 - 0.05  # the machine saw it (to a few ticks)
