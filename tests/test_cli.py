"""The command line: bad input ends in one sentence and exit status 2, never a traceback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slt.cli import main
from slt.config import RunConfig, TicketConfig
from slt.paper.sweeps import make_config


def error_of(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("slt: error: ") and "Traceback" not in err
    assert err.count("\n") == 0, "the message must be one line"
    return err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--sparsity", "0.1", "--prune", "0.2", "--lock", "0.2"], "searchable range [0.2, 0.8]"),
        (["--prune", "0.7", "--lock", "0.5"], "exceeds 1"),
        (["--prune", "-0.1"], "between 0 and 1"),
        (["--lock", "1.5"], "between 0 and 1"),
        (["--model", "vgg"], "choose one of conv6, resnet18, gin, mlp"),
        (["--dataset", "imagenet"], "choose one of cifar10, cora, citeseer, ogbn-arxiv, fashion-mnist"),
        (["--freeze", "0.5", "--prune", "0.1"], "either freeze or prune/lock"),
        (["--weights", "xavier"], "kaiming_uniform"),
    ],
)
def test_invalid_run_configs_get_one_sentence(capsys, tmp_path, argv, expected):
    assert expected in error_of(capsys, ["run", "--out", str(tmp_path), *argv])


def test_missing_data_says_where_to_put_it(capsys, tmp_path, monkeypatch):
    # Without network access to the data host the download fails; with it, this test would download.
    monkeypatch.setattr("torchvision.datasets.FashionMNIST.mirrors", ["http://127.0.0.1:9/"])
    err = error_of(capsys, ["run", "--quiet", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert "FashionMNIST/raw" in err and "put the four idx files" in err


def test_an_unwritable_output_directory_is_named(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot write to the output directory" in error_of(capsys, ["run", "--out", str(blocker / "sub")])


def test_a_corrupt_ticket_is_refused(capsys, tmp_path):
    bad = tmp_path / "bad.slt"
    bad.write_bytes(b"garbage")
    assert "not a ticket file" in error_of(capsys, ["evaluate", str(bad)])
    assert "cannot read ticket file" in error_of(capsys, ["evaluate", str(tmp_path / "missing.slt")])


def test_export_of_a_missing_record_is_refused(capsys, tmp_path):
    assert "no run record" in error_of(capsys, ["export", str(tmp_path / "x.json"), "--out", str(tmp_path / "t")])


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (["--where", "modle=gin"], "has no field 'modle': choose one of"),
        (["--where", "model=gnn"], "no config of this sweep has model=gnn"),
        (["--where", "gin"], "--where expects KEY=VALUE"),
    ],
)
def test_a_bad_sweep_selection_gets_one_sentence(capsys, tmp_path, where, expected):
    assert expected in error_of(capsys, ["sweep", "fig5", "--scale", "full", "--out", str(tmp_path), *where])


def test_a_table_before_its_fig5_records_names_the_sweep_to_run_first(capsys, tmp_path):
    err = error_of(capsys, ["sweep", "table1", "--scale", "laptop", "--out", str(tmp_path)])
    assert "run `slt sweep fig5 --scale laptop` first." in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sweep", "fig5", "--scale", "bogus"], "argument --scale: invalid choice: 'bogus'"),
        (["reproduce", "fig5", "--scale", "medium"], "argument --scale: invalid choice: 'medium'"),
        (["run", "--scale", "huge"], "argument --scale: invalid choice: 'huge'"),
        (["sweep", "fig5", "--mode", "quick"], "unrecognized arguments: --mode quick"),  # --mode is now --scale
    ],
)
def test_unknown_scales_and_the_old_mode_option_are_usage_errors(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def _config_of_run(monkeypatch, tmp_path, argv: list[str]) -> RunConfig:
    """The config `slt run ARGV` builds (the run itself is replaced by a stub that returns a record)."""
    built = []

    def stub(config, out, data_dir, device, progress):
        built.append(config)
        return {"test_acc": 0.5, "best_epoch": 1, "model_mb": 0.1, "run_id": config.run_id}

    monkeypatch.setattr("slt.train.run", stub)
    assert main(["run", "--out", str(tmp_path), *argv]) == 0
    (config,) = built
    return config


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--scale", "quick", "--model", "conv6", "--dataset", "cifar10", "--sparsity", "0.7", "--freeze", "0.6"],
            lambda: make_config("quick", "conv6", "cifar10", TicketConfig(sparsity=0.7, freeze=0.6), 0),
        ),
        (
            ["--scale", "quick", "--model", "gin", "--dataset", "cora", "--width", "2", "--seed", "3"],
            lambda: make_config("quick", "gin", "cora", TicketConfig(sparsity=0.5), 3, 2.0),
        ),
        (  # the laptop scale's weight-training learning rate
            ["--scale", "laptop", "--model", "conv6", "--dataset", "cifar10", "--weight-training"],
            lambda: make_config("laptop", "conv6", "cifar10", None, 0),
        ),
        (  # an option given on the command line wins over the scale's
            ["--scale", "quick", "--model", "conv6", "--dataset", "cifar10", "--epochs", "3"],
            lambda: replace(make_config("quick", "conv6", "cifar10", TicketConfig(), 0), epochs=3),
        ),
    ],
)
def test_run_at_a_scale_builds_the_sweeps_config(monkeypatch, tmp_path, argv, expected):
    assert _config_of_run(monkeypatch, tmp_path, argv) == expected()


@pytest.mark.slow  # imports torch in a fresh interpreter
def test_importing_the_library_parses_no_arguments_and_does_no_work():
    import subprocess
    import sys

    code = "import sys; sys.argv = ['kernel', '--bogus-flag']; import slt, slt.cli, slt.train; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok"
