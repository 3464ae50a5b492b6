"""Graph loading: real Cora / CiteSeer (copied from $SLT_DATA_DIR/Planetoid) and an OGBN-Arxiv fixture."""

from __future__ import annotations

import builtins
import multiprocessing
import shutil
import threading
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from slt.data.graphs import load_graph, load_ogbn_arxiv, load_planetoid
from slt.errors import ConfigError, DataError

from realdata import copy_planetoid


def assert_one_sentence(message: str, *fragments: str) -> None:
    """A user-facing message: one line, one sentence, naming the problem and the fix."""
    assert "\n" not in message and message.endswith(".") and ". " not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.fixture(autouse=True)
def no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """ogb asks on stdin in some states; a test that reaches input() fails instead of hanging."""

    def refuse(*args: object) -> str:
        raise AssertionError("input() was called")

    monkeypatch.setattr(builtins, "input", refuse)


# --- Planetoid (real files) ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def planetoid_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a copy of the real raw Cora and CiteSeer files."""
    return copy_planetoid(tmp_path_factory.mktemp("graphs"), "Cora", "CiteSeer")


def check_common(data, num_classes: int, variant: str = "original") -> None:
    n = data.num_nodes
    assert data.x.dtype == torch.float32 and data.x.shape[0] == n
    assert data.y.dtype == torch.int64 and data.y.shape == (n,)
    assert data.edge_index.dtype == torch.int64 and data.edge_index.shape[0] == 2
    assert data.num_classes == num_classes and int(data.y.max()) < num_classes
    assert data.variant == variant
    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert masks.dtype == torch.bool and masks.shape == (3, n)
    assert int(masks.sum(0).max()) == 1  # the splits are disjoint


PUBLIC = "original, public split, row-normalised features"
FULL = "original, full split, row-normalised features"


def mask_sizes(data) -> list[int]:
    return [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)]


def test_cora_public_split(planetoid_root: Path) -> None:
    data = load_planetoid("cora", planetoid_root, split="public")
    check_common(data, 7, PUBLIC)
    assert tuple(data.x.shape) == (2708, 1433) and data.edge_index.shape[1] == 10556
    assert torch.bincount(data.y).tolist() == [351, 217, 418, 818, 426, 298, 180]
    assert mask_sizes(data) == [140, 500, 1000]
    assert torch.bincount(data.y[data.train_mask]).tolist() == [20] * 7  # the public split: 20 per class


def test_cora_full_split_is_the_default_and_trains_every_other_node(planetoid_root: Path) -> None:
    data = load_planetoid("cora", planetoid_root)
    check_common(data, 7, FULL)
    assert mask_sizes(data) == [1208, 500, 1000] and data.num_nodes == 1208 + 500 + 1000
    public = load_planetoid("cora", planetoid_root, split="public")
    assert torch.equal(data.val_mask, public.val_mask) and torch.equal(data.test_mask, public.test_mask)
    assert bool((public.train_mask <= data.train_mask).all())  # the full split contains the public one


def test_the_splits_share_one_cache_without_mixing_masks(planetoid_root: Path) -> None:
    """torch_geometric caches one processed file for all splits: each load must still get its own masks."""
    for split, sizes in (("full", [1208, 500, 1000]), ("public", [140, 500, 1000]), ("full", [1208, 500, 1000])):
        assert mask_sizes(load_graph("cora", planetoid_root, split)) == sizes, split
    assert sorted(p.name for p in (planetoid_root / "Planetoid" / "Cora" / "processed").glob("*.pt")) == [
        "data.pt",
        "pre_filter.pt",
        "pre_transform.pt",
    ]


def test_planetoid_features_are_row_normalised(planetoid_root: Path) -> None:
    for name, zero_rows in (("cora", 0), ("citeseer", 15)):  # CiteSeer's 15 placeholder test nodes have no words
        x = load_planetoid(name, planetoid_root).x
        sums = x.sum(1)
        assert int((sums == 0).sum()) == zero_rows and float(x.min()) == 0.0
        assert torch.allclose(sums[sums > 0], torch.ones(()), atol=1e-5)
        row = x[int(torch.nonzero(sums).view(-1)[0])]
        nonzero = row[row > 0]
        assert torch.allclose(nonzero, torch.full_like(nonzero, 1 / len(nonzero)))  # binary words, divided by count


def test_citeseer_by_any_case_and_through_load_graph(planetoid_root: Path) -> None:
    data = load_graph("CiteSeer", planetoid_root, "public")
    check_common(data, 6, PUBLIC)
    assert tuple(data.x.shape) == (3327, 3703) and data.edge_index.shape[1] == 9104
    assert mask_sizes(data) == [120, 500, 1000]
    full = load_planetoid("CITESEER", planetoid_root)
    check_common(full, 6, FULL)
    assert torch.equal(full.y, data.y) and mask_sizes(full) == [1827, 500, 1000]


def test_unknown_split_is_refused_in_one_sentence(planetoid_root: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_planetoid("cora", planetoid_root, split="random")
    assert_one_sentence(str(info.value), "'random'", "choose one of full, public")
    with pytest.raises(ConfigError):
        load_graph("citeseer", planetoid_root, "geom-gcn")


def test_unknown_planetoid_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        load_planetoid("pubmed")
    assert_one_sentence(str(info.value), "'pubmed'", "choose one of cora, citeseer")


def test_unknown_graph_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        load_graph("reddit")
    assert_one_sentence(str(info.value), "'reddit'", "choose one of cora, citeseer, ogbn-arxiv")


def test_missing_planetoid_says_where_to_put_the_raw_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_geometric.datasets import Planetoid

    # The real download code runs, against an address that fails at once even with network.
    monkeypatch.setattr(Planetoid, "url", (tmp_path / "no-such-server").as_uri())
    with pytest.raises(DataError) as info:
        load_planetoid("Cora", tmp_path)
    raw = tmp_path / "Planetoid" / "Cora" / "raw"
    assert_one_sentence(str(info.value), "could not be downloaded", f"in {raw}/", "ind.cora.x", "network")


def test_corrupt_planetoid_file_is_reported(tmp_path: Path, planetoid_root: Path) -> None:
    raw = tmp_path / "Planetoid" / "Cora" / "raw"
    shutil.copytree(planetoid_root / "Planetoid" / "Cora" / "raw", raw)
    (raw / "ind.cora.x").write_bytes(b"not a pickle")
    with pytest.raises(DataError) as info:
        load_planetoid("cora", tmp_path)
    assert_one_sentence(str(info.value), f"{raw.parent} are corrupt", "delete that folder")


def load_cora_together(start: threading.Barrier, data_dir: Path):
    """Wait until every process is ready, then load Cora: the loads overlap as much as they can."""
    start.wait()
    return load_planetoid("cora", data_dir)


@pytest.mark.slow
def test_runs_loading_a_fresh_copy_at_once_all_get_the_graph(tmp_path: Path, planetoid_root: Path) -> None:
    # A sweep starts runs side by side on a data dir nobody has loaded yet: each would process the raw files and
    # the others read the cache half-written (CI saw "corrupt or truncated"). Four processes, nothing processed.
    shutil.copytree(planetoid_root / "Planetoid" / "Cora" / "raw", tmp_path / "Planetoid" / "Cora" / "raw")
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, ProcessPoolExecutor(4, mp_context=spawn) as pool:
        start = manager.Barrier(4)
        graphs = [job.result() for job in [pool.submit(load_cora_together, start, tmp_path) for _ in range(4)]]
    alone = load_planetoid("cora", tmp_path)
    for graph in graphs:
        assert torch.equal(graph.x, alone.x) and torch.equal(graph.edge_index, alone.edge_index)


def test_a_folder_that_cannot_hold_a_lock_still_loads(planetoid_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A read-only shared copy: no lock can be made there, and no loader can write a cache there either.
    class ReadOnlyLock:
        def __init__(self, path: object) -> None:
            pass

        def acquire(self) -> None:
            raise PermissionError("read-only file system")

    load_planetoid("cora", planetoid_root)  # the cache exists, as it would in a shared copy
    monkeypatch.setattr("slt.data.graphs.FileLock", ReadOnlyLock)
    assert load_planetoid("cora", planetoid_root).num_nodes == 2708


# --- OGBN-Arxiv (a tiny fixture in ogb's raw layout) ----------------------------------------------------

ARXIV_EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [8, 9], [9, 0]])
ARXIV_LABELS = np.array([3, 0, 39, 3, 1, 0, 2, 39, 5, 1])
ARXIV_SPLIT = {"train": [0, 1, 2, 3, 4, 5], "valid": [6, 7], "test": [8, 9]}


def write_csv_gz(path: Path, rows: np.ndarray) -> None:
    pd.DataFrame(rows).to_csv(path, header=False, index=False, compression="gzip")


def write_arxiv_fixture(root: Path) -> np.ndarray:
    """``root/ogbn_arxiv`` as ogb's arxiv.zip unpacks it, shrunk to 10 nodes; returns the node features.

    ogb skips the download because the raw files it lists (edge, node-feat)
    exist, and skips its "update the dataset?" prompt because RELEASE_v1.txt
    exists; it then builds ``processed/`` offline from these files.
    """
    folder = root / "ogbn_arxiv"
    (folder / "raw").mkdir(parents=True)
    (folder / "split" / "time").mkdir(parents=True)
    (folder / "RELEASE_v1.txt").write_text("ogbn-arxiv test fixture\n")
    n = len(ARXIV_LABELS)
    features = np.random.default_rng(0).standard_normal((n, 128)).astype(np.float32)
    write_csv_gz(folder / "raw" / "edge.csv.gz", ARXIV_EDGES)
    write_csv_gz(folder / "raw" / "node-feat.csv.gz", features)
    write_csv_gz(folder / "raw" / "node-label.csv.gz", ARXIV_LABELS[:, None])
    write_csv_gz(folder / "raw" / "node_year.csv.gz", np.arange(2010, 2010 + n)[:, None])
    write_csv_gz(folder / "raw" / "num-node-list.csv.gz", np.array([[n]]))
    write_csv_gz(folder / "raw" / "num-edge-list.csv.gz", np.array([[len(ARXIV_EDGES)]]))
    for part, nodes in ARXIV_SPLIT.items():
        write_csv_gz(folder / "split" / "time" / f"{part}.csv.gz", np.array(nodes)[:, None])
    return features


def test_arxiv_fixture_gives_features_labels_and_masks(tmp_path: Path) -> None:
    features = write_arxiv_fixture(tmp_path)
    for _ in range(2):  # the first call processes the raw files, the second reads processed/
        data = load_graph("ogbn-arxiv", tmp_path)
        check_common(data, 40)
        assert data.num_nodes == 10
        assert torch.allclose(data.x, torch.from_numpy(features), atol=1e-6)
        assert data.y.tolist() == ARXIV_LABELS.tolist()
        assert torch.equal(data.edge_index, torch.from_numpy(ARXIV_EDGES.T))
        for mask, part in ((data.train_mask, "train"), (data.val_mask, "valid"), (data.test_mask, "test")):
            assert torch.nonzero(mask).view(-1).tolist() == ARXIV_SPLIT[part]
    assert (tmp_path / "ogbn_arxiv" / "processed" / "geometric_data_processed.pt").is_file()


def test_arxiv_folder_without_release_file_is_refused_before_ogb_prompts(tmp_path: Path) -> None:
    write_arxiv_fixture(tmp_path)
    (tmp_path / "ogbn_arxiv" / "RELEASE_v1.txt").unlink()
    with pytest.raises(DataError) as info:
        load_ogbn_arxiv(tmp_path)
    assert_one_sentence(str(info.value), "has no RELEASE_v1.txt", "delete that folder")


def test_missing_arxiv_fails_cleanly_and_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)  # ogb downloads through urllib
    for _ in range(2):  # the second call must fail the same way, not reach ogb's prompt
        with pytest.raises(DataError) as info:
            load_ogbn_arxiv(tmp_path)
        assert_one_sentence(
            str(info.value), "could not be downloaded (URLError)", f"in {tmp_path / 'ogbn_arxiv'}", "network"
        )
        assert not (tmp_path / "ogbn_arxiv").exists()


def test_corrupt_arxiv_file_is_reported(tmp_path: Path) -> None:
    write_arxiv_fixture(tmp_path)
    (tmp_path / "ogbn_arxiv" / "raw" / "edge.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError) as info:
        load_ogbn_arxiv(tmp_path)
    assert_one_sentence(str(info.value), "corrupt or incomplete", "delete that folder")


def test_run_config_threads_the_split_to_the_task(planetoid_root: Path) -> None:
    from slt.config import RunConfig
    from slt.loops import load_task

    assert RunConfig(model="gin", dataset="cora").graph_split == "full"
    for split, train in (("full", 1208), ("public", 140)):
        task = load_task(RunConfig(model="gin", dataset="cora", graph_split=split), planetoid_root, torch.device("cpu"))
        assert task.train_examples == train and task.variant == f"original, {split} split, row-normalised features"
    with pytest.raises(ConfigError) as info:
        RunConfig(model="gin", dataset="cora", graph_split="Full")
    assert_one_sentence(str(info.value), "graph split 'Full'", "choose one of full, public")
