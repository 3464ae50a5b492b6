"""Run records: no paths of the machine that wrote them, and the state of the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from slt import train
from slt.config import RunConfig, TicketConfig
from slt.records import checkpoint_path, environment, record_path
from slt.run_tickets import export_from_run
from slt.ticket import load_ticket
from slt.train import run


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.slow  # trains
def test_a_record_names_no_machine_path_and_exports_after_its_folder_moves(tmp_path, fashion_mnist_dir):
    config = RunConfig(ticket=TicketConfig(sparsity=0.5), epochs=1, width=0.25, train_subset=2000)
    out = tmp_path / "runs"
    record = run(config, out, fashion_mnist_dir, device="cpu", progress=False)
    text = record_path(out, config.run_id).read_text()
    assert record["checkpoint"] == f"checkpoints/{config.run_id}.pt"
    machine = (str(tmp_path), str(fashion_mnist_dir.resolve()), str(Path.home()), str(Path.cwd()))
    for s in strings(json.loads(text)):
        assert not s.startswith(("/", "\\")) and s[1:3] not in (":\\", ":/"), s
        assert not any(folder in s for folder in machine), s

    moved = tmp_path / "elsewhere" / "runs"
    shutil.move(out, moved)
    record_file = record_path(moved, config.run_id)
    size, search = export_from_run(record_file, tmp_path / "t.slt")
    ticket = load_ticket(tmp_path / "t.slt")
    assert ticket.search.num_searchable == record["num_searchable"] and size > record["num_searchable"] // 8
    assert all(m.equal(ticket.search.masks()[name]) for name, m in search.masks().items())

    # An older record stored an absolute path: used where it exists, else the checkpoints folder beside it.
    for stored in (str(moved / "checkpoints" / f"{config.run_id}.pt"), f"/no/such/machine/{config.run_id}.pt"):
        record_file.write_text(json.dumps(record | {"checkpoint": stored}))
        export_from_run(record_file, tmp_path / "old.slt")
        assert (tmp_path / "old.slt").read_bytes() == (tmp_path / "t.slt").read_bytes()


@pytest.mark.slow  # trains
def test_a_record_counts_its_cpu_time_and_says_when_a_resumed_run_cannot(tmp_path, fashion_mnist_dir):
    """CPU time does not grow while a run waits (a shared or paused machine), so the budget is judged on it."""
    config = RunConfig(ticket=TicketConfig(sparsity=0.5), epochs=2, width=0.25, train_subset=1000)
    record = run(config, tmp_path / "whole", fashion_mnist_dir, device="cpu", progress=False)
    epochs = [h["cpu_seconds"] for h in record["history"]]
    assert all(seconds > 0 for seconds in epochs) and record["cpu_seconds"] > sum(epochs)  # plus the test pass
    # process time counts every thread, so it exceeds the wall time by at most the thread count
    assert record["cpu_seconds"] <= torch.get_num_threads() * record["wall_seconds"] * 1.5

    # A checkpoint written before CPU time was counted: the resumed run cannot know the whole of it.
    state = torch.load(checkpoint_path(tmp_path / "whole", config.run_id), weights_only=False)
    del state["cpu_seconds"]
    older = checkpoint_path(tmp_path / "older", config.run_id)
    older.parent.mkdir(parents=True)
    torch.save(state, older)
    resumed = run(config, tmp_path / "older", fashion_mnist_dir, device="cpu", progress=False)
    assert resumed["cpu_seconds"] is None and resumed["test_acc"] == record["test_acc"]


@pytest.mark.slow  # trains
def test_a_record_names_the_commit_its_run_started_from(tmp_path, fashion_mnist_dir, monkeypatch):
    """A sweep's source may be checked out anew while a job runs: the record keeps the code the job imported."""
    on_disk, real_fit = {"commit": "the commit at the start"}, train.fit

    def fit_then_check_out(*args):
        state = real_fit(*args)
        on_disk["commit"] = "a commit checked out during the run"
        return state

    monkeypatch.setattr("slt.train.fit", fit_then_check_out)
    monkeypatch.setattr("slt.train.environment", lambda: environment() | {"git_commit": on_disk["commit"]})
    config = RunConfig(ticket=TicketConfig(sparsity=0.5), epochs=1, width=0.25, train_subset=500)
    record = run(config, tmp_path, fashion_mnist_dir, device="cpu", progress=False)
    assert record["git_commit"] == "the commit at the start"


def git(folder: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=folder, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_environment_says_whether_tracked_files_had_uncommitted_changes(tmp_path):
    assert environment(tmp_path)["git_commit"] is None and environment(tmp_path)["git_dirty"] is None
    git(tmp_path, "init", "-q")
    (tmp_path / "model.py").write_text("width = 1\n")
    git(tmp_path, "add", "model.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    clean = environment(tmp_path)
    assert len(clean["git_commit"]) == 40 and clean["git_dirty"] is False
    (tmp_path / "run.json").write_text("{}")  # a record written into the tree is not a change of the code
    assert environment(tmp_path)["git_dirty"] is False
    (tmp_path / "model.py").write_text("width = 2\n")
    assert environment(tmp_path)["git_dirty"] is True
    git(tmp_path, "commit", "-q", "-am", "second")
    after = environment(tmp_path)
    assert after["git_dirty"] is False and after["git_commit"] != clean["git_commit"]
    assert isinstance(environment()["git_dirty"], bool | None)
