"""Build a strong lottery ticket by hand: one subset-sum problem per target weight.

Pensia et al. (2020) replace each target layer x -> W x (in -> out) by two
random layers x -> V relu(U x) of hidden width in * m and prune them:

* hidden neuron i = j*m + t serves input j and keeps only U[i, j] (u for short),
  so it computes relu(u x_j): u relu(x_j) if u > 0, abs(u) relu(-x_j) if u < 0;
* since W[k, j] x_j = W[k, j] relu(x_j) - W[k, j] relu(-x_j), output k keeps
  the neurons of block j with u > 0 whose products V[k, i] u sum closest to
  W[k, j], and those with u < 0 whose V[k, i] abs(u) sum closest to -W[k, j].

That is 2 * out * in independent random subset-sum problems, each solved
exactly (:func:`slt.theory.subset_sum.best_subsets`) over the first
``MAX_SIDE`` = 24 neurons of its sign (more would add nothing at float64
precision; the rest are pruned). Where the input of a
layer is the output of a ReLU it is non-negative, relu(-x_j) = 0, and only the
first family is needed. With P and N the achieved coefficients of relu(x_j)
and relu(-x_j), the per-weight errors are E+ = P - W and E- = N + W, and for
any input the pruned layer computes W x + e(x) with ``abs(e(x)) <= A abs(x)``
elementwise, ``A = max(abs(E+), abs(E-))`` (``A = abs(E+)`` after a ReLU).
Because ReLU is 1-Lipschitz, the deviation ``d_l = abs(ticket_l - target_l)``
of the activations obeys::

    d_{l+1} <= abs(W_l) d_l + A_l (abs(x_l) + d_l),    d_0 = 0,

which :func:`output_error_bound` evaluates; with every per-weight error at
most eps, A_l may be replaced by the all-eps matrix. Burkholz (2022) shows how
to save one of the two layers per target layer; this module keeps the simpler
two-layer gadget.

The quantized variant draws the source weights on a grid of precision 2^-bits
and rounds the target to precision 2^-target_bits (target_bits <= 2 * bits).
Products of two source weights are then integers in units of 2^-(2 bits), the
subset sums are solved in exact integer arithmetic, and a weight whose problem
is solved with error zero is represented *exactly*.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import ConfigError
from . import checks
from .subset_sum import best_subsets

MAX_PER_INPUT = 128  # random neurons per input coordinate (the source layer has in * m * in weights)
MAX_SIDE = 24  # same-sign neurons one subset-sum problem uses: 2^12 half-sums, fast in batches
MAX_BITS = 28  # exact int64 subset sums: MAX_SIDE products of 2*bits bits, plus the target, stay below 2^62


def check_target(model: nn.Module) -> list[nn.Module]:
    """The layers of a bias-free ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``, or ConfigError."""
    if not isinstance(model, nn.Sequential):
        raise ConfigError(f"the target must be an nn.Sequential, not {type(model).__name__}: wrap its layers in one.")
    layers = list(model)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            if layer.bias is not None:
                raise ConfigError(f"layer {i} has a bias, which this construction cannot build: use bias=False.")
        elif not isinstance(layer, nn.ReLU):
            raise ConfigError(
                f"layer {i} is a {type(layer).__name__}; the construction handles only nn.Linear and nn.ReLU: "
                "rewrite the target with those."
            )
    if not any(isinstance(layer, nn.Linear) for layer in layers):
        raise ConfigError("the target has no nn.Linear layer: there is nothing to construct.")
    return layers


def quantize_target(target: nn.Sequential, target_bits: int) -> nn.Sequential:
    """A copy of the target with every weight rounded to the nearest multiple of 2^-target_bits."""
    check_target(target)
    step = 2.0 ** -checks.count(target_bits, "target_bits", 0, 2 * MAX_BITS)
    out = copy.deepcopy(target)
    with torch.no_grad():
        for layer in out:
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.round(layer.weight / step) * step)
    return out


@dataclass
class LayerErrors:
    """Per-weight errors of one constructed target layer (both (out, in), float64)."""

    pos: np.ndarray  # achieved coefficient of relu(x_j) minus W[k, j]
    neg: np.ndarray  # achieved coefficient of relu(-x_j) minus (-W[k, j]); NaN if not built
    nonneg_input: bool  # the layer follows a ReLU, so only ``pos`` matters

    def bound_matrix(self) -> np.ndarray:
        """A with ``abs(e(x)) <= A abs(x)`` elementwise for every input the layer can receive."""
        return np.abs(self.pos) if self.nonneg_input else np.maximum(np.abs(self.pos), np.abs(self.neg))


@dataclass
class ConstructedTicket:
    """A ticket built by :func:`construct_ticket`: a random source network, its masks, and what it approximates.

    Not a ticket file (that is ``slt.ticket.Ticket``): this one lives in memory
    and also carries the per-weight errors of the construction.
    """

    source: nn.Sequential
    masks: list[torch.Tensor]  # one per nn.Linear of ``source``, same shape as its weight
    errors: list[LayerErrors]  # one per nn.Linear of ``reference``
    reference: nn.Sequential  # the network the ticket approximates (the target, or its quantized copy)

    def pruned(self) -> nn.Sequential:
        """The ticket as a plain ``nn.Sequential``: the source with pruned weights set to zero."""
        out = copy.deepcopy(self.source)
        linears = [layer for layer in out if isinstance(layer, nn.Linear)]
        with torch.no_grad():
            for layer, mask in zip(linears, self.masks, strict=True):
                layer.weight.mul_(mask.to(layer.weight.dtype))
        return out

    @property
    def max_weight_error(self) -> float:
        """The largest per-weight error over every problem that matters."""
        return float(max(e.bound_matrix().max() for e in self.errors))

    @property
    def kept(self) -> int:
        """Number of weights the ticket keeps."""
        return int(sum(int(m.sum()) for m in self.masks))

    @property
    def source_size(self) -> int:
        """Number of weights of the random source network."""
        return int(sum(m.numel() for m in self.masks))


def _draw(rng: np.random.Generator, shape: tuple[int, ...], bits: int | None) -> np.ndarray:
    """Source weights: U[-1, 1], or integers uniform in [-2^bits, 2^bits] (units of 2^-bits)."""
    if bits is None:
        return rng.uniform(-1.0, 1.0, shape)
    return rng.integers(-(2**bits), 2**bits, shape, endpoint=True)


def _solve_side(
    v: np.ndarray, u_own: np.ndarray, targets: np.ndarray, side: int, per_input: int
) -> tuple[np.ndarray, np.ndarray]:
    """Solve every (k, j) problem of one side (+1: u > 0, -1: u < 0); returns the V mask and achieved sums.

    Problems of inputs with the same number of same-sign neurons are batched
    together (``v`` is (out, in, m), ``u_own`` is (in, m), ``targets`` is (out, in)).
    A side uses its first ``MAX_SIDE`` neurons at most; any further ones are
    pruned (24 values already resolve about 2^-24 of the range).
    """
    out_dim, in_dim = targets.shape
    v_mask = np.zeros((out_dim, in_dim, per_input), dtype=bool)
    achieved = np.zeros((out_dim, in_dim), dtype=v.dtype)
    members = np.sign(u_own) == side
    counts = np.minimum(members.sum(axis=1), MAX_SIDE)
    for s in np.unique(counts):
        cols = np.flatnonzero(counts == s)
        if s == 0:
            continue
        idx = np.argsort(~members[cols], axis=1, kind="stable")[:, :s]  # the first s same-sign neurons
        prod = v[:, cols[:, None], idx] * np.abs(u_own[cols[:, None], idx])[None]  # (out, len(cols), s)
        _, mask = best_subsets(prod.reshape(-1, s), targets[:, cols].reshape(-1))
        mask = mask.reshape(out_dim, cols.size, s)
        achieved[:, cols] = (prod * mask).sum(axis=2)
        v_mask[:, cols[:, None], idx] = mask
    return v_mask, achieved


def _check_bits(bits: object, target_bits: object, dtype: torch.dtype, largest: float) -> None:
    """Refuse precisions whose integer subset sums would leave int64, or whose weights ``dtype`` cannot hold exactly."""
    bits = checks.count(bits, "bits", 1)
    if bits > MAX_BITS:
        raise ConfigError(
            f"bits={bits} is more than {MAX_BITS}: products of two {bits}-bit weights, summed over up to {MAX_SIDE} "
            f"neurons, would overflow exact 64-bit integers, so use bits <= {MAX_BITS}."
        )
    exact = round(-math.log2(torch.finfo(dtype).eps)) + 1  # integers up to 2^(mantissa bits + 1) are exact
    if bits > exact:
        raise ConfigError(
            f"bits={bits} weights do not fit exactly in the target's {dtype} (at most {exact} bits): "
            f"use bits <= {exact} or a float64 target."
        )
    if target_bits is not None:
        target_bits = checks.count(target_bits, "target_bits")
        if not 0 < target_bits <= 2 * bits:
            raise ConfigError(
                f"target_bits={target_bits} must lie in 1..{2 * bits} (products of two {bits}-bit weights "
                "have 2*bits bits): lower target_bits or raise bits."
            )
    if (largest + MAX_SIDE) * 2.0 ** (2 * bits) >= checks.INT64_SAFE:
        raise ConfigError(
            f"target weights up to {largest:.3g} in units of 2^-{2 * bits} would overflow exact 64-bit integers: "
            "lower bits or scale the target down."
        )


def construct_ticket(
    target: nn.Sequential,
    per_input: int,
    *,
    seed: int = 0,
    bits: int | None = None,
    target_bits: int | None = None,
    progress: bool = True,
) -> ConstructedTicket:
    """Draw a random source network (hidden width ``in * per_input`` per target layer) and prune it.

    With ``bits`` the source weights lie on the grid 2^-bits and the ticket
    approximates the target quantized to 2^-target_bits (default: ``bits``),
    exactly wherever a problem is solved with zero error.
    """
    layers = check_target(target)
    per_input = checks.count(per_input, "per_input", 1)
    if per_input > MAX_PER_INPUT:
        raise ConfigError(
            f"per_input={per_input} is more than {MAX_PER_INPUT} random neurons per input coordinate; "
            f"beyond {2 * MAX_SIDE} the extra neurons are pruned anyway: use per_input <= {MAX_PER_INPUT}."
        )
    dtype = next(layer.weight.dtype for layer in layers if isinstance(layer, nn.Linear))
    largest = 0.0
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            weight = layer.weight.detach()
            if not torch.isfinite(weight).all():
                raise ConfigError(f"layer {i} has NaN or infinite weights: pass a target with finite weights.")
            largest = max(largest, float(weight.abs().max()))
    if bits is not None:
        _check_bits(bits, target_bits, dtype, largest)
        target_bits = bits if target_bits is None else target_bits
        reference = quantize_target(target, target_bits)
    else:
        reference = copy.deepcopy(target)
    rng = np.random.default_rng(seed)
    source: list[nn.Module] = []
    masks: list[torch.Tensor] = []
    errors: list[LayerErrors] = []
    nonneg = False
    ref_layers = list(reference)
    for pos, layer in enumerate(tqdm(layers, desc="constructing", disable=not progress)):
        if isinstance(layer, nn.ReLU):
            source.append(nn.ReLU())
            nonneg = True
            continue
        w = ref_layers[pos].weight.detach().to(torch.float64).cpu().numpy()
        out_dim, in_dim = w.shape
        hidden = in_dim * per_input
        u_full, v = _draw(rng, (hidden, in_dim), bits), _draw(rng, (out_dim, hidden), bits)
        if bits is None:  # solve with the values the float model will actually hold
            u_full = torch.as_tensor(u_full).to(dtype).double().numpy()
            v = torch.as_tensor(v).to(dtype).double().numpy()
            targets = w
        else:
            targets = np.rint(w * 2.0 ** (2 * bits)).astype(np.int64)  # exact: w is a multiple of 2^-target_bits
        u_own = u_full[np.arange(hidden), np.repeat(np.arange(in_dim), per_input)].reshape(in_dim, per_input)
        v3 = v.reshape(out_dim, in_dim, per_input)
        v_mask, achieved_pos = _solve_side(v3, u_own, targets, +1, per_input)
        if nonneg:
            err_neg = np.full(w.shape, np.nan)
        else:
            v_mask_neg, achieved_neg = _solve_side(v3, u_own, -targets, -1, per_input)
            v_mask |= v_mask_neg
            err_neg = (achieved_neg + targets).astype(np.float64)
        err_pos = (achieved_pos - targets).astype(np.float64)
        scale = 1.0 if bits is None else 2.0 ** (-2 * bits)
        errors.append(LayerErrors(err_pos * scale, err_neg * scale, nonneg))
        v_mask = v_mask.reshape(out_dim, hidden)
        used = v_mask.any(axis=0)  # hidden neurons that some output keeps
        u_mask = np.zeros((hidden, in_dim), dtype=bool)
        u_mask[np.flatnonzero(used), np.flatnonzero(used) // per_input] = True
        step = 1.0 if bits is None else 2.0**-bits
        first = nn.Linear(in_dim, hidden, bias=False, dtype=dtype)
        second = nn.Linear(hidden, out_dim, bias=False, dtype=dtype)
        with torch.no_grad():
            first.weight.copy_(torch.as_tensor(u_full * step, dtype=dtype))
            second.weight.copy_(torch.as_tensor(v * step, dtype=dtype))
        source += [first, nn.ReLU(), second]
        masks += [torch.as_tensor(u_mask), torch.as_tensor(v_mask)]
        nonneg = False
    return ConstructedTicket(nn.Sequential(*source), masks, errors, reference)


def output_error_bound(ticket: ConstructedTicket, x: torch.Tensor, eps: float | None = None) -> torch.Tensor:
    """Elementwise bound on ``abs(ticket(x) - reference(x))`` by ``d_{l+1} <= abs(W) d_l + A (abs(x_l) + d_l)``.

    With ``eps`` every A is the all-eps matrix: the promise that follows from
    "every per-weight error is at most eps" alone. Exact arithmetic; evaluating
    the networks in floating point adds its own (tiny) rounding on top.
    """
    if eps is not None:
        eps = checks.real(eps, "eps", low=0.0)
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ConfigError("x must be a tensor of shape (batch, inputs): add a batch dimension.")
    act = x.detach().to(torch.float64).flatten(1)
    first = next(layer for layer in ticket.reference if isinstance(layer, nn.Linear))
    if act.shape[1] != first.in_features:
        raise ConfigError(
            f"x has {act.shape[1]} inputs per example but the network takes {first.in_features}: pass matching inputs."
        )
    if not torch.isfinite(act).all():
        raise ConfigError("x contains NaN or infinity: pass finite inputs.")
    dev = torch.zeros_like(act)
    errors = iter(ticket.errors)
    for layer in ticket.reference:
        if isinstance(layer, nn.ReLU):
            act = torch.relu(act)
            continue
        w = layer.weight.detach().to(torch.float64).cpu()
        layer_err = next(errors)
        a = torch.full_like(w, eps) if eps is not None else torch.as_tensor(layer_err.bound_matrix())
        dev = dev @ w.abs().T + (act.abs() + dev) @ a.T
        act = act @ w.T
    return dev
