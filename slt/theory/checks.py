"""Input checks shared by the theory solvers: each refuses bad input with one sentence, before any work.

Every check raises :class:`slt.errors.ConfigError` naming the argument, what
is wrong with it and what to pass instead, so that a wrong input never turns
into a silent wrong answer (a float truncated to an integer, an int64 sum that
wraps around) or a traceback from deep inside NumPy.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..errors import ConfigError

INT64_SAFE = 2**62  # integer sums below this never overflow int64, even after adding a target of the same size


def count(value: object, name: str, low: int = 0, high: int | None = None) -> int:
    """``value`` as a Python int in [low, high]; refuses 2.7, NaN, strings and out-of-range counts."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={value!r} is not a whole number: pass an integer.")
    if isinstance(value, numbers.Integral):
        out = int(value)
    else:
        as_float = float(value)
        if not (math.isfinite(as_float) and as_float == int(as_float)):
            raise ConfigError(f"{name}={value!r} is not a whole number: pass an integer.")
        out = int(as_float)
    if out < low or (high is not None and out > high):
        bounds = f"{name} >= {low}" if high is None else f"{name} in {low}..{high}"
        raise ConfigError(f"{name}={out} is out of range: pass an integer {bounds}.")
    return out


def counts(values: object, name: str, low: int = 0, high: int | None = None) -> np.ndarray:
    """A non-empty sequence of counts as an int64 vector (each checked like :func:`count`)."""
    seq = np.atleast_1d(np.asarray(values, dtype=object)).ravel()
    if seq.size == 0:
        raise ConfigError(f"{name} is empty: pass at least one integer.")
    return np.array([count(v, name, low, high) for v in seq], dtype=np.int64)


def real(value: object, name: str, *, low: float | None = None, positive: bool = False) -> float:
    """``value`` as a finite float, optionally at least ``low`` or strictly positive."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a number: pass a finite real number.") from None
    if not math.isfinite(out):
        raise ConfigError(f"{name}={value!r} is not finite: pass a finite real number.")
    if positive and out <= 0:
        raise ConfigError(f"{name}={out:g} must be positive: pass {name} > 0.")
    if low is not None and out < low:
        raise ConfigError(f"{name}={out:g} is below {low:g}: pass {name} >= {low:g}.")
    return out


def fraction(value: object, name: str) -> float:
    """A probability level in (0, 1]."""
    out = real(value, name)
    if not 0.0 < out <= 1.0:
        raise ConfigError(f"{name}={out:g} is not a probability level: pass a number in (0, 1].")
    return out


def floats(values: object, name: str) -> np.ndarray:
    """``values`` as a float64 array of finite numbers (any shape)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be numeric: pass finite real numbers.") from None
    if not np.all(np.isfinite(x)):
        raise ConfigError(f"{name} must be finite (found NaN or infinity): pass finite numbers.")
    return x


def integers(values: object, name: str) -> np.ndarray:
    """``values`` as an int64 array, refusing non-integers (1.6) and integers beyond int64 (any shape).

    Floats with a whole value (2.0) are accepted; anything else would be
    truncated silently by a cast, so it is refused.
    """
    x = np.asarray(values)
    if x.dtype.kind in "iub":
        if x.dtype.kind == "u" and x.size and int(x.max()) > np.iinfo(np.int64).max:
            raise ConfigError(f"{name} must fit in 64-bit integers: pass integers below 2^63 in size.")
        return x.astype(np.int64)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) or not np.all(x == np.round(x)):
            raise ConfigError(f"{name} must be whole numbers (found a fraction, NaN or infinity): pass integers.")
        if x.size and np.abs(x).max() >= 2.0**63:
            raise ConfigError(f"{name} must fit in 64-bit integers: pass integers below 2^63 in size.")
        return x.astype(np.int64)
    if x.dtype.kind == "O":
        flat = x.ravel().tolist()
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in flat):
            raise ConfigError(f"{name} must be whole numbers: pass integers.")
        if any(not -(2**63) <= int(v) < 2**63 for v in flat):
            raise ConfigError(f"{name} must fit in 64-bit integers: pass integers below 2^63 in size.")
        return np.array(flat, dtype=np.int64).reshape(x.shape)
    raise ConfigError(f"{name} must be whole numbers, not {x.dtype}: pass integers.")


def same_length(a: np.ndarray, b: np.ndarray, names: str) -> None:
    """Refuse two vectors of different lengths."""
    if a.shape != b.shape:
        raise ConfigError(f"{names} have shapes {a.shape} and {b.shape}: pass one entry of each per point.")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def too_much_work(seconds: float, warn_at: float, refuse_at: float, what: str, fix: str) -> None:
    """Refuse (ConfigError) or warn (RuntimeWarning) when the estimated time of a computation is too long.

    ``what`` names the work (for example "2.1e+10 pair sums near the
    targets") and ``fix`` says how to shrink it; the estimate is for one CPU
    core, so it is rough, but it is made before the work starts.
    """
    if seconds > refuse_at:
        raise ConfigError(
            f"{what} would take about {_duration(seconds)} on one core, more than the "
            f"{_duration(refuse_at)} this solver accepts: {fix}."
        )
    if seconds > warn_at:
        warnings.warn(f"{what} will take about {_duration(seconds)} on one core: {fix}.", RuntimeWarning, stacklevel=3)
