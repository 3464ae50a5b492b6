"""The laptop protocol's tables, on records laid out exactly as a laptop sweep writes them.

Records here are fixtures (``device: fixture``) with accuracies and times from a
formula, written into a temporary results folder; the book reads only ``results/``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from slt.config import RunConfig, TicketConfig
from slt.models import ModelSpec
from slt.paper.protocol import (
    budget,
    calibration_table,
    chosen_lr,
    describe_size,
    frozen_rows_run_as_sparse,
    graph_table,
    grid_comparison,
    planned_configs,
    protocol_table,
    quiet_runs,
    record_counts,
    repository_paths,
    scale_sentence,
    ticket_files,
    verdict_lines,
)
from slt.paper.scales import grid, size_of
from slt.paper.sweeps import sweep_configs, sweep_dir
from slt.run_tickets import ticket_file
from slt.supermask import apply_ticket_search
from slt.ticket import export_ticket

import fixture_records

SECONDS_PER_EPOCH = {"conv6": 10.0, "resnet18": 60.0, "gin": 1.0}
BENCH = Path(__file__).resolve().parents[1] / "bench" / "results"  # the committed benchmark files


def write_records(results, sweep, keep=lambda c: True, accuracy=lambda c: 50.0, scale="laptop", models=None):
    """One record per config of the sweep at ``scale`` that ``keep`` accepts; time = epochs x a per-model rate.

    ``models`` lists only those networks' configs (Table 1 lists a network's rows once its fig5 runs exist)."""
    configs = [c for c in sweep_configs(sweep, scale, results, models=models) if keep(c)]
    timing = lambda c: {  # noqa: E731
        "best_val_acc": accuracy(c) / 100 + 0.01,
        "best_epoch": c.epochs,
        "wall_seconds": SECONDS_PER_EPOCH[c.model] * c.epochs,
    }
    fixture_records.write_records(sweep_dir(results, sweep, scale), configs, accuracy, timing)
    return configs


def test_sizes_and_sentences_come_from_the_scales():
    conv6 = size_of("laptop", "conv6")
    assert describe_size("conv6", "cifar10", "laptop") == (
        f"Conv6 at {conv6.width:g}× the paper's width, {conv6.train_subset:,} of 40,000 training images, "
        f"{conv6.epochs} of 100 epochs"
    )
    gin = f"GIN at the paper's width, the full split of Cora, {size_of('laptop', 'gin').epochs} of 400 epochs"
    assert describe_size("gin", "cora", "laptop") == gin
    assert describe_size("resnet18", "cifar10", "full").endswith("all 40,000 training images, 100 epochs")
    sentence = scale_sentence("fig5", "laptop")
    seeds = len(grid("fig5", "laptop")["seeds"])
    assert sentence.startswith("At laptop scale: ") and f"over {seeds} seeds" in sentence and "ResNet-18" in sentence
    assert f"over {len(grid('fig4', 'full')['seeds'])} seeds" in scale_sentence("fig4", "full")


def test_grid_comparison_sets_the_scales_side_by_side():
    table = grid_comparison("fig4")
    assert list(table.columns) == ["laptop", "full"]
    assert table.loc["positions", "laptop"] == ", ".join(f"{p:g}" for p in grid("fig4", "laptop")["positions"])
    assert table.loc["seeds", "full"] == ", ".join(map(str, grid("fig4", "full")["seeds"]))
    assert table.loc["Conv6 size", "full"].startswith("the paper's width")


def test_table1_and_fig6_are_listed_at_a_stand_in_sparsity_until_fig5_has_records(tmp_path):
    configs, final = planned_configs("table1", "laptop", tmp_path)
    assert not final
    # Per seed and graph: weight training, one dense ticket, and a sparse and a frozen one per freezing ratio.
    points = grid("table1", "laptop")
    expected = sum(
        len(points["seeds"][m]) * (len(points["graphs"]) if m == "gin" else 1) * (2 + 2 * len(points["freezes"][m]))
        for m in points["models"]
    )
    assert len(configs) == expected
    write_records(tmp_path, "fig5")
    configs, final = planned_configs("table1", "laptop", tmp_path)
    assert final and len(configs) == len(sweep_configs("table1", "laptop", tmp_path))


def test_a_network_whose_fig5_runs_are_complete_counts_its_table1_records_while_others_wait(tmp_path):
    write_records(tmp_path, "fig5", keep=lambda c: c.model == "gin")  # Conv6 and ResNet-18 have none yet
    gin_rows = write_records(tmp_path, "table1", models=("gin",))
    configs, final = planned_configs("table1", "laptop", tmp_path)
    assert not final
    assert {c.run_id for c in gin_rows} <= {c.run_id for c in configs}
    table = protocol_table("laptop", tmp_path)
    gin = table[(table["sweep"] == "table1") & table["network"].str.startswith("GIN")]
    assert len(gin) == 2 and (gin["recorded"] == gin["runs"]).all()


def test_protocol_measures_recorded_hours_and_projects_the_rest(tmp_path):
    recorded = write_records(tmp_path, "fig4", keep=lambda c: c.seed == 0)
    runs = len(sweep_configs("fig4", "laptop"))
    epochs = recorded[0].epochs
    table = protocol_table("laptop", tmp_path, bench_results=tmp_path / "no-benchmark")
    fig4 = table[table["sweep"] == "fig4"].iloc[0]
    assert fig4["runs"] == runs and fig4["recorded"] == len(recorded) < runs
    assert fig4["hours measured"] == pytest.approx(len(recorded) * epochs * 10 / 3600)
    assert fig4["hours projected for the rest"] == pytest.approx((runs - len(recorded)) * epochs * 10 / 3600)
    assert fig4["longest run (min)"] == pytest.approx(epochs * 10 / 60)
    # Fig. 7's Conv6 runs are projected from the fig4 runs of the same model; the GIN has no record at all.
    assert table.loc[table["sweep"] == "fig7", "hours projected for the rest"].iloc[0] > 0
    gin = table[(table["sweep"] == "fig5") & (table["network"] == "GIN / Cora")].iloc[0]
    assert math.isnan(gin["hours projected for the rest"])

    rows = budget(table).set_index("sweep")
    assert rows.loc["fig4", "met"] == "so far"
    assert rows.loc["fig4", "elapsed hours on 2 cores"] == pytest.approx(runs * epochs * 10 / 3600 / 2)
    assert rows.loc["all", "met"] == "unknown"  # the GIN runs cannot be projected yet


def test_a_run_costs_its_cpu_time_where_its_record_has_one_else_its_wall_time(tmp_path):
    """A paused or crowded run's wall time holds time it did not use; its CPU time does not."""
    configs = write_records(tmp_path, "fig7")
    folder = sweep_dir(tmp_path, "fig7", "laptop")
    paused = configs[:3]  # wall time inflated by a pause; CPU time half the fixture's rate
    for c in paused:
        path = folder / f"{c.run_id}.json"
        record = json.loads(path.read_text())
        path.write_text(json.dumps(record | {"wall_seconds": 1e5, "cpu_seconds": record["wall_seconds"] / 2}))
    row = protocol_table("laptop", tmp_path, bench_results=tmp_path / "no-benchmark").set_index("sweep").loc["fig7"]
    wall = sum(SECONDS_PER_EPOCH[c.model] * c.epochs for c in configs)
    cpu_saved = sum(SECONDS_PER_EPOCH[c.model] * c.epochs / 2 for c in paused)
    assert row["hours measured"] == pytest.approx((wall - cpu_saved) / 3600)
    assert row["measured as"] == f"CPU time (3 runs), wall time ({len(configs) - 3})"
    assert row["longest run (min)"] == pytest.approx(max(SECONDS_PER_EPOCH[c.model] * c.epochs for c in configs) / 60)
    assert row["run timed"] == "in the sweep"


def test_a_complete_sweep_is_judged_against_the_budget(tmp_path):
    write_records(tmp_path, "fig7")
    rows = budget(protocol_table("laptop", tmp_path, bench_results=tmp_path / "no-benchmark")).set_index("sweep")
    assert rows.loc["fig7", "recorded"] == rows.loc["fig7", "runs"]
    assert rows.loc["fig7", "met"] is True


def test_a_run_the_benchmark_timed_alone_is_judged_on_that_time_not_on_a_crowded_record(tmp_path):
    """Fig. 6's widest Conv6 runs, recorded at 1e5 s each, are judged per run on the committed benchmark's
    run of that network, width and method alone; their hours still add up as recorded."""
    bench = tmp_path / "bench"
    bench.mkdir()
    shutil.copy(BENCH / "cpu-run-conv6-0.375.json", bench)
    write_records(tmp_path, "fig5", keep=lambda c: c.model == "conv6")  # Fig. 6 searches at fig5's best sparsity
    configs = write_records(tmp_path, "fig6")
    widest = [c for c in configs if c.width == max(c.width for c in configs)]
    for c in widest:
        path = sweep_dir(tmp_path, "fig6", "laptop") / f"{c.run_id}.json"
        path.write_text(json.dumps(json.loads(path.read_text()) | {"wall_seconds": 1e5}))
    alone = quiet_runs(bench)["minutes"].max()
    row = protocol_table("laptop", tmp_path, bench_results=bench).set_index("sweep").loc["fig6"]
    assert row["longest run (min)"] == pytest.approx(alone)
    assert row["longest recorded (min)"] == pytest.approx(1e5 / 60)
    assert row["run timed"] == f"alone ({len(widest)} runs), in the sweep ({len(configs) - len(widest)})"
    others = sum(SECONDS_PER_EPOCH[c.model] * c.epochs for c in configs if c not in widest)
    assert row["hours measured"] == pytest.approx((others + 1e5 * len(widest)) / 3600)
    judged = budget(protocol_table("laptop", tmp_path, bench_results=bench)).set_index("sweep").loc["fig6"]
    assert judged["longest run (min)"] == pytest.approx(alone)
    assert judged["met"] is False  # per run within budget, but the recorded hours are far over 3


def test_a_benchmark_run_stands_only_for_runs_of_its_network_width_and_method(tmp_path):
    """Calibration trains Conv6's weights at width 0.25: the 0.375 ticket search says nothing of it."""
    write_records(tmp_path, "calibration")
    bench = tmp_path / "bench"
    bench.mkdir()
    shutil.copy(BENCH / "cpu-run-conv6-0.375.json", bench)
    row = protocol_table("laptop", tmp_path, bench_results=bench).set_index("sweep").loc["calibration"]
    assert row["run timed"] == "in the sweep"
    assert row["longest run (min)"] == pytest.approx(row["longest recorded (min)"])
    shutil.copy(BENCH / "cpu-run-conv6-weight-training.json", bench)
    row = protocol_table("laptop", tmp_path, bench_results=bench).set_index("sweep").loc["calibration"]
    assert row["run timed"] == "alone"
    weight_training = quiet_runs(bench).set_index("method").loc["weight training", "minutes"]
    assert row["longest run (min)"] == pytest.approx(weight_training)


def test_calibration_picks_the_learning_rate_with_the_best_validation_accuracy(tmp_path):
    assert chosen_lr(calibration_table(tmp_path)) is None
    lrs = sorted(grid("calibration", "laptop")["lrs"], reverse=True)
    best = lrs[len(lrs) // 2]
    write_records(tmp_path, "calibration", accuracy=lambda c: 45.0 if c.lr == best else 20.0)
    table = calibration_table(tmp_path)
    assert list(table["lr"]) == lrs
    assert table["best validation accuracy (%)"].tolist() == pytest.approx([46.0 if lr == best else 21.0 for lr in lrs])
    assert chosen_lr(table) == best


def test_verdict_lines_name_the_scale_and_never_say_not_measured_as_a_failure(tmp_path):
    lines = verdict_lines("frozen-positioning", tmp_path)
    assert len(lines) == 2 and all("Our verdict at laptop scale: not measured." in line for line in lines)
    assert len(verdict_lines("fig6", tmp_path, scales=("laptop", "full"))) == 4


def test_a_network_whose_frozen_rows_are_sparse_ones_is_named_with_the_reason(tmp_path):
    assert frozen_rows_run_as_sparse("laptop", tmp_path) == []  # no fig5 records: no sparsity, no rows
    fixture_records.write_sweep(tmp_path, "fig5", fixture_records.fig5_accuracy)  # dense peak at k = 0.7
    assert frozen_rows_run_as_sparse("laptop", tmp_path) == []  # at 0.7 every frozen row locks a part
    shutil.rmtree(tmp_path / "fig5")
    fixture_records.write_sweep(tmp_path, "fig5", lambda c: c.ticket.sparsity / 2)  # dense peak at the sparsest, 0.9
    lines = frozen_rows_run_as_sparse("laptop", tmp_path)
    networks = ("Conv6 / CIFAR-10", "GIN / Cora", "GIN / CiteSeer", "ResNet-18 / CIFAR-10")  # the laptop order
    assert [line.split("**")[1] for line in lines] == [f"{name} has no frozen row." for name in networks]
    assert "$k = 0.9$" in lines[3] and "$f$ = 0.6 and 0.8" in lines[3] and "($p$ = 0.6 and 0.8)" in lines[3]


def test_ticket_files_are_listed_beside_their_records(tmp_path):
    configs = write_records(tmp_path, "fig5")
    folder = sweep_dir(tmp_path, "table1", "laptop")
    table1 = write_records(tmp_path, "table1", keep=lambda c: c.model == "conv6" and c.seed == 0)
    ticketed = [c for c in table1 if c.ticket is not None]
    assert configs and ticketed
    spec = ModelSpec("conv6", (3, 32, 32), 10, width=ticketed[0].width)
    for c in ticketed:
        search = apply_ticket_search(spec.build(), c.ticket)
        path = ticket_file(folder, c.run_id)
        path.parent.mkdir(exist_ok=True)
        export_ticket(search, spec, path)
    table = ticket_files(folder)
    assert len(table) == len(ticketed)
    assert set(table["source"]) == {"dense", "sparse", "frozen"}
    assert (table["supermask bits (bytes)"] >= table["model size (bytes, record)"]).all()
    assert (table["file (bytes)"] > table["supermask bits (bytes)"]).all()
    assert (table["statistics (bytes)"] == 0).all()  # Conv6 has no normalisation statistics


def test_graph_table_sets_tickets_beside_reference_runs():
    rows = []
    for seed, acc in ((0, 0.80), (1, 0.82)):
        c = RunConfig(model="gin", dataset="cora", seed=seed, ticket=None)
        rows.append({"model": "gin", "dataset": "cora", "seed": seed, "test_acc": acc})
        t = RunConfig(model="gin", dataset="cora", seed=seed, ticket=TicketConfig(sparsity=0.7, freeze=0.6))
        assert c.run_id != t.run_id
        rows.append(
            {"model": "gin", "dataset": "cora", "seed": seed, "test_acc": acc + 0.01}
            | {"ticket.sparsity": 0.7, "ticket.freeze": 0.6, "ticket.prune": 0.3, "ticket.lock": 0.3}
        )
    base = pd.DataFrame(
        [
            {"model": m, "dataset": "cora", "split": "full", "seed": s, "test_acc": 0.86}
            for m in ("gcn", "gin")
            for s in (0, 1)
        ]
    )
    table = graph_table(pd.DataFrame(rows), base)
    assert list(table.columns) == ["Cora"]
    assert table.index[0] == "GIN (authors'), weight training"
    assert table.loc["GIN (authors'), weight training", "Cora"] == "81.00 ± 1.41 (2 seeds)"
    assert table.loc["GIN (authors'), SLT frozen (k = 0.7, p + r = 0.6)", "Cora"].startswith("82.00")
    assert table.loc["GCN (reference)", "Cora"] == "86.00 ± 0.00 (2 seeds)"
    assert graph_table(None, None).empty


def test_sentences_can_name_one_model_and_counts_cover_every_sweep(tmp_path):
    gin = scale_sentence("table1", "laptop", models=("gin",))
    assert gin.startswith("At laptop scale: GIN at") and "Conv6" not in gin
    assert f"over {len(grid('table1', 'laptop')['seeds']['gin'])} seeds" in gin
    write_records(tmp_path, "fig7", keep=lambda c: c.seed == 0)
    counts = record_counts(tmp_path).set_index(["sweep", "scale"])
    assert counts.loc[("fig7", "laptop"), "recorded"] == len(sweep_configs("fig7", "laptop")) // 2
    assert counts.loc[("fig7", "full"), "recorded"] == 0
    assert set(counts.index.get_level_values("sweep")) == {"calibration", "fig4", "fig5", "fig6", "fig7", "table1"}


def test_status_sentences_name_the_committed_folder_as_the_repository_does():
    from slt.paper.chapters import COMMITTED

    assert repository_paths(f"records in `{COMMITTED / 'fig5' / 'laptop'}/`") == "records in `results/fig5/laptop/`"


def test_quiet_runs_lists_the_benchmarks_laptop_sized_runs_of_its_own_code(tmp_path):
    """On three committed benchmark files: the 16-epoch Conv6 run at width 0.375 is laptop-sized; the 4-epoch
    runs and the 8-epoch ResNet-18 run (the laptop scale trains it 5 epochs) are not."""
    names = ("cpu-run-conv6-0.375.json", "cpu-run-resnet18.json", "cpu-run-4-epochs.json")
    for name in names:
        shutil.copy(BENCH / name, tmp_path / name)
    table = quiet_runs(tmp_path)
    (case,) = json.loads((BENCH / names[0]).read_text())["sections"]["run"]["cases"]
    (run,) = case["runs"]["current"]
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["network"], row["width"], row["epochs"], row["method"]) == (
        "Conv6 / CIFAR-10",
        0.375,
        size_of("laptop", "conv6").epochs,
        "ticket search",
    )
    assert row["minutes"] == pytest.approx(run["run_seconds"] / 60)
    # this benchmark selects on the laptop scale's validation subset (--selection laptop), which the row says
    assert (row["training images"], row["validation images"], row["threads"]) == (12_800, 2_000, 2)
    assert row["commit"] == run["git_commit"][:8] and row["file"].endswith(names[0])
    assert quiet_runs(tmp_path / "absent").empty
