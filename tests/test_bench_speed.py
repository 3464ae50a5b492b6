"""The speed benchmark on a CPU at a tiny size: its command line, its JSON, and that it times the library's step.

The benchmark itself is a script for a GPU (bench/README.md); on a CPU it runs as a smoke check.
"""

import importlib
import json
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import slt.loops

BENCH = Path(__file__).resolve().parent.parent / "bench"
TINY = ["--device", "cpu", "--synthetic", "--images", "64", "--batch-size", "16", "--width", "0.0625"]
TINY += ["--models", "conv6", "--warmup", "1"]


@pytest.fixture(scope="module")
def speed():
    sys.path.insert(0, str(BENCH))  # the script imports its neighbours in bench/, as when it runs from there
    yield importlib.import_module("speed")
    sys.path.remove(str(BENCH))


def test_cpu_defaults_and_refusals(speed):
    args = speed.parse_args(["--device", "cpu"])
    assert (args.width, args.warmup, args.cases, args.models) == (0.125, 1, ["a", "b", "c"], ["conv6", "resnet18"])
    assert speed.parse_args(["--device", "cuda"]).width == 1.0
    with pytest.raises(SystemExit):
        speed.parse_args(["--device", "cpu", "--cuda-graph"])


def test_tiny_table_on_a_cpu(speed, tmp_path, capsys):
    out = tmp_path / "speed.json"
    speed.main([*TINY, "--precisions", "fp32", "--cases", "a", "b", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "CPU RUN" in printed and "EXTRAPOLATED" in printed and "n/a on CPU" in printed
    doc = json.loads(out.read_text())
    assert doc["device"].startswith("cpu") and doc["torch"] == torch.__version__
    table = doc["sections"]["table"]
    meta = table["provenance"]
    assert {"git_commit", "git_dirty", "versions", "python", "command", "args"} <= set(meta)
    assert meta["not_the_gpu_targets"] is True and meta["versions"]["torch"]
    rows = {r["case"]: r for r in table["rows"]}
    assert set(rows) == {"a", "b"}
    for row in rows.values():
        assert row["timed_steps"] == 4 and row["s_per_epoch"] > 0 and row["peak_mb"] is None
        assert row["s_per_epoch"] == pytest.approx(row["timed_s"] * 3125 / 4)  # 50,000 images in batches of 16
    assert math.isfinite(rows["b"]["train_loss"])
    assert rows["b"]["ratio_of"] == "b/a" and rows["b"]["ratio"] == pytest.approx(
        rows["b"]["s_per_epoch"] / rows["a"]["s_per_epoch"]
    )
    assert table["images_timed"] == 64 and table["extrapolated"] is True and table["ticket"]["sparsity"] == 0.5
    sync = table["sync_check"]["conv6"]
    assert sync["b"]["aten_ops_per_step"] > sync["a"]["aten_ops_per_step"] > 0  # the search adds its top-k
    assert sync["a"]["host_sync_calls_per_step"] == 0
    # On a CPU the top-k reads its threshold and band counts as Python numbers (free there); the
    # GPU path reads none (slt.supermask.kth_largest and top_k_mask branch on the device first).
    sites = {site.split(":")[0] for site in sync["b"]["host_sync_calls"]}
    assert sites <= {"slt/supermask.py"}, sync["b"]["host_sync_calls"]
    assert sync["b"]["cuda_sync_warnings"] is None  # no GPU, no CUDA sync warnings to count


def test_the_step_timed_is_the_librarys(speed, monkeypatch):
    import cases

    assert cases.train_step is slt.loops.train_step  # no copy of the step in bench/
    steps, built = [], []

    def counted(*args, **kwargs):
        steps.append(args[:2])
        return slt.loops.train_step(*args, **kwargs)

    def recorded(*args, **kwargs):
        built.append(cases_build_case(*args, **kwargs))
        return built[-1]

    cases_build_case = cases.build_case
    monkeypatch.setattr(cases, "train_step", counted)
    monkeypatch.setattr(cases, "build_case", recorded)
    args = speed.parse_args([*TINY, "--cases", "b"])
    data = speed.on_device(speed.load_data(args), torch.device("cpu"))
    result = speed.time_library("b", "conv6", "fp32", args, data, 64)
    assert len(steps) == args.warmup + result["timed_steps"] == 5
    # In fp32 the step gets the model of slt.build.build_run itself, and the optimizer of make_optimizer.
    (case,) = built
    assert case.run.search is not None and case.run.config.ticket.sparsity == 0.5
    assert all(model is case.run.model and optimizer is case.optimizer for model, optimizer in steps)
    assert isinstance(case.optimizer, torch.optim.SGD)


def test_bf16_wraps_only_the_forward(speed):
    # Autocast around the forward and the loss (what the speed bench did with its own step) and autocast
    # around the forward alone, logits back in fp32 (what it does now, to take the library's step), agree.
    import cases

    config = cases.library_config("conv6", 0.0625, 0, 8, None)
    model = cases.build_case(config).model
    images, labels = torch.randn(8, *cases.SHAPE), torch.randint(0, cases.CLASSES, (8,))
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        expected = F.cross_entropy(model(images), labels)
    assert torch.equal(
        F.cross_entropy(cases.with_precision(model, "bf16", torch.device("cpu"))(images), labels), expected
    )
