"""The CPU allocator setting: applied on glibc, and never over a user's own choice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slt.allocator import USER_VARIABLES, keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_thresholds_are_set_on_linux():
    assert keep_freed_memory() is True


@pytest.mark.parametrize("variable", USER_VARIABLES)
def test_a_users_own_allocator_variable_is_left_alone(monkeypatch, variable):
    monkeypatch.setenv(variable, "12345")
    assert keep_freed_memory() is False


@pytest.mark.slow  # trains in a fresh interpreter
def test_a_training_process_sets_it_without_any_variable(tmp_path):
    """What a sweep job or a notebook kernel does: call run() on the CPU; the thresholds are then set."""
    code = (
        "import ctypes, slt.train, slt.allocator\n"
        "called = []\n"
        "original = slt.train.keep_freed_memory\n"
        "slt.train.keep_freed_memory = lambda: called.append(original()) or called[-1]\n"
        "from slt.config import RunConfig\n"
        "try:\n"
        "    slt.train.run(RunConfig(model='gin', dataset='cora'), r'{}', r'{}', 'cpu', progress=False)\n"
        "except Exception:\n"
        "    pass\n"
        "print(called)\n"
    ).format(tmp_path / "out", tmp_path / "no-data")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    expected = "[True]" if sys.platform.startswith("linux") else "[False]"
    assert out.strip().splitlines()[-1] == expected
