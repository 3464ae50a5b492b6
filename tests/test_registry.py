"""Adding a data set and a model takes one file and one line each: here the "file" is this
test's toy definitions and the "line" is one registry entry each; a quick sweep then runs on them
through the library's own launcher, and the paper's frames name them by their labels."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from slt.config import RunConfig, TicketConfig
from slt.data import DATASETS, DatasetSpec, ImageSet, Split, dataset_spec
from slt.errors import ConfigError
from slt.launch import run_configs
from slt.models import MODELS, ModelEntry
from slt.paper.frames import with_derived_columns
from slt.paper.sweeps import make_config
from slt.records import load

SIDE = 6


def load_toy(data_dir, *, accept_copy: bool = False) -> ImageSet:
    """Bright vs dark 6x6 images: a task a tiny ticket learns in two epochs."""
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (700,), generator=g)
    images = (torch.rand(700, 1, SIDE, SIDE, generator=g) * 128 + 127 * labels.view(-1, 1, 1, 1)).to(torch.uint8)
    return ImageSet(Split(images[:500], labels[:500]), Split(images[500:], labels[500:]))


TOY_DATA = DatasetSpec(
    name="toy",
    label="Toy images",
    kind="image",
    input_shape=(1, SIDE, SIDE),
    num_classes=2,
    train_examples=400,
    load=load_toy,
    mean=(0.5,),
    std=(0.3,),
    recipe={"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "batch_size": 50, "epochs": 2},
)


def toy_net(input_shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    hidden = max(1, round(64 * width))
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(input_shape), hidden, bias=False),
        nn.ReLU(),
        nn.Linear(hidden, num_classes, bias=False),
    )


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DATASETS, "toy", TOY_DATA)  # the one line a new data set adds
    monkeypatch.setitem(MODELS, "toy-net", ModelEntry(toy_net, "Toy net"))  # the one line a new model adds


def test_a_registered_data_set_and_model_run_a_quick_sweep(registered: None, tmp_path) -> None:
    tickets = [TicketConfig(sparsity=k, freeze=f) for k in (0.3, 0.7) for f in (0.0, 0.4)]
    configs = [make_config("quick", "toy-net", "toy", t, seed=0) for t in [*tickets, None]]
    assert {c.width for c in configs} == {0.25}, "a model without a quick size runs at the quick default width"
    assert {c.epochs for c in configs} == {2} and configs[0].batch_size == 50, "the spec's recipe sizes the runs"

    paths = run_configs(configs, tmp_path / "toy", executor="debug")

    df = with_derived_columns(load(tmp_path / "toy"))
    assert len(paths) == len(df) == 5 and all(p.exists() for p in paths)
    assert set(df["network"].astype(str)) == {"Toy net / Toy images"}
    assert sorted(df["source"]) == ["dense", "dense", "frozen", "frozen", "weight training"]
    assert df["train_examples"].eq(400).all()
    dense = df[(df["source"] == "dense") & (df["sparsity"] == 0.3)].iloc[0]
    assert dense["test_acc"] > 0.8, "the ticket learned the toy task"
    assert run_configs(configs, tmp_path / "toy", executor="debug") == paths  # nothing runs twice


def test_a_model_refuses_data_of_the_other_kind() -> None:
    with pytest.raises(ConfigError, match="gin takes graph data and cifar10 is a image data set"):
        RunConfig(model="gin", dataset="cifar10")


def test_an_unknown_data_set_names_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match="unknown data set 'mnist': choose one of cifar10, cora"):
        dataset_spec("mnist")
