"""Weight pruning vs neuron pruning for one bias-free ReLU neuron.

Target: f(x) = relu(w . x) with a unit vector w, x on the unit sphere in R^d.
Source: a random bias-free two-layer network with the target's output ReLU,

    N(x) = relu( sum_i v_i relu(u_i . x) ),   u_i ~ U[-1, 1]^d,  v_i ~ U[-1, 1].

*Weight pruning* (Pensia et al.'s gadget): hidden neuron i serves coordinate
j = i mod d and keeps only u_ij; since w_j x_j = w_j relu(x_j) - w_j relu(-x_j),
the neurons with u_ij > 0 must sum v_i u_ij to w_j and those with u_ij < 0 must
sum v_i abs(u_ij) to -w_j: 2d subset-sum problems, solved exactly. With e_j^+ and
e_j^- the two errors of coordinate j, the pre-activation error is
E(x) = sum_j e_j^+ relu(x_j) + e_j^- relu(-x_j), whose supremum over the sphere
is exactly ``max(norm(max(e+, e-, 0)), norm(max(-e+, -e-, 0)))``; the output ReLU is
1-Lipschitz, so that number is a *certified upper bound* on the sup error.

*Neuron pruning* keeps or drops whole hidden neurons: N_S(x) = relu(sum_{i in S}
v_i relu(u_i . x)). Its best error over a fixed set of points on the sphere is
computed *exactly* by trying every subset (small widths) or by a mixed-integer
program; when the program runs out of time its dual bound still *certifies*
that no subset does better. Both hold over the points, and a lower bound over
the points is also one for the supremum over the whole sphere.

The exponential-gap paper proves width O(d log 1/eps) suffices for weight
pruning while neuron pruning needs Omega(d / eps).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from tqdm.auto import tqdm

from ..errors import ConfigError
from . import checks
from .subset_sum import MAX_BATCH_VALUES, best_subsets

MAX_BRUTE_FORCE = 20  # 2^20 subsets of hidden neurons
MAX_BRUTE_FORCE_FAST = 12  # compare_pruning switches to the MILP above this width


@dataclass(frozen=True)
class TwoLayerNet:
    """N(x) = relu(sum_i v_i relu(u_i . x)); ``u`` is (width, d), ``v`` is (width,)."""

    u: np.ndarray
    v: np.ndarray

    def __post_init__(self) -> None:
        u, v = checks.floats(self.u, "the first-layer weights u"), checks.floats(self.v, "the second-layer weights v")
        if u.ndim != 2 or v.shape != (u.shape[0],) or u.shape[1] < 1:
            raise ConfigError(
                f"u has shape {u.shape} and v {v.shape}: pass u of shape (width, d) with d >= 1 "
                "and v of shape (width,)."
            )
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "v", v)

    @property
    def width(self) -> int:
        return self.v.size

    def prefix(self, width: int) -> TwoLayerNet:
        """The first ``width`` hidden neurons (a narrower network from the same draw)."""
        width = checks.count(width, "width")
        if width > self.width:
            raise ConfigError(f"width={width} is outside 0..{self.width}: draw a wider network.")
        return TwoLayerNet(self.u[:width], self.v[:width])

    def features(self, x: np.ndarray) -> np.ndarray:
        """The hidden contributions v_i relu(u_i . x), shape (points, width)."""
        _check_points(x, self.u.shape[1])
        return np.maximum(x @ self.u.T, 0.0) * self.v


def _check_target(w: object, d: int | None = None) -> np.ndarray:
    """The target vector w as a finite, non-zero float vector of length d (when d is given)."""
    w = checks.floats(w, "the target w")
    if w.ndim != 1 or w.size < 1 or (d is not None and w.size != d):
        want = "a vector" if d is None else f"a vector of length d={d} (one weight per input)"
        raise ConfigError(f"the target w has shape {w.shape}: pass {want}.")
    if not np.any(w):
        raise ConfigError("the target w is zero, so it has no kink to approximate: pass a non-zero vector.")
    return w


def _check_points(x: object, d: int) -> np.ndarray:
    x = checks.floats(x, "the points")
    if x.ndim != 2 or x.shape[1] != d:
        raise ConfigError(f"the points have shape {x.shape}: pass an array (points, d) with d={d}.")
    return x


def draw_network(rng: np.random.Generator, width: int, d: int) -> TwoLayerNet:
    """A random source network with U[-1, 1] weights."""
    width, d = checks.count(width, "width"), checks.count(d, "d", 1)
    return TwoLayerNet(rng.uniform(-1.0, 1.0, (width, d)), rng.uniform(-1.0, 1.0, width))


def draw_target(rng: np.random.Generator, d: int) -> np.ndarray:
    """A uniformly random unit vector w (for d = 1, +1 or -1 with equal odds)."""
    w = rng.standard_normal(checks.count(d, "d", 1))
    return w / np.linalg.norm(w)


def evaluation_points(
    w: np.ndarray, num_uniform: int = 360, num_kink: int = 1001, kink_width: float = 0.05, seed: int = 0
) -> np.ndarray:
    """The fixed points on the unit sphere where errors are measured: uniform ones plus a dense band at the kink.

    The hard part of relu(w . x) is its kink on the great sphere w . x = 0; an
    approximation with a misplaced kink is off by about the misplacement there
    and nowhere else, which uniform points miss once errors drop below their
    spacing. So ``num_kink`` more points sit within ``kink_width`` radians of
    the kink: for d = 2 evenly spaced around both kink angles, otherwise at
    random. Uniform points are evenly spaced angles for d = 2, random directions
    otherwise. For d = 1 the unit sphere is the two points -1 and +1 (the kink,
    at 0, is not on it), so those two are returned and a maximum over them *is*
    the supremum.
    """
    w = _check_target(w)
    num_uniform, num_kink = checks.count(num_uniform, "num_uniform"), checks.count(num_kink, "num_kink")
    kink_width = checks.real(kink_width, "kink_width", low=0.0)
    d = w.size
    if d == 1:
        return np.array([[-1.0], [1.0]])
    if num_uniform + num_kink == 0:
        raise ConfigError("num_uniform + num_kink is 0, so there is nowhere to measure: ask for some points.")
    w = w / np.linalg.norm(w)
    if d == 2:
        theta = 2 * np.pi * np.arange(num_uniform) / num_uniform
        uniform = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        perp = np.array([[-w[1], w[0]], [w[1], -w[0]]])
        alpha = np.linspace(-kink_width, kink_width, num_kink)
        kink = (np.cos(alpha)[None, :, None] * perp[:, None, :] + np.sin(alpha)[None, :, None] * w).reshape(-1, 2)
        return np.concatenate([uniform, kink])
    rng = np.random.default_rng(seed)
    uniform = rng.standard_normal((num_uniform, d))
    uniform /= np.linalg.norm(uniform, axis=1, keepdims=True)
    perp = rng.standard_normal((num_kink, d))
    perp -= np.outer(perp @ w, w)
    perp /= np.linalg.norm(perp, axis=1, keepdims=True)
    alpha = rng.uniform(-kink_width, kink_width, num_kink)
    return np.concatenate([uniform, np.cos(alpha)[:, None] * perp + np.sin(alpha)[:, None] * w])


def relu_neuron(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The target relu(w . x) at points x (points, d)."""
    w = _check_target(w)
    x = _check_points(x, w.size)
    return np.maximum(x @ w, 0.0)


@dataclass(frozen=True)
class WeightPruning:
    """A weight-pruned network: masks on u (width, d) and v (width,), and its certified bound."""

    u_mask: np.ndarray
    v_mask: np.ndarray
    err_pos: np.ndarray  # achieved coefficient of relu(x_j) minus w_j
    err_neg: np.ndarray  # achieved coefficient of relu(-x_j) minus (-w_j)
    bound: float  # sup over the unit sphere of the pre-activation error, >= the sup output error

    def output(self, net: TwoLayerNet, x: np.ndarray) -> np.ndarray:
        """The pruned network at points x."""
        hidden = np.maximum(x @ (net.u * self.u_mask).T, 0.0)
        return np.maximum(hidden @ (net.v * self.v_mask), 0.0)


def sphere_sup_bound(err_pos: np.ndarray, err_neg: np.ndarray) -> float:
    """``sup over norm(x) = 1 of abs(sum_j err_pos_j relu(x_j) + err_neg_j relu(-x_j))`` (exact).

    On each coordinate x picks the side with the larger coefficient, so the
    maximum of the sum is the norm of the positive parts of max(err_pos, err_neg);
    the minimum likewise with the signs flipped.
    """
    up = np.maximum(np.maximum(err_pos, err_neg), 0.0)
    down = np.maximum(np.maximum(-err_pos, -err_neg), 0.0)
    return float(max(np.linalg.norm(up), np.linalg.norm(down)))


def weight_pruning(net: TwoLayerNet, w: np.ndarray) -> WeightPruning:
    """The best block-gadget weight pruning of ``net`` for relu(w . x) (exact subset sums)."""
    n, d = net.u.shape
    w = _check_target(w, d)
    block = np.arange(n) % d
    u_own = net.u[np.arange(n), block]  # the one weight each hidden neuron keeps
    u_mask = np.zeros((n, d), dtype=bool)
    u_mask[np.arange(n), block] = True
    v_mask = np.zeros(n, dtype=bool)
    err = np.zeros((2, d))
    for j in range(d):
        for side, (sign, target) in enumerate(((1.0, w[j]), (-1.0, -w[j]))):
            members = np.flatnonzero((block == j) & (np.sign(u_own) == sign))
            if members.size > MAX_BATCH_VALUES:
                raise ConfigError(
                    f"{members.size} neurons on one side of a coordinate is more than the exact solver's "
                    f"{MAX_BATCH_VALUES}: use a width of at most about {MAX_BATCH_VALUES * d} per input."
                )
            samples = net.v[members] * np.abs(u_own[members])
            _, mask = best_subsets(samples[None, :], np.array([target]))
            v_mask[members[mask[0]]] = True
            chosen = samples[mask[0]].sum()
            err[side, j] = chosen - target
    return WeightPruning(u_mask, v_mask, err[0], err[1], sphere_sup_bound(err[0], err[1]))


def neuron_pruning_bruteforce(net: TwoLayerNet, w: np.ndarray, points: np.ndarray) -> tuple[float, np.ndarray]:
    """``min over subsets S of max over points abs(N_S(x) - relu(w . x))``, trying all 2^width subsets."""
    if net.width > MAX_BRUTE_FORCE:
        raise ConfigError(
            f"brute force over 2^{net.width} neuron subsets is too many (at most 2^{MAX_BRUTE_FORCE}): "
            "use neuron_pruning_milp for wider networks."
        )
    w = _check_target(w, net.u.shape[1])
    points = _check_points(points, w.size)
    phi = net.features(points)  # (P, n)
    y = relu_neuron(w, points)
    best, best_mask = np.inf, np.zeros(net.width, dtype=bool)
    chunk = max(1, (1 << 21) // max(1, points.shape[0]))
    for start in range(0, 1 << net.width, chunk):
        codes = np.arange(start, min(start + chunk, 1 << net.width))
        masks = (codes[:, None] >> np.arange(net.width)) & 1
        err = np.abs(np.maximum(masks @ phi.T, 0.0) - y).max(axis=1)
        i = int(np.argmin(err))
        if err[i] < best:
            best, best_mask = float(err[i]), masks[i].astype(bool)
    return best, best_mask


@dataclass(frozen=True)
class NeuronPruning:
    """The best neuron subset found, with a certified bracket on the best error over the points."""

    mask: np.ndarray  # kept hidden neurons
    upper: float  # the error of ``mask`` over the points (achieved, so an upper bound on the best)
    lower: float  # no subset does better than this over the points (certified by the MILP's dual bound)

    @property
    def solved(self) -> bool:
        """Whether the bracket has closed (relative gap below 1e-6), so ``upper`` is the exact optimum."""
        return self.upper - self.lower <= 1e-6 * max(self.upper, 1e-12)


def _point_error(phi: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(np.maximum(phi @ mask, 0.0) - y).max())


def neuron_pruning_milp(
    net: TwoLayerNet,
    w: np.ndarray,
    points: np.ndarray,
    *,
    start: np.ndarray | None = None,
    time_limit: float = 10.0,
    max_solves: int = 20,
) -> NeuronPruning:
    """Best neuron subset over ``points`` by mixed-integer programming (HiGHS), with a certified bracket.

    Given a known error t0 (of ``start``, or of the empty subset), every subset
    with error t <= t0 satisfies the linear constraints
    ``phi c <= y + t`` at all points and ``phi c >= y - t`` where y > t0 (there
    the output ReLU must be active). Minimising t over binary c under them gives
    a value no larger than the true optimum, so the solver's dual bound
    (capped at t0) is a certified lower bound; the subset it returns is then
    measured exactly, tightening t0 (or, if it is no better, t0 bisects the
    bracket), until the two meet or time or ``max_solves`` runs out. The
    bracket is always valid; it need not close (the relaxed constraints at
    points with y <= t0 can keep the dual bound below the optimum).
    Certified up to the solver's tolerances (about 1e-9 relative here).
    """
    w = _check_target(w, net.u.shape[1])
    points = _check_points(points, w.size)
    time_limit = checks.real(time_limit, "time_limit", positive=True)
    max_solves = checks.count(max_solves, "max_solves", 1)
    phi, y = net.features(points), relu_neuron(w, points)
    n = net.width
    mask = np.zeros(n) if start is None else checks.floats(start, "start").ravel()
    if mask.size != n or not np.all((mask == 0) | (mask == 1)):
        raise ConfigError(f"start must be a 0/1 mask of the {n} hidden neurons: pass one entry per neuron.")
    upper, lower = _point_error(phi, y, mask), 0.0
    ones = np.ones((y.size, 1))
    cost = np.r_[np.zeros(n), 1.0]
    bounds = Bounds(np.zeros(n + 1), np.r_[np.ones(n), np.inf])
    integrality = np.r_[np.ones(n), 0.0]
    deadline = time.monotonic() + time_limit
    t0 = upper
    for _ in range(max_solves):
        if upper - lower <= 1e-6 * upper or time.monotonic() >= deadline:
            break
        two = y > t0
        a = np.vstack([np.hstack([phi, -ones]), np.hstack([-phi[two], -ones[two]])])
        b = np.concatenate([y, -y[two]])
        res = milp(
            cost,
            constraints=LinearConstraint(a, -np.inf, b),
            integrality=integrality,
            bounds=bounds,
            options={"time_limit": max(0.1, deadline - time.monotonic()), "mip_rel_gap": 1e-9},
        )
        if res.status not in (0, 1):  # 1: stopped at the time limit, still with a valid dual bound
            raise RuntimeError(f"the MILP solver failed ({res.message}); cannot certify a bound.")
        if res.mip_dual_bound is not None:
            lower = max(lower, min(res.mip_dual_bound, t0))
        found = np.round(res.x[:n]) if res.x is not None else mask
        err = _point_error(phi, y, found)
        improved = err < upper
        if improved:
            upper, mask = err, found
            t0 = upper
        elif t0 >= upper:  # no better subset: try to prove the current one optimal ...
            t0 = upper * (1 - 1e-7)
        else:  # ... and if that fails, bisect to raise the lower bound
            t0 = (lower + upper) / 2
    return NeuronPruning(mask.astype(bool), upper, min(lower, upper))


@dataclass(frozen=True)
class PruningComparison:
    """Errors per draw (rows) and width (columns) for both kinds of pruning, over each draw's points."""

    wp_widths: np.ndarray
    wp_bound: np.ndarray  # certified sup-over-sphere bound of the weight-pruned network
    wp_measured: np.ndarray  # its actual max error over the evaluation points (<= wp_bound)
    np_widths: np.ndarray
    np_upper: np.ndarray  # error of the best neuron subset found (exact where np_lower equals it)
    np_lower: np.ndarray  # certified: no neuron subset does better over the points


def compare_pruning(
    d: int,
    per_input: Sequence[int],
    np_widths: Sequence[int],
    draws: int,
    *,
    time_limit: float = 5.0,
    num_uniform: int = 360,
    num_kink: int = 1001,
    kink_width: float = 0.05,
    seed: int = 0,
    progress: bool = True,
) -> PruningComparison:
    """Both kinds of pruning on the same random networks (prefixes of one wide draw per row).

    Weight pruning uses width d * m for each m in ``per_input``. Neuron pruning
    at each width in ``np_widths`` is solved by brute force up to
    ``MAX_BRUTE_FORCE`` neurons and by :func:`neuron_pruning_milp` (``time_limit``
    seconds each, started from the previous width's subset) beyond. All
    point-set errors use :func:`evaluation_points` of that draw's target.
    """
    d = checks.count(d, "d", 1)
    wp_widths = d * checks.counts(per_input, "per_input")
    np_widths = np.sort(checks.counts(np_widths, "np_widths"))
    draws, time_limit = checks.count(draws, "draws", 1), checks.real(time_limit, "time_limit", positive=True)
    widest = int(max(wp_widths.max(initial=0), np_widths.max(initial=0)))
    rng = np.random.default_rng(seed)
    wp_bound, wp_meas = np.empty((draws, wp_widths.size)), np.empty((draws, wp_widths.size))
    np_upper, np_lower = np.empty((draws, np_widths.size)), np.empty((draws, np_widths.size))
    for r in tqdm(range(draws), desc=f"pruning d={d}", disable=not progress):
        net, w = draw_network(rng, widest, d), draw_target(rng, d)
        points = evaluation_points(w, num_uniform, num_kink, kink_width, seed)
        y = relu_neuron(w, points)
        for i, n in enumerate(wp_widths):
            sub = net.prefix(int(n))
            wp = weight_pruning(sub, w)
            wp_bound[r, i] = wp.bound
            wp_meas[r, i] = np.abs(wp.output(sub, points) - y).max()
        best = np.zeros(0, dtype=bool)
        for i, n in enumerate(np_widths):
            sub = net.prefix(int(n))
            start = np.r_[best, np.zeros(int(n) - best.size, dtype=bool)]
            if n <= MAX_BRUTE_FORCE_FAST:
                err, best = neuron_pruning_bruteforce(sub, w, points)
                np_upper[r, i] = np_lower[r, i] = err
            else:
                found = neuron_pruning_milp(sub, w, points, start=start, time_limit=time_limit)
                best, np_upper[r, i], np_lower[r, i] = found.mask, found.upper, found.lower
    return PruningComparison(wp_widths, wp_bound, wp_meas, np_widths, np_upper, np_lower)
