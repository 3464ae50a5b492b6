"""The frozen-network paper's claims, each checked against our records at one scale.

A :class:`Claim` names the sweep whose records it rests on, the chapter that
draws them, and a rule that turns those records into a measurement (a sentence
with our numbers) and a verdict: ``holds``, ``partly``, ``does not hold``, or
``not measured`` while the records it needs do not exist. Every rule is
written out in the claim's ``rule`` so a reader can disagree with it; accuracies
are first averaged over seeds.

A verdict, for the paper or against it, is only given when the effect it rests
on is larger than the seed noise of the runs compared (their mean standard
deviation over seeds); otherwise the verdict is ``not resolved`` at that scale.
Small networks trained briefly are noisy, and noise is evidence neither against
a claim nor for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .frames import prune_lock_split, search_space_position, sweep_results, with_derived_columns
from .sweeps import sweep_configs

HOLDS, PARTLY, DOES_NOT_HOLD, NOT_MEASURED = "holds", "partly", "does not hold", "not measured"
NOT_RESOLVED = "not resolved"
VERDICTS = (HOLDS, PARTLY, DOES_NOT_HOLD, NOT_RESOLVED, NOT_MEASURED)
ACC = "test accuracy (%)"

# The scales whose records the book sets beside the paper: ours, and the paper's where such records exist.
SCALES_SHOWN = ("laptop", "full")
# Accuracy costs (percentage points) that the words of the freezing claim stand for.
SMALL_COST_PP = 2.0
ALMOST_NO_COST_PP = 0.5
# The freezing ratio used by the paper's Table 1 and Figs. 4 and 6, where the freezing claim is read.
CLAIM_FREEZE = 0.6


@dataclass(frozen=True)
class Finding:
    """Our measurement, in one sentence, and the verdict it leads to."""

    measurement: str
    verdict: str
    effect: float | None = None
    """The difference the verdict rests on (pp), when it rests on one."""
    noise: float | None = None
    """The mean standard deviation over seeds of the accuracies compared (pp)."""

    def resolved(self) -> Finding:
        """This finding, or ``not resolved`` when its verdict rests on an effect within the seed noise,
        or on one seed (nothing to measure the noise with)."""
        decided = self.verdict in (HOLDS, PARTLY, DOES_NOT_HOLD)
        if decided and self.effect is not None and self.noise is None:
            note = " One seed only: there is no seed noise yet to tell this effect from."
            return Finding(self.measurement + note, NOT_RESOLVED, self.effect, self.noise)
        if decided and self.noise is not None and self.effect is not None and abs(self.effect) < self.noise:
            note = f" The effect ({self.effect:+.2f} pp) is within the seed noise ({self.noise:.2f} pp)."
            return Finding(self.measurement + note, NOT_RESOLVED, self.effect, self.noise)
        return self


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, where to check it, and how."""

    statement: str
    sweep: str
    chapter: str
    rule: str
    check: Callable[[pd.DataFrame], Finding]


def _seed_means(df: pd.DataFrame, by: list[str]) -> pd.Series:
    return df.groupby(by, observed=True)[ACC].mean()


def _seed_noise(df: pd.DataFrame, by: list[str]) -> float | None:
    """Mean standard deviation over seeds of the settings grouped by ``by``; None with one seed."""
    std = df.groupby(by, observed=True)[ACC].std().dropna()
    return None if std.empty else float(std.mean())


def best_sparsity_at_centre(df: pd.DataFrame) -> Finding:
    """Where each split's best sparsity lies; the effect is the centre's mean margin over the splits.

    A split's margin is how far its centre is ahead of its best other position (positive), or behind
    its best position (negative): a best position that wins by less than the seed noise decides nothing.
    """
    df = df.assign(position=search_space_position(df).round(3), split=prune_lock_split(df))
    means = _seed_means(df, ["ticket.layerwise", "split", "position"])
    best, margins = [], []
    for (rule, split), curve in means.groupby(level=[0, 1]):
        by_position = curve.droplevel([0, 1])
        positions = by_position.index
        if len(positions) < 3:
            continue  # a best position needs at least one on each side to mean anything
        centre = positions[np.argmin(np.abs(positions - 0.5))]
        top = by_position.idxmax()
        margins.append(by_position[centre] - by_position.drop(centre).max())
        best.append(f"{rule.upper()} p : r = {split} → {top:.1f}")
    if not best:
        return Finding("No split has three or more sparsities measured.", NOT_MEASURED)
    centred = sum(m > 0 for m in margins)
    verdict = HOLDS if centred == len(best) else PARTLY if 2 * centred >= len(best) else DOES_NOT_HOLD
    return Finding(
        f"Best position in [p, 1 − r] per split: {'; '.join(best)}. At the centre in {centred} of {len(best)}; "
        f"the centre's margin over the best other position is {np.mean(margins):+.2f} pp on average.",
        verdict,
        float(np.mean(margins)),
        _seed_noise(df, ["ticket.layerwise", "split", "position"]),
    )


def epl_beats_erk(df: pd.DataFrame) -> Finding:
    df = df.assign(position=search_space_position(df).round(3), split=prune_lock_split(df))
    table = _seed_means(df, ["split", "position", "ticket.layerwise"]).unstack()
    if not {"epl", "erk"} <= set(table.columns):
        return Finding("EPL and ERK are not both measured.", NOT_MEASURED)
    gap = (table["epl"] - table["erk"]).dropna()
    if gap.empty:
        return Finding("No setting is measured with both EPL and ERK.", NOT_MEASURED)
    ahead = int((gap > 0).sum())
    verdict = HOLDS if gap.mean() > 0 and 4 * ahead >= 3 * len(gap) else PARTLY if gap.mean() > 0 else DOES_NOT_HOLD
    return Finding(
        f"EPL − ERK: {gap.mean():+.2f} pp on average over {len(gap)} matched settings; EPL ahead in {ahead}.",
        verdict,
        float(gap.mean()),
        _seed_noise(df, ["split", "position", "ticket.layerwise"]),
    )


def freezing_cost(df: pd.DataFrame) -> Finding:
    parts, met, excess, noise = [], [], [], []
    limits = {"conv6": SMALL_COST_PP, "resnet18": ALMOST_NO_COST_PP}
    for model, limit in limits.items():
        rows = df[(df["model"] == model) & (df["dataset"] == "cifar10")]
        if rows.empty:
            continue
        k = rows["sparsity"].max()
        curve = _seed_means(rows[np.isclose(rows["sparsity"], k)], ["freezing ratio"])
        ratios = curve.index.to_numpy()
        at = ratios[np.isclose(ratios, CLAIM_FREEZE)]
        if not (np.isclose(ratios, 0.0).any() and at.size):
            continue
        cost = curve[ratios[np.isclose(ratios, 0.0)][0]] - curve[at[0]]
        met.append(cost <= limit)
        excess.append(cost - limit)
        compared = rows[np.isclose(rows["sparsity"], k) & rows["freezing ratio"].isin([0.0, at[0]])]
        noise.append(_seed_noise(compared, ["freezing ratio"]))
        parts.append(
            f"{model} (k = {k:.1f}): {-cost:+.2f} pp from f = 0 to f = {CLAIM_FREEZE} "
            f"(claim: a loss of at most {limit} pp)"
        )
    if len(parts) < len(limits):
        return Finding("; ".join(parts) or "Neither Conv6 nor ResNet-18 is measured at f = 0 and 0.6.", NOT_MEASURED)
    verdict = HOLDS if all(met) else PARTLY if any(met) else DOES_NOT_HOLD
    known = [n for n in noise if n is not None]
    return Finding("; ".join(parts) + ".", verdict, max(excess), float(np.mean(known)) if known else None)


def gaps_at_equal(df: pd.DataFrame, x: str, source: str, reference: str) -> pd.Series:
    """Accuracy of ``source`` minus that of ``reference`` at the same ``x``, over the points of ``source``.

    The reference curve (seed means) is interpolated linearly in log ``x``; points
    of ``source`` outside its measured range are left out rather than extrapolated.
    """
    ours = _seed_means(df[df["source"] == source], [x])
    ref = _seed_means(df[df["source"] == reference], [x]).sort_index()
    if ours.empty or ref.empty:
        return pd.Series(dtype=float)
    lo, hi = ref.index.min(), ref.index.max()
    inside = ours[(ours.index >= lo) & (ours.index <= hi)]
    level = np.interp(np.log(inside.index.to_numpy(float)), np.log(ref.index.to_numpy(float)), ref.to_numpy())
    return inside - level


def _verdict_from_gaps(gaps: pd.Series) -> str:
    """Holds when ahead (or level) everywhere compared, partly when ahead on average."""
    return HOLDS if (gaps >= 0).all() else PARTLY if gaps.mean() >= 0 else DOES_NOT_HOLD


def _describe_gaps(gaps: pd.Series, unit: str) -> str:
    return ", ".join(f"{g:+.2f} pp at {v:,.4g} {unit}" for v, g in gaps.items())


def wider_frozen_matches_dense(df: pd.DataFrame) -> Finding:
    gaps = gaps_at_equal(df, "num_searchable", "frozen", "dense")
    if gaps.empty:
        return Finding("No frozen network has a search space inside the dense networks' range.", NOT_MEASURED)
    return Finding(
        f"Frozen − dense at equal search space: {_describe_gaps(gaps, 'searchable weights')}.",
        _verdict_from_gaps(gaps),
        float(gaps.mean()),
        _seed_noise(df, ["source", "width"]),
    )


def frozen_best_size_tradeoff(df: pd.DataFrame) -> Finding:
    parts, gaps = [], []
    for reference in ("dense", "sparse"):
        gap = gaps_at_equal(df, "model_mb", "frozen", reference)
        if not gap.empty:
            gaps.append(gap)
            parts.append(f"vs {reference}: {_describe_gaps(gap, 'MB')}")
    if len(gaps) < 2:
        return Finding("Frozen networks cannot yet be compared with both dense and sparse ones.", NOT_MEASURED)
    every = pd.concat(gaps, ignore_index=True)
    return Finding(
        f"Frozen at equal model size, {'; '.join(parts)}.",
        _verdict_from_gaps(every),
        float(every.mean()),
        _seed_noise(df, ["source", "width"]),
    )


def signed_constant_margin_shrinks(df: pd.DataFrame) -> Finding:
    table = _seed_means(df, ["width", "ticket.weights"]).unstack()
    if not {"signed_constant", "kaiming_uniform"} <= set(table.columns):
        return Finding("Signed-constant and Kaiming-uniform weights are not both measured.", NOT_MEASURED)
    margin = (table["signed_constant"] - table["kaiming_uniform"]).dropna().sort_index()
    if margin.empty:
        return Finding("No width is measured with both kinds of weights.", NOT_MEASURED)
    shrinks = len(margin) > 1 and bool((np.diff(margin.to_numpy()) <= 0).all())
    verdict = HOLDS if (margin > 0).all() and shrinks else PARTLY if margin.mean() > 0 else DOES_NOT_HOLD
    widths = ", ".join(f"{m:+.2f} pp at width {w:g}" for w, m in margin.items())
    return Finding(
        f"Signed constant − Kaiming uniform: {widths}.",
        verdict,
        float(margin.mean()),
        _seed_noise(df, ["width", "ticket.weights", "source"]),
    )


def frozen_gin_beats_weight_training(df: pd.DataFrame) -> Finding:
    gin = df[df["model"] == "gin"]
    table = _seed_means(gin, ["dataset", "source"]).unstack()
    if table.empty or not {"frozen", "weight training"} <= set(table.columns):
        return Finding("The GIN has no frozen ticket and weight-training run on the same graph.", NOT_MEASURED)
    gap = (table["frozen"] - table["weight training"]).dropna()
    verdict = HOLDS if (gap > 0).any() else DOES_NOT_HOLD
    graphs = ", ".join(f"{g:+.2f} pp on {d}" for d, g in gap.items())
    compared = gin[gin["source"].isin(["frozen", "weight training"])]
    return Finding(
        f"Frozen ticket − weight training: {graphs}.",
        verdict,
        float(gap.max()),
        _seed_noise(compared, ["dataset", "source"]),
    )


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "The best ticket of each prune:lock split lies at the centre of its search space.",
        "fig4",
        "frozen-positioning",
        "Holds when, for every split and layer-wise rule, the sparsity with the best accuracy is the one nearest "
        "the centre of [p, 1 − r]; partly when that is so for at least half of them.",
        best_sparsity_at_centre,
    ),
    Claim(
        "EPL layer-wise ratios beat ERK.",
        "fig4",
        "frozen-positioning",
        "Holds when EPL is ahead on average over the matched settings and in at least three quarters of them; "
        "partly when ahead on average only.",
        epl_beats_erk,
    ),
    Claim(
        "Freezing shrinks the search space at a small accuracy cost for Conv6 and almost none for ResNet-18 "
        "at high sparsity.",
        "fig5",
        "frozen-freezing-ratio",
        f"At the highest sparsity, the accuracy lost from f = 0 to f = {CLAIM_FREEZE} is at most "
        f"{SMALL_COST_PP} pp for Conv6 and {ALMOST_NO_COST_PP} pp for ResNet-18: holds when both are, "
        "partly when one is.",
        freezing_cost,
    ),
    Claim(
        "At equal search space, a wider frozen network is at least as accurate as a dense one.",
        "fig6",
        "frozen-width",
        "Each frozen width is compared with the dense curve interpolated (in log search space) at the same number "
        "of searchable weights: holds when never behind, partly when ahead on average.",
        wider_frozen_matches_dense,
    ),
    Claim(
        "Frozen tickets trade accuracy for model size better than dense and sparse ones.",
        "fig6",
        "frozen-width",
        "Each frozen width is compared with the dense and the sparse curves interpolated (in log model size) at "
        "the same size in MB: holds when never behind either, partly when ahead on average.",
        frozen_best_size_tradeoff,
    ),
    Claim(
        "Signed-constant weights beat Kaiming-uniform ones, by a margin that shrinks with width.",
        "fig7",
        "frozen-model-size",
        "Holds when signed constant is ahead at every width and the margin never grows with width; partly when "
        "it is ahead on average.",
        signed_constant_margin_shrinks,
    ),
    Claim(
        "On the graph network, a frozen ticket can beat weight training.",
        "table1",
        "frozen-graphs",
        "Holds when the frozen GIN ticket is ahead of weight training on at least one graph.",
        frozen_gin_beats_weight_training,
    ),
)


def assess(claim: Claim, results_dir: str | os.PathLike[str] = "results", scale: str = "laptop") -> dict[str, str]:
    """One claim against the committed records of its sweep at ``scale``, as one row of the page's table."""
    records, status = sweep_results(claim.sweep, scale, results_dir)
    if records is None:
        finding = Finding(
            f"No {scale}-scale records yet: `slt reproduce {claim.sweep} --scale {scale}` makes them.", NOT_MEASURED
        )
    else:
        finding = claim.check(with_derived_columns(records)).resolved()
        if finding.verdict == NOT_RESOLVED:
            finding = Finding(finding.measurement, f"{NOT_RESOLVED} at {scale} scale", finding.effect, finding.noise)
        try:
            total = len(sweep_configs(claim.sweep, scale, results_dir))
        except ConfigError:
            total = len(records)
        if len(records) < total:
            finding = Finding(f"{finding.measurement} (From {len(records)} of {total} runs.)", finding.verdict)
    return {
        "claim": claim.statement,
        "scale": scale,
        "measurement": finding.measurement,
        "verdict": finding.verdict,
        "sweep": claim.sweep,
        "chapter": claim.chapter,
        "records": status,
        "rule": claim.rule,
    }


def assess_all(results_dir: str | os.PathLike[str] = "results", scales: tuple[str, ...] = SCALES_SHOWN) -> pd.DataFrame:
    """Every claim of the paper at every scale shown in the book, one row each."""
    return pd.DataFrame([assess(claim, results_dir, scale) for claim in CLAIMS for scale in scales])
