"""The CPU benchmark's command line (the benchmark itself is a script, run by hand: bench/README.md)."""

import importlib
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
