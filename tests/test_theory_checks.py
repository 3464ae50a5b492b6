"""The shared input checks: one ConfigError sentence for every input a solver cannot answer."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slt.errors import ConfigError
from slt.theory import checks


def one_sentence(err: pytest.ExceptionInfo) -> str:
    """The message, after checking it is one sentence that names a fix (problem: fix.)."""
    msg = str(err.value)
    assert msg.endswith(".") and ": " in msg and "\n" not in msg
    return msg


@settings(max_examples=60, deadline=None)
@given(st.integers(-(2**70), 2**70))
def test_count_accepts_whole_numbers_in_range(value):
    if value >= 0:
        assert checks.count(value, "n") == value
        assert checks.count(float(value), "n") == int(float(value))
    else:
        with pytest.raises(ConfigError, match="out of range") as err:
            checks.count(value, "n")
        one_sentence(err)


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v) or v != int(v)))
def test_count_refuses_fractions_and_non_finite_values(value):
    with pytest.raises(ConfigError, match="whole number") as err:
        checks.count(value, "draws")
    one_sentence(err)


@pytest.mark.parametrize("value", ["3", None, True, [3], 2 + 1j])
def test_count_refuses_non_numbers(value):
    with pytest.raises(ConfigError, match="whole number"):
        checks.count(value, "draws")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8))
def test_integers_refuse_any_fraction_and_keep_whole_values(values):
    x = np.array(values)
    if np.all(x == np.round(x)):
        np.testing.assert_array_equal(checks.integers(x, "the samples"), x.astype(np.int64))
    else:
        with pytest.raises(ConfigError, match="whole numbers") as err:
            checks.integers(x, "the samples")
        one_sentence(err)


def test_integers_refuse_values_beyond_int64():
    with pytest.raises(ConfigError, match="64-bit"):
        checks.integers([2**70, 1], "the values")
    with pytest.raises(ConfigError, match="64-bit"):
        checks.integers(np.array([2.0**64]), "the values")
    with pytest.raises(ConfigError, match="whole numbers"):
        checks.integers(["a"], "the values")


def test_reals_and_fractions():
    assert checks.real(0.5, "eps", positive=True) == 0.5
    for bad in (np.nan, np.inf, "x"):
        with pytest.raises(ConfigError):
            checks.real(bad, "eps")
    with pytest.raises(ConfigError, match="positive"):
        checks.real(0.0, "eps", positive=True)
    with pytest.raises(ConfigError, match="eps >= 0"):
        checks.real(-1.0, "eps", low=0.0)
    with pytest.raises(ConfigError, match="probability"):
        checks.fraction(1.5, "level")


def test_work_estimates_warn_then_refuse():
    checks.too_much_work(1.0, 10.0, 100.0, "a small job", "nothing to do")  # silent
    with pytest.warns(RuntimeWarning, match="about 50 s"):
        checks.too_much_work(50.0, 10.0, 100.0, "a medium job", "use fewer values")
    with pytest.raises(ConfigError, match="about 2 h") as err, warnings.catch_warnings():
        warnings.simplefilter("error")
        checks.too_much_work(7200.0, 10.0, 100.0, "a big job", "use fewer values")
    one_sentence(err)
