"""The experiment pipeline: sweeps, idempotent records, resuming after SIGKILL, graphs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from slt.cli import main
from slt.config import RunConfig, TicketConfig
from slt.errors import ConfigError
from slt.launch import failure_reason, make_executor, pending, select
from slt.paper.figures import plot_fig5
from slt.paper.frames import sweep_results
from slt.paper.sweeps import make_config, run_sweep, sweep_configs, sweep_dir
from slt.records import load, record_path
from slt.train import run

from fixture_records import fig5_accuracy, write_sweep


def test_an_unknown_sweep_gets_one_sentence(capsys, tmp_path):
    assert main(["sweep", "fig9", "--scale", "quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown sweep 'fig9'" in err and "choose one of" in err and err.count("\n") == 1


def test_a_record_with_the_same_hash_but_another_config_is_refused(tmp_path):
    config = RunConfig(epochs=1)
    record_path(tmp_path, config.run_id).write_text(json.dumps({"config": RunConfig(epochs=2).to_dict()}))
    with pytest.raises(ConfigError, match="different config with the same hash"):
        pending([config], tmp_path)


def fake_seconds_per_epoch(config: RunConfig) -> float:
    """An epoch of CIFAR-10 takes 1 s per 1,000 training images, one of the GIN 0.3 s (timing is not tested here)."""
    return 0.3 if config.model == "gin" else (config.train_subset or 40_000) / 1000


@pytest.fixture
def cpu_only(monkeypatch):
    """A machine without a GPU whose sweeps run nothing, with the per-epoch time of ``fake_seconds_per_epoch``."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("slt.launch._execute", lambda *args, **kwargs: None)
    monkeypatch.setattr("slt.estimate.seconds_per_epoch", fake_seconds_per_epoch)


def test_a_full_sweep_without_a_gpu_warns_with_the_estimated_time(tmp_path, cpu_only, capsys):
    # 36 runs of 100 epochs of 40 s
    with pytest.warns(UserWarning, match=r"full fig7 sweep .* about 40\.0 hours: use a GPU or --scale laptop\.$"):
        run_sweep("fig7", "full", tmp_path)
    assert "fig7 (full): 36 of 36 runs to go, about 40.0 hours on this machine" in capsys.readouterr().err


def test_a_laptop_sweep_says_how_long_it_takes_and_does_not_warn(tmp_path, cpu_only, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_sweep("fig7", "laptop", tmp_path)
    configs = sweep_configs("fig7", "laptop")
    minutes = round(sum(fake_seconds_per_epoch(c) * c.epochs for c in configs) / 60)  # 16 x 16 epochs x 12.8 s
    expected = f"fig7 (laptop): {len(configs)} of {len(configs)} runs to go, about {minutes} minutes on this machine"
    assert expected in capsys.readouterr().err


def test_a_short_share_of_a_full_sweep_is_estimated_in_minutes(tmp_path, cpu_only):
    write_sweep(tmp_path, "fig5", fig5_accuracy, scale="full")  # Table 1 reads its sparsities from them
    share = {"model": "gin", "dataset": "cora", "seed": "0"}
    with pytest.warns(UserWarning, match=r"full table1 sweep .* about 8 minutes: use a GPU"):  # 4 x 400 x 0.3 s
        records = run_sweep("table1", "full", tmp_path, where=share)
    assert len(records) == 4  # weight training, dense, sparse, frozen


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


@pytest.mark.slow  # submitit notices the killed job only after polling for it (about 15 s)
def test_a_sweep_job_killed_without_an_error_is_reported_as_killed(tmp_path):
    # as the kernel's out-of-memory killer would
    job = make_executor(tmp_path, "local", 1, None).submit(signal.raise_signal, signal.SIGKILL)
    with pytest.raises(Exception) as failure:
        job.result()
    reason = failure_reason(failure.value)
    assert reason.startswith(
        "the job ended with neither a result nor an error (killed: out of memory, or by a signal?)"
    )
    assert reason.endswith(f"{job.job_id}_0_log.out)") and str(tmp_path) in reason


def test_select_picks_a_share_of_a_sweep_by_its_fields(tmp_path):
    write_sweep(tmp_path, "fig5", fig5_accuracy, scale="full")
    configs = sweep_configs("table1", "full", tmp_path)
    gin = select(configs, {"model": "gin", "seed": "0"})
    assert {(c.dataset, c.seed) for c in gin} == {(g, 0) for g in ("cora", "citeseer", "ogbn-arxiv")}
    assert len(gin) == 3 * 4  # weight training, dense, sparse, frozen on each graph
    frozen = select(configs, {"model": "conv6", "ticket.freeze": "0.60"})  # numbers compare as numbers
    assert len(frozen) == 3 and all(c.ticket.freeze == 0.6 for c in frozen)
    assert select(configs, {}) == configs


@pytest.mark.slow
def test_the_quick_fig5_sweep_runs_every_config_and_then_nothing(tmp_path, cifar10_dir, cora_dir):
    # The one test of a finished sweep run again (every executor filters the same way, slt.launch.pending):
    # it returns the same records, rewrites none and submits no job. cora_dir: the GIN reads Cora from the same folder.
    records = run_sweep("fig5", "quick", tmp_path, cifar10_dir, executor="local", max_parallel=2)
    assert all(p.exists() for p in records) and len(records) == len(sweep_configs("fig5", "quick"))
    mtimes = [p.stat().st_mtime_ns for p in records]
    jobs = sorted((sweep_dir(tmp_path, "fig5", "quick") / "submitit").iterdir())
    assert run_sweep("fig5", "quick", tmp_path, cifar10_dir, executor="local") == records
    assert [p.stat().st_mtime_ns for p in records] == mtimes
    assert sorted((sweep_dir(tmp_path, "fig5", "quick") / "submitit").iterdir()) == jobs
    df = load(sweep_dir(tmp_path, "fig5", "quick"))
    assert set(df["model"]) == {"conv6", "resnet18", "gin"}
    # each epoch is scored on validation only; the test split once, at the best-validation state
    assert all("val_acc" in h and "test_acc" not in h for history in df["history"] for h in history)
    assert df["test_acc"].between(0, 1).all() and (df["best_epoch"] >= 1).all()
    figure = plot_fig5(df)
    assert [ax.get_title() for ax in figure.axes] == ["Conv6 / CIFAR-10", "ResNet-18 / CIFAR-10", "GIN / Cora"]
    assert figure.axes[0].get_xlabel() == "freezing ratio p + r"
    variant = (cifar10_dir / "cifar-10-batches-py" / "VARIANT").read_text().strip()
    assert set(df.loc[df["dataset"] == "cifar10", "data_variant"]) == {f"copy: {variant}"}


@pytest.mark.slow
def test_the_gin_on_cora_learns_at_quick_scale(tmp_path, cora_dir):
    record = run(make_config("quick", "gin", "cora", TicketConfig(sparsity=0.5, freeze=0.5), 0), tmp_path, cora_dir)
    assert record["test_acc"] > 0.5  # seven classes: chance is about 0.14, the largest class 0.32
    assert record["data_variant"] == "original, full split, row-normalised features"


# `slt run` with a checkpoint after every epoch (by default one a minute), so a short run can be killed mid-way.
CHECKPOINT_EVERY_EPOCH = "import sys, slt.train, slt.cli; slt.train.CHECKPOINT_SECONDS = 0; sys.exit(slt.cli.main())"


def _run_command(data, out: os.PathLike) -> list[str]:
    return [
        sys.executable,
        "-c",
        CHECKPOINT_EVERY_EPOCH,
        "run",
        "--model",
        "conv6",
        "--dataset",
        "cifar10",
        "--scale",
        "quick",
        "--epochs",
        "3",
        "--quiet",
        "--data-dir",
        str(data),
        "--out",
        str(out),
    ]


@pytest.mark.slow
def test_a_run_killed_mid_training_resumes_to_the_same_record(tmp_path, cifar10_dir):
    subprocess.run(_run_command(cifar10_dir, tmp_path / "straight"), check=True, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_run_command(cifar10_dir, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list((killed / "checkpoints").glob("*.pt")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # into the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not list(killed.glob("*.json")), "the run finished before it could be killed"
    subprocess.run(_run_command(cifar10_dir, killed), check=True, capture_output=True)
    (a,), (b,) = list((tmp_path / "straight").glob("*.json")), list(killed.glob("*.json"))
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    strip = ("seconds", "cpu_seconds")
    assert [{k: v for k, v in h.items() if k not in strip} for h in ra["history"]] == [
        {k: v for k, v in h.items() if k not in strip} for h in rb["history"]
    ]
    assert (ra["test_acc"], ra["best_epoch"]) == (rb["test_acc"], rb["best_epoch"])


def test_a_figure_without_records_says_so_instead_of_drawing(tmp_path):
    df, sentence = sweep_results("fig5", "laptop", tmp_path)
    assert df is None
    assert "No laptop-scale records of `fig5` exist yet" in sentence
    assert "`slt reproduce fig5 --scale laptop`" in sentence


def test_a_table_without_fig5_records_says_which_sweep_to_run_first(tmp_path):
    df, sentence = sweep_results("table1", "laptop", tmp_path)
    assert df is None
    assert "No laptop-scale records of `table1`" in sentence and "`slt sweep fig5 --scale laptop` first" in sentence
