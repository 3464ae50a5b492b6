"""``slt run`` makes its options from the config dataclasses: a field added to RunConfig or
TicketConfig is an option with its own docstring as help, and nothing repeats a default."""

from __future__ import annotations

import dataclasses

from slt.cli import build_parser, config_fields, field_help
from slt.config import RunConfig, TicketConfig


def run_help() -> str:
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices["run"].format_help()


def test_every_config_field_is_an_option_with_its_docstring():
    text = " ".join(run_help().split())
    names = {f.name for _, f in config_fields()}
    assert names == {f.name for f in dataclasses.fields(RunConfig)} - {"ticket"} | {
        f.name for f in dataclasses.fields(TicketConfig)
    } - {"seed"} | {"seed"}
    for cls, field in config_fields():
        doc = field_help(cls)[field.name]
        assert f"--{field.name.replace('_', '-')}" in text
        assert doc.split(" (")[0][:40] in text, f"the help of --{field.name} is not its docstring"


def test_the_help_says_which_defaults_come_from_the_recipe_and_lists_the_choices():
    text = " ".join(run_help().split())
    assert "Passes over the training split. (default: the data set's recipe)" in text
    assert "One of conv6, resnet18, gin, mlp. (default: 'mlp')" in text


def test_an_option_sets_its_field_over_the_recipe(monkeypatch, tmp_path):
    built = []

    def stub(config, out, data_dir, device, progress):
        built.append(config)
        return {"test_acc": 0.5, "best_epoch": 1, "model_mb": 0.1, "run_id": config.run_id}

    monkeypatch.setattr("slt.train.run", stub)
    argv = ["run", "--out", str(tmp_path), "--momentum", "0.5", "--val-subset", "100", "--scope", "layer"]
    assert build_parser().parse_args(argv).func(build_parser().parse_args(argv)) is None
    (config,) = built
    assert (config.momentum, config.val_subset, config.ticket.scope, config.lr) == (0.5, 100, "layer", 0.3)
