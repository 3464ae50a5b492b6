"""The three scales: every sweep's configs at every scale, what the laptop scale keeps of the paper,
and the sparsity that Table 1 and Fig. 6 read from the fig5 records (``fixture_records``)."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from slt.build import build_run
from slt.config import RunConfig, TicketConfig
from slt.data import graph_datasets, recipe
from slt.errors import ConfigError
from slt.initialization import WEIGHT_INITS
from slt.launch import config_fields
from slt.paper.frames import source_of
from slt.paper.scales import SCALES, size_of
from slt.paper.sweeps import (
    SLT_WEIGHTS,
    SWEEPS,
    best_dense_sparsity,
    make_config,
    sources,
    sources_merged_into_sparse,
    sweep_configs,
)

from fixture_records import BEST_DENSE_SPARSITY, NEED_FIG5, fig5_accuracy, freezing_ratio, write_sweep

CIFAR_TRAIN = 40_000  # 50,000 training images, a fifth held out for validation
CIFAR_MODELS = ("conv6", "resnet18")
# A choice of the weight-training learning rate, not a figure: one seed per lr.
NOT_A_FIGURE = ("calibration",)


def configs_at(name: str, scale: str, results) -> list[RunConfig]:
    """The sweep's configs, after fig5 fixture records where the sweep reads them."""
    if name in NEED_FIG5:
        write_sweep(results, "fig5", fig5_accuracy, scale=scale)
    return sweep_configs(name, scale, results)


def steps(c: RunConfig) -> int:
    """Optimizer steps of a run: the GIN takes one step per epoch on the whole graph."""
    if c.dataset in graph_datasets():
        return c.epochs
    return c.epochs * math.ceil(min(c.train_subset or CIFAR_TRAIN, CIFAR_TRAIN) / c.batch_size)


def source(c: RunConfig) -> str:
    return source_of(pd.Series(config_fields(c)))


@pytest.mark.parametrize(("name", "scale"), [(name, scale) for name in SWEEPS for scale in SCALES])
def test_every_sweep_at_every_scale_is_a_list_of_distinct_valid_configs(tmp_path, name, scale):
    configs = configs_at(name, scale, tmp_path)
    assert configs and len({c.run_id for c in configs}) == len(configs)
    assert all(RunConfig.from_dict(c.to_dict()) == c for c in configs)  # what a sweep job rebuilds
    for c in configs:
        size = size_of(scale, c.model)
        assert (c.train_subset, c.val_subset) == (size.train_subset, size.val_subset)
        assert c.epochs == (size.epochs or recipe(c.dataset)["epochs"])
        assert c.ticket is None or c.ticket.seed == c.seed
    seeds = {c.seed for c in configs}
    if scale == "full":
        assert all(c.train_subset is None and c.val_subset is None and c.epochs in (100, 400) for c in configs)
        assert name in NOT_A_FIGURE or seeds == {0, 1, 2}
    if scale == "quick":  # minutes: one seed, a few runs, each far shorter than a laptop one
        assert seeds == {0} and len(configs) <= 16
        assert all(2 * steps(c) <= steps(make_config("laptop", c.model, c.dataset, c.ticket, 0)) for c in configs)


def test_the_paper_recipes_are_the_full_settings():
    conv6 = make_config("full", "conv6", "cifar10", TicketConfig(sparsity=0.5), 0)
    assert (conv6.optimizer, conv6.lr, conv6.momentum, conv6.weight_decay) == ("sgd", 0.1, 0.9, 1e-4)
    assert (conv6.batch_size, conv6.epochs, conv6.val_fraction, conv6.width) == (128, 100, 0.2, 1.0)
    assert (conv6.train_subset, conv6.val_subset) == (None, None)
    gin = make_config("full", "gin", "ogbn-arxiv", TicketConfig(sparsity=0.5), 0)
    assert (gin.optimizer, gin.lr, gin.weight_decay, gin.epochs) == ("adamw", 0.01, 0.0, 400)
    assert make_config("full", "conv6", "cifar10", None, 0).lr == 0.1


def test_a_scale_changes_the_recipe_of_weight_training_only():
    ticket = make_config("laptop", "conv6", "cifar10", TicketConfig(sparsity=0.5), 0)
    weights = make_config("laptop", "conv6", "cifar10", None, 0)
    assert (ticket.lr, weights.lr) == (0.1, size_of("laptop", "conv6").recipe["lr"]) == (0.1, 0.01)
    assert ticket.width == weights.width == 0.25 and weights.epochs == 16


@pytest.mark.parametrize("name", list(SWEEPS))
def test_laptop_runs_are_smaller_than_the_papers(tmp_path, name):
    laptop, full = configs_at(name, "laptop", tmp_path), configs_at(name, "full", tmp_path)
    for c in laptop:
        paper = make_config("full", c.model, c.dataset, c.ticket, c.seed)
        assert steps(c) < steps(paper), f"{name}: {c.model} on {c.dataset} takes as many steps as the paper's"
        assert (c.val_subset or math.inf) <= (paper.val_subset or math.inf)
    for model in {c.model for c in laptop}:
        widest = max(c.width for c in laptop if c.model == model)
        paper_widest = max(c.width for c in full if c.model == model)
        assert widest < paper_widest if model in CIFAR_MODELS else widest <= paper_widest


def test_laptop_fig5_keeps_several_freezing_ratios_and_sparsities_per_network():
    configs = sweep_configs("fig5", "laptop")
    for model in (*CIFAR_MODELS, "gin"):
        mine = [c for c in configs if c.model == model]
        freezes = {c.ticket.freeze for c in mine}
        assert 0.0 in freezes and len(freezes) >= 2, model
        if model in CIFAR_MODELS:
            assert len({c.ticket.sparsity for c in mine}) >= 2, model


def test_laptop_fig4_compares_epl_with_erk_over_several_splits():
    configs = sweep_configs("fig4", "laptop")
    assert {c.ticket.layerwise for c in configs} == {"epl", "erk"}
    assert len({(c.ticket.prune, c.ticket.lock) for c in configs}) >= 2


def test_laptop_fig6_and_fig7_compare_their_sources_over_widths(tmp_path):
    fig6 = configs_at("fig6", "laptop", tmp_path)
    for kind in ("dense", "sparse", "frozen"):
        assert len({c.width for c in fig6 if source(c) == kind}) >= 2, kind
    fig7 = sweep_configs("fig7", "laptop")
    for width in {c.width for c in fig7}:
        at = [c for c in fig7 if c.width == width]
        assert {(c.ticket.weights, source(c)) for c in at} == {
            (w, s) for w in ("kaiming_uniform", "signed_constant") for s in ("dense", "frozen")
        }


def test_laptop_table1_has_all_four_sources_for_every_network(tmp_path):
    configs = configs_at("table1", "laptop", tmp_path)
    networks = {(c.model, c.dataset) for c in configs}
    assert {m for m, _ in networks} == {*CIFAR_MODELS, "gin"}
    for model, dataset in networks:
        mine = [c for c in configs if (c.model, c.dataset) == (model, dataset)]
        assert {source(c) for c in mine} == {"weight training", "dense", "sparse", "frozen"}, (model, dataset)


@pytest.mark.parametrize("name", [n for n in SWEEPS if n not in NOT_A_FIGURE])
def test_every_laptop_setting_is_run_with_at_least_two_seeds(tmp_path, name):
    configs = configs_at(name, "laptop", tmp_path)
    settings: dict[str, set[int]] = {}
    for c in configs:
        unseeded = replace(c, seed=0, ticket=c.ticket and replace(c.ticket, seed=0))
        settings.setdefault(unseeded.run_id, set()).add(c.seed)
    assert min(len(seeds) for seeds in settings.values()) >= 2


def test_table1_searches_signed_constants_at_the_best_dense_sparsity_of_fig5(tmp_path):
    configs = configs_at("table1", "laptop", tmp_path)
    tickets = [c for c in configs if c.ticket is not None]
    assert {c.ticket.weights for c in tickets} == {SLT_WEIGHTS}
    assert {c.ticket.sparsity for c in tickets if source(c) != "sparse"} == {BEST_DENSE_SPARSITY}
    resnet = [c for c in tickets if c.model == "resnet18" and c.seed == 0]
    assert sorted((source(c), freezing_ratio(c)) for c in resnet) == [
        ("dense", 0.0),
        ("frozen", 0.6),
        ("frozen", 0.8),
        ("sparse", 0.6),
        ("sparse", 0.8),
    ]  # two freezing ratios, one dense row


def test_table1_runs_a_frozen_source_that_resolves_to_its_sparse_one_only_once(tmp_path):
    # At k = 0.9 the centring rule puts all of f = 0.6 or 0.8 on the pruned side (r = (f - 2k + 1)/2 < 0),
    # which is where the laptop fig5 records put ResNet-18.
    configs = sweep_configs("table1", "laptop", tmp_path, dense_sparsity=0.9, models=("resnet18",))
    tickets = [c.ticket for c in configs if c.ticket is not None and c.seed == 0]
    assert sorted((source_of_ticket(t), t.sparsity, t.ratios) for t in tickets) == [
        ("dense", 0.9, (0.0, 0.0)),
        ("sparse", 0.9, (0.6, 0.0)),
        ("sparse", 0.9, (0.8, 0.0)),
    ]
    merged = sources_merged_into_sparse("laptop", tmp_path, dense_sparsity=0.9)
    resnet = merged[merged["model"] == "resnet18"]
    assert resnet[["sparsity", "freezing ratio"]].values.tolist() == [[0.9, 0.6], [0.9, 0.8]]
    assert sources_merged_into_sparse("laptop", tmp_path, dense_sparsity=BEST_DENSE_SPARSITY).empty


def test_a_frozen_source_that_resolves_to_pruning_only_is_the_sparse_network(tmp_path):
    found = sources(0.9, 0.6, SLT_WEIGHTS)
    nets = [build_run(make_config("laptop", "resnet18", "cifar10", found[kind], 0), (3, 32, 32), 10) for kind in found]
    dense, sparse, frozen = (net.model.state_dict() for net in nets)
    assert sparse.keys() == frozen.keys()
    assert all(torch.equal(sparse[name], frozen[name]) for name in sparse)  # weights, scores and freezing masks
    assert not all(torch.equal(dense[name], sparse[name]) for name in sparse)  # the check can tell a difference


def source_of_ticket(ticket: TicketConfig) -> str:
    return source_of(pd.Series({f"ticket.{k}": v for k, v in vars(ticket).items()}))


def test_best_dense_sparsity_is_the_best_mean_over_seeds_of_dense_sources(tmp_path):
    by_seed = {0: {0.5: 85, 0.7: 80, 0.9: 70}, 1: {0.5: 70, 0.7: 80, 0.9: 85}}  # means: 77.5, 80, 77.5

    def accuracy(c):
        return 95.0 if c.ticket.freeze else by_seed[c.seed][c.ticket.sparsity]  # frozen sources must not count

    write_sweep(tmp_path, "fig5", accuracy)
    assert best_dense_sparsity("conv6", "cifar10", "laptop", tmp_path) == 0.7
    assert best_dense_sparsity("resnet18", "cifar10", "laptop", tmp_path) == 0.7  # 80 against 77.5 at 0.9
    assert best_dense_sparsity("gin", "citeseer", "laptop", tmp_path) == 0.7  # the laptop fig5 has Cora only


def test_best_dense_sparsity_of_the_gin_is_read_on_its_own_graph(tmp_path):
    best = {"cora": 0.5, "citeseer": 0.9, "ogbn-arxiv": 0.7}

    def accuracy(c):
        return 80 - 10 * abs(c.ticket.sparsity - best.get(c.dataset, 0.7))

    write_sweep(tmp_path, "fig5", accuracy, scale="full")
    for dataset, sparsity in best.items():
        assert best_dense_sparsity("gin", dataset, "full", tmp_path) == sparsity


@pytest.mark.parametrize("records", ["none", "frozen only"])
def test_without_a_dense_fig5_record_the_error_names_the_command(tmp_path, records):
    if records == "frozen only":
        write_sweep(tmp_path, "fig5", fig5_accuracy, keep=lambda c: c.ticket.freeze > 0)
    with pytest.raises(ConfigError) as error:
        best_dense_sparsity("conv6", "cifar10", "laptop", tmp_path)
    message = str(error.value)
    assert "\n" not in message and message.endswith("first.")
    assert "no dense conv6 record: run `slt sweep fig5 --scale laptop` first." in message
    with pytest.raises(ConfigError, match="slt sweep fig5 --scale laptop"):
        sweep_configs("table1", "laptop", tmp_path)


def test_a_best_sparsity_is_not_read_from_part_of_the_dense_grid(tmp_path):
    # With one sparsity's dense runs missing, the best of the others could change when they land.
    write_sweep(tmp_path, "fig5", fig5_accuracy, keep=lambda c: not (c.model == "conv6" and c.ticket.sparsity == 0.9))
    dense = [c for c in sweep_configs("fig5", "laptop") if c.model == "conv6" and not c.ticket.freeze]
    missing = sum(c.ticket.sparsity == 0.9 for c in dense)
    with pytest.raises(ConfigError) as error:
        best_dense_sparsity("conv6", "cifar10", "laptop", tmp_path)
    assert f"{missing} of its {len(dense)} dense-source runs" in str(error.value)
    assert str(error.value).endswith("run `slt sweep fig5 --scale laptop --where model=conv6` first.")
    assert best_dense_sparsity("gin", "cora", "laptop", tmp_path) == BEST_DENSE_SPARSITY  # the GIN's grid is whole


@given(
    sparsity=st.floats(0.0, 0.99),
    freeze=st.floats(0.0, 0.99),  # at 1 nothing is left to search
    weights=st.sampled_from(WEIGHT_INITS),
)
def test_sources_are_valid_tickets_with_equal_search_spaces_for_sparse_and_frozen(sparsity, freeze, weights):
    found = sources(sparsity, freeze, weights)  # TicketConfig refuses an invalid ticket when it is made
    dense, sparse, frozen = found["dense"], found["sparse"], found["frozen"]
    assert {t.weights for t in found.values()} == {weights}
    assert dense.ratios == (0.0, 0.0) and dense.sparsity == frozen.sparsity == sparsity
    assert sparse.ratios == (freeze, 0.0)
    assert sparse.sparsity == pytest.approx(max(sparsity, (1 + freeze) / 2), abs=1e-6)  # at least mid-range
    assert sparse.sparsity > freeze  # something is left to search
    assert sum(frozen.ratios) == pytest.approx(freeze)


def test_one_networks_table1_rows_can_run_before_the_others_have_fig5_records(tmp_path):
    # The laptop order runs the GIN's fig5 and Table 1 before ResNet-18's fig5 exists.
    write_sweep(tmp_path, "fig5", fig5_accuracy, keep=lambda c: c.model == "gin")
    with pytest.raises(ConfigError, match="no dense conv6 record"):
        sweep_configs("table1", "laptop", tmp_path)
    gin_rows = sweep_configs("table1", "laptop", tmp_path, models=("gin",))
    assert gin_rows and {c.model for c in gin_rows} == {"gin"}
    assert {c.ticket.sparsity for c in gin_rows if c.ticket and c.ticket.freeze is None and not c.ticket.prune} == {
        BEST_DENSE_SPARSITY
    }
