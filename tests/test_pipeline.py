"""The experiment pipeline: sweeps, idempotent records, resuming after SIGKILL, graphs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from slt.cli import main
from slt.config import RunConfig, TicketConfig
from slt.errors import ConfigError
from slt.figures import fig5, full_results
from slt.results import load, record_path
from slt.sweeps import (
    SWEEPS,
    failure_reason,
    make_config,
    make_executor,
    pending,
    run_sweep,
    select,
    sweep_configs,
    sweep_dir,
)
from slt.train import run

from realdata import data_dir_with


@pytest.mark.parametrize("name", list(SWEEPS))
def test_every_sweep_is_a_grid_of_distinct_valid_configs(name):
    quick, full = sweep_configs(name, "quick"), sweep_configs(name, "full")
    for configs in (quick, full):
        assert len({c.run_id for c in configs}) == len(configs)
    assert {c.seed for c in full} == {0, 1, 2}
    assert all(c.train_subset is None and c.epochs in (100, 400) for c in full)
    assert all(c.train_subset or c.epochs <= 40 for c in quick)
    assert len(quick) <= 12 < len(full)


def test_the_paper_recipes_are_the_full_settings():
    conv6 = make_config("full", "conv6", "cifar10", TicketConfig(sparsity=0.5), 0)
    assert (conv6.optimizer, conv6.lr, conv6.momentum, conv6.weight_decay) == ("sgd", 0.1, 0.9, 1e-4)
    assert (conv6.batch_size, conv6.epochs, conv6.val_fraction, conv6.width) == (128, 100, 0.2, 1.0)
    gin = make_config("full", "gin", "ogbn-arxiv", TicketConfig(sparsity=0.5), 0)
    assert (gin.optimizer, gin.lr, gin.weight_decay, gin.epochs) == ("adamw", 0.01, 0.0, 400)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["sweep", "fig9"], "unknown sweep 'fig9'"), (["sweep", "fig5", "--mode", "medium"], "unknown mode 'medium'")],
)
def test_unknown_sweeps_and_modes_get_one_sentence(capsys, tmp_path, argv, expected):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "choose one of" in err and err.count("\n") == 1


def test_a_record_with_the_same_hash_but_another_config_is_refused(tmp_path):
    config = RunConfig(epochs=1)
    record_path(tmp_path, config.run_id).write_text(json.dumps({"config": RunConfig(epochs=2).to_dict()}))
    with pytest.raises(ConfigError, match="different config with the same hash"):
        pending([config], tmp_path)


def test_a_full_sweep_without_a_gpu_warns_with_the_estimated_time(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("slt.sweeps._execute", lambda *args, **kwargs: None)
    with pytest.warns(UserWarning, match=r"full fig7 sweep \(36 runs\) without a GPU will take about [\d,]+ hours"):
        run_sweep("fig7", "full", tmp_path)


def test_a_short_share_of_a_full_sweep_is_estimated_in_minutes(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("slt.sweeps._execute", lambda *args, **kwargs: None)
    share = {"model": "gin", "dataset": "cora", "seed": "0"}
    with pytest.warns(UserWarning, match=r"full table1 sweep \(4 runs\) without a GPU will take about \d+ minutes"):
        run_sweep("table1", "full", tmp_path, where=share)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads a process's environment from /proc")
def test_a_local_sweep_job_has_no_practical_time_limit(tmp_path):
    # submitit's default limit (2 minutes) once killed every full run at 90 s. The limit is what
    # submitit's local controller process enforces; read it from that process's environment.
    job = make_executor(tmp_path, "local", 1, None).submit(time.sleep, 30)
    try:
        environ = Path(f"/proc/{job._process.pid}/environ").read_bytes().split(b"\0")
    finally:
        job.cancel()
    limit = next(int(v.split(b"=")[1]) for v in environ if v.startswith(b"SUBMITIT_LOCAL_TIMEOUT_S="))
    assert limit >= 7 * 24 * 3600


def test_a_failed_sweep_job_is_reported_by_its_error_and_log(tmp_path):
    job = make_executor(tmp_path, "local", 1, None).submit(int, "not a number")
    with pytest.raises(Exception) as failure:
        job.result()
    reason = failure_reason(failure.value)
    assert reason.startswith("ValueError: invalid literal for int() with base 10: 'not a number' (log: ")
    assert reason.endswith("_log.err)") and str(tmp_path) in reason


def test_select_picks_a_share_of_a_sweep_by_its_fields():
    configs = sweep_configs("table1", "full")
    gin = select(configs, {"model": "gin", "seed": "0"})
    assert {(c.dataset, c.seed) for c in gin} == {(g, 0) for g in ("cora", "citeseer", "ogbn-arxiv")}
    assert len(gin) == 3 * 4  # weight training, dense, sparse, frozen on each graph
    frozen = select(configs, {"model": "conv6", "ticket.freeze": "0.60"})  # numbers compare as numbers
    assert len(frozen) == 3 and all(c.ticket.freeze == 0.6 for c in frozen)
    assert select(configs, {}) == configs


def test_the_quick_fig5_sweep_runs_every_config_and_then_nothing(tmp_path):
    data = data_dir_with("cifar-10-batches-py")
    data_dir_with("Planetoid/Cora/raw")
    records = run_sweep("fig5", "quick", tmp_path, data, executor="local", max_parallel=2)
    assert all(p.exists() for p in records) and len(records) == len(sweep_configs("fig5", "quick"))
    mtimes = [p.stat().st_mtime_ns for p in records]
    jobs = sorted((sweep_dir(tmp_path, "fig5", "quick") / "submitit").iterdir())
    run_sweep("fig5", "quick", tmp_path, data, executor="local")
    assert [p.stat().st_mtime_ns for p in records] == mtimes
    assert sorted((sweep_dir(tmp_path, "fig5", "quick") / "submitit").iterdir()) == jobs
    df = load(sweep_dir(tmp_path, "fig5", "quick"))
    assert set(df["model"]) == {"conv6", "resnet18", "gin"}
    figure = fig5(df)
    assert [ax.get_title() for ax in figure.axes] == ["Conv6 / CIFAR-10", "ResNet-18 / CIFAR-10", "GIN / Cora"]
    assert figure.axes[0].get_xlabel() == "freezing ratio p + r"
    variant = (data / "cifar-10-batches-py" / "VARIANT").read_text().strip()
    assert set(df.loc[df["dataset"] == "cifar10", "data_variant"]) == {f"copy: {variant}"}


def test_the_gin_on_cora_learns_in_quick_mode(tmp_path):
    data = data_dir_with("Planetoid/Cora/raw")
    record = run(make_config("quick", "gin", "cora", TicketConfig(sparsity=0.5, freeze=0.5), 0), tmp_path, data)
    assert record["test_acc"] > 0.5  # seven classes: chance is about 0.14, the largest class 0.32
    assert record["data_variant"] == "original"


def _run_command(data, out: os.PathLike) -> list[str]:
    return [
        sys.executable,
        "-m",
        "slt.cli",
        "run",
        "--model",
        "conv6",
        "--dataset",
        "cifar10",
        "--mode",
        "quick",
        "--epochs",
        "3",
        "--accept-data-copy",
        "--quiet",
        "--data-dir",
        str(data),
        "--out",
        str(out),
    ]


def test_a_run_killed_mid_training_resumes_to_the_same_record(tmp_path):
    data = data_dir_with("cifar-10-batches-py")
    subprocess.run(_run_command(data, tmp_path / "straight"), check=True, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_run_command(data, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list((killed / "checkpoints").glob("*.pt")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # into the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not list(killed.glob("*.json")), "the run finished before it could be killed"
    subprocess.run(_run_command(data, killed), check=True, capture_output=True)
    (a,), (b,) = list((tmp_path / "straight").glob("*.json")), list(killed.glob("*.json"))
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    strip = ("seconds",)
    assert [{k: v for k, v in h.items() if k not in strip} for h in ra["history"]] == [
        {k: v for k, v in h.items() if k not in strip} for h in rb["history"]
    ]
    assert (ra["test_acc"], ra["best_epoch"]) == (rb["test_acc"], rb["best_epoch"])


def test_a_figure_without_full_records_says_so_instead_of_drawing(tmp_path):
    df, sentence = full_results("fig5", tmp_path)
    assert df is None
    assert "No full-run records of `fig5` exist yet" in sentence and "slt reproduce fig5" in sentence
