"""The verdict rules of slt.paper.claims, on records laid out exactly as a sweep writes them.

Each test writes one record per config of a sweep's real grid (laptop scale, whose
records the book shows, unless the test says otherwise) into a temporary results
folder (``fixture_records``), with accuracies from a formula whose verdict is known,
and checks what :func:`slt.paper.claims.assess` concludes.
"""

from __future__ import annotations

import pytest

from slt.cli import main
from slt.paper.claims import (
    CLAIMS,
    DOES_NOT_HOLD,
    HOLDS,
    NOT_MEASURED,
    NOT_RESOLVED,
    PARTLY,
    SCALES_SHOWN,
    assess,
    assess_all,
)
from slt.paper.sweeps import sweep_configs

from fixture_records import freezing_ratio, position, write_sweep

CLAIM = {claim.check.__name__: claim for claim in CLAIMS}


def verdict(results, check: str, scale: str = "laptop") -> str:
    return assess(CLAIM[check], results, scale)["verdict"]


def test_without_records_every_claim_is_not_measured_at_every_scale_and_names_the_command(tmp_path):
    table = assess_all(tmp_path)
    assert list(zip(table["claim"], table["scale"], strict=True)) == [
        (claim.statement, scale) for claim in CLAIMS for scale in SCALES_SHOWN
    ]
    assert set(table["verdict"]) == {NOT_MEASURED}
    for row in table.itertuples():
        assert f"slt reproduce {row.sweep} --scale {row.scale}" in row.measurement


@pytest.mark.parametrize(
    ("peak", "epl_bonus", "centre", "epl"),
    [(0.5, 1.0, HOLDS, HOLDS), (0.1, -1.0, DOES_NOT_HOLD, DOES_NOT_HOLD), (0.5, 0.0, HOLDS, DOES_NOT_HOLD)],
)
def test_positioning_claims(tmp_path, peak, epl_bonus, centre, epl):
    def accuracy(c):
        return 80 - 20 * (position(c) - peak) ** 2 + (epl_bonus if c.ticket.layerwise == "epl" else 0)

    write_sweep(tmp_path, "fig4", accuracy)
    assert verdict(tmp_path, "best_sparsity_at_centre") == centre
    row = assess(CLAIM["epl_beats_erk"], tmp_path)
    assert (row["verdict"], row["scale"]) == (epl, "laptop")
    assert f"EPL − ERK: {epl_bonus:+.2f} pp on average over 6 matched settings" in row["measurement"]


def test_centre_claim_is_partly_true_when_only_some_splits_peak_there(tmp_path):
    def accuracy(c):
        peak = 0.5 if c.ticket.lock > 0.2 else 0.9  # three of the five splits of the full grid peak at the centre
        return 80 - 20 * (position(c) - peak) ** 2

    write_sweep(tmp_path, "fig4", accuracy, scale="full")
    assert verdict(tmp_path, "best_sparsity_at_centre", "full") == PARTLY


@pytest.mark.parametrize(
    ("conv6_cost", "resnet_cost", "expected"), [(1.0, 0.2, HOLDS), (3.0, 0.2, PARTLY), (3.0, 1.0, DOES_NOT_HOLD)]
)
def test_freezing_cost_claim(tmp_path, conv6_cost, resnet_cost, expected):
    cost = {"conv6": conv6_cost, "resnet18": resnet_cost, "gin": 5.0}

    def accuracy(c):
        return 85 - cost[c.model] * freezing_ratio(c) / 0.6

    write_sweep(tmp_path, "fig5", accuracy)
    assert verdict(tmp_path, "freezing_cost") == expected


def test_freezing_cost_claim_waits_for_resnet_records(tmp_path):
    write_sweep(tmp_path, "fig5", lambda c: 85.0, keep=lambda c: c.model != "resnet18")
    row = assess(CLAIM["freezing_cost"], tmp_path)
    assert row["verdict"] == NOT_MEASURED
    configs = sweep_configs("fig5", "laptop")
    kept = sum(c.model != "resnet18" for c in configs)
    assert "conv6" in row["measurement"] and row["measurement"].endswith(f"(From {kept} of {len(configs)} runs.)")
    assert "missing" in row["records"]


def test_a_verdict_against_a_claim_within_the_seed_noise_is_not_resolved(tmp_path):
    def accuracy(c):  # signed constant 0.5 pp behind on average, seeds 4 pp apart
        return 80 + (-0.5 if c.ticket.weights == "signed_constant" else 0) + (2 if c.seed else -2)

    write_sweep(tmp_path, "fig7", accuracy)
    row = assess(CLAIM["signed_constant_margin_shrinks"], tmp_path)
    assert row["verdict"] == f"{NOT_RESOLVED} at laptop scale"
    assert row["measurement"].endswith("The effect (-0.50 pp) is within the seed noise (2.83 pp).")


def test_a_verdict_against_a_claim_beyond_the_seed_noise_stands(tmp_path):
    def accuracy(c):  # signed constant 5 pp behind, seeds 1 pp apart
        return 80 + (-5 if c.ticket.weights == "signed_constant" else 0) + (0.5 if c.seed else -0.5)

    write_sweep(tmp_path, "fig7", accuracy)
    row = assess(CLAIM["signed_constant_margin_shrinks"], tmp_path)
    assert row["verdict"] == DOES_NOT_HOLD
    assert "-5.00 pp at width 0.125, -5.00 pp at width 0.25" in row["measurement"]
    assert "seed noise" not in row["measurement"]


@pytest.mark.parametrize(("frozen_bonus", "expected"), [(1.0, HOLDS), (-1.0, DOES_NOT_HOLD)])
def test_width_claims(tmp_path, frozen_bonus, expected):
    def accuracy(c):
        # accuracy grows with the search space for every source; frozen sits above or below that curve
        searchable = (1 - freezing_ratio(c)) * c.width**2
        return 70 + 5 * searchable + (frozen_bonus if c.ticket.freeze else 0)

    write_sweep(tmp_path, "fig6", accuracy)
    assert verdict(tmp_path, "wider_frozen_matches_dense") == expected
    assert verdict(tmp_path, "frozen_best_size_tradeoff") == expected


@pytest.mark.parametrize(
    ("margin", "expected"),
    [(lambda w: 2 / w, HOLDS), (lambda w: 2 * w, PARTLY), (lambda w: -1.0, DOES_NOT_HOLD)],
    ids=["shrinking", "growing", "behind"],
)
def test_signed_constant_claim(tmp_path, margin, expected):
    def accuracy(c):
        return 80 + (margin(c.width) if c.ticket.weights == "signed_constant" else 0)

    write_sweep(tmp_path, "fig7", accuracy)
    assert verdict(tmp_path, "signed_constant_margin_shrinks") == expected


@pytest.mark.parametrize(("ahead_on", "expected"), [({"cora"}, HOLDS), (set(), DOES_NOT_HOLD)])
def test_graph_claim(tmp_path, ahead_on, expected):
    def accuracy(c):
        if c.ticket is None:
            return 75.0
        return 76.0 if c.dataset in ahead_on and c.ticket.freeze else 74.0

    write_sweep(tmp_path, "table1", accuracy)
    row = assess(CLAIM["frozen_gin_beats_weight_training"], tmp_path)
    assert row["verdict"] == expected
    assert "cora" in row["measurement"] and "citeseer" in row["measurement"]


def test_a_verdict_for_a_claim_within_the_seed_noise_is_not_resolved_either(tmp_path):
    def accuracy(c):  # the frozen GIN ticket 0.5 pp ahead of weight training, seeds 4 pp apart
        ahead = 0.5 if c.ticket is not None and c.ticket.freeze else 0.0
        return 75 + ahead + (2 if c.seed % 2 else -2)

    write_sweep(tmp_path, "table1", accuracy)
    row = assess(CLAIM["frozen_gin_beats_weight_training"], tmp_path)
    assert row["verdict"] == f"{NOT_RESOLVED} at laptop scale"
    assert "+0.50 pp on cora" in row["measurement"] and "is within the seed noise" in row["measurement"]


def test_reproduce_on_finished_records_draws_the_figure_and_gives_the_verdicts(tmp_path, capsys):
    def accuracy(c):
        return 80 + (2 / c.width if c.ticket.weights == "signed_constant" else 0)

    results = tmp_path / "results"
    write_sweep(results, "fig7", accuracy)
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*.json")}
    status = main(["reproduce", "fig7", "--out", str(results), "--figure-dir", str(tmp_path / "fig")])
    out = capsys.readouterr().out
    assert status == 0
    assert (tmp_path / "fig" / "fig7.png").stat().st_size > 0
    assert {p: p.stat().st_mtime_ns for p in results.rglob("*.json")} == before  # nothing ran again
    assert "fig7 (laptop): 16 records" in out
    # laptop widths are the grid's (0.5, 1) times the scale's 0.25
    assert f"{HOLDS}: Signed constant − Kaiming uniform: +16.00 pp at width 0.125, +8.00 pp at width 0.25." in out


def test_a_verdict_on_one_seed_is_not_resolved(tmp_path):
    """A sweep recorded for its first seed only (as the laptop fig7 was, part way) gives no verdict."""

    def accuracy(c) -> float:
        return 50.0 - (5.0 if c.ticket.weights == "signed_constant" else 0.0)

    write_sweep(tmp_path, "fig7", accuracy, keep=lambda c: c.seed == 0)
    row = assess(CLAIM["signed_constant_margin_shrinks"], tmp_path, "laptop")
    assert row["verdict"] == f"{NOT_RESOLVED} at laptop scale"
    assert "-5.00 pp at width 0.125" in row["measurement"] and "One seed only" in row["measurement"]


def test_the_centre_claim_on_one_seed_or_within_the_noise_is_not_resolved(tmp_path):
    """As the laptop fig4 read part way: its first seed's best positions decide nothing without seed noise."""

    def off_centre(c) -> float:  # every split peaks at the low end, 2 pp ahead of its centre
        return 80 - 2 * position(c)

    write_sweep(tmp_path / "one", "fig4", off_centre, keep=lambda c: c.seed == 0)
    row = assess(CLAIM["best_sparsity_at_centre"], tmp_path / "one")
    assert row["verdict"] == f"{NOT_RESOLVED} at laptop scale" and "One seed only" in row["measurement"]

    def noisy(c) -> float:  # the same curves, seeds 8 pp apart
        return off_centre(c) + (4 if c.seed else -4)

    write_sweep(tmp_path / "noisy", "fig4", noisy)
    row = assess(CLAIM["best_sparsity_at_centre"], tmp_path / "noisy")
    assert row["verdict"] == f"{NOT_RESOLVED} at laptop scale" and "within the seed noise" in row["measurement"]

    write_sweep(tmp_path / "all", "fig4", off_centre)
    row = assess(CLAIM["best_sparsity_at_centre"], tmp_path / "all")
    assert row["verdict"] == DOES_NOT_HOLD and "At the centre in 0 of" in row["measurement"]
