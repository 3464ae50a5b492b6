"""The command line: bad input ends in one sentence and exit status 2, never a traceback."""

from __future__ import annotations

import pytest

from slt.cli import main


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
        (["--model", "vgg"], "choose one of mlp, conv6, resnet18, gin"),
        (["--dataset", "imagenet"], "choose one of fashion-mnist, cifar10"),
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
    assert expected in error_of(capsys, ["sweep", "table1", "--mode", "full", "--out", str(tmp_path), *where])


def test_importing_the_library_parses_no_arguments_and_does_no_work():
    import subprocess
    import sys

    code = "import sys; sys.argv = ['kernel', '--bogus-flag']; import slt, slt.cli, slt.train; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok"
