"""The CPU benchmark's command line (the benchmark itself is a script, run by hand: bench/README.md)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "cpu.py"


@pytest.fixture(scope="module")
def cpu_bench():
    spec = importlib.util.spec_from_file_location("bench_cpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.mark.parametrize(
    ("mode", "widths"), [("steps", [0.25, 0.5, 1.0]), ("epoch", [0.25, 0.5, 1.0]), ("options", [0.25])]
)
def test_each_mode_keeps_its_own_default_widths(cpu_bench, mode, widths):
    # A default set on one mode's subparser once leaked into the others through their shared parent parser.
    assert cpu_bench.parse_args([mode]).widths == widths
    assert cpu_bench.parse_args([mode, "--widths", "0.5"]).widths == [0.5]
