"""Reference GCN / GIN on real Cora: they learn, their records carry provenance, the sweep resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from slt.errors import ConfigError
from slt.paper.baselines import baseline_path, baseline_sweep, build_baseline, load_baselines, run_baseline, summarize

from realdata import copy_planetoid


@pytest.fixture(scope="module")
def cora_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a copy of the real raw Cora files."""
    return copy_planetoid(tmp_path_factory.mktemp("baselines"), "Cora")


@pytest.mark.slow
def test_a_short_gin_run_beats_chance_and_records_its_provenance(cora_root: Path) -> None:
    # The GIN learns within 15 steps (test 0.76-0.81 for seeds 0-2); the GCN, on row-normalised
    # features at lr 0.01, predicts the largest class for its first 25 steps.
    torch.set_num_threads(1)
    record = run_baseline("gin", "cora", 0, "full", cora_root, epochs=15, progress=False)
    assert record["test_acc"] > 0.6  # seven classes: chance is about 0.14, the largest class 0.32
    assert record["train_nodes"] == 1208 and record["split"] == "full" and record["epochs"] == 15
    assert 1 <= record["best_epoch"] <= 15 and len(record["history"]) == 15
    best = record["history"][record["best_epoch"] - 1]
    assert best["val_acc"] == record["best_val_acc"] == max(h["val_acc"] for h in record["history"])
    assert best["test_acc"] == record["test_acc"]
    assert record["data_variant"] == "original, full split, row-normalised features"
    assert {"python", "platform", "versions", "git_commit", "wall_seconds", "device"} <= set(record)
    assert "torch_geometric" in record["versions"]
    json.dumps(record)  # a record is plain JSON


@pytest.mark.slow
def test_a_seed_repeats_exactly(cora_root: Path) -> None:
    torch.set_num_threads(1)
    runs = [run_baseline("gin", "cora", 3, "public", cora_root, epochs=3, progress=False) for _ in range(2)]
    assert runs[0]["history"] == runs[1]["history"] and runs[0]["train_nodes"] == 140


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="choose one of gcn, gin"):
        build_baseline("gat", 8, 3)
    with pytest.raises(ConfigError, match="choose one of gcn, gin"):
        run_baseline("mlp", "cora", 0)


@pytest.mark.slow
def test_the_sweep_writes_each_record_once(cora_root: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    kwargs = dict(datasets=("cora",), seeds=(0, 1), split="public", models=("gcn",), data_dir=cora_root, progress=False)
    paths = baseline_sweep(tmp_path, epochs=2, **kwargs)
    assert paths == [baseline_path(tmp_path, "gcn", "cora", "public", s) for s in (0, 1)]
    assert [p.name for p in paths] == ["gcn-cora-public-seed0.json", "gcn-cora-public-seed1.json"]
    mtimes = [p.stat().st_mtime_ns for p in paths]
    assert baseline_sweep(tmp_path, epochs=2, **kwargs) == paths
    assert [p.stat().st_mtime_ns for p in paths] == mtimes and sorted(tmp_path.iterdir()) == paths
    with pytest.raises(ConfigError, match="trained for 2 epochs, not 5"):
        baseline_sweep(tmp_path, epochs=5, **kwargs)
    table = summarize(load_baselines(tmp_path))
    assert table[["split", "dataset", "model", "runs"]].values.tolist() == [["public", "cora", "gcn", 2]]
