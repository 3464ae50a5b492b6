"""Node-classification graphs for the GIN experiments, through their standard loaders.

Cora and CiteSeer come from torch_geometric's ``Planetoid`` with row-normalised
features (as the frozen-network paper's code prepares them) and, by default,
the *full* split: every node outside the 500 validation and 1,000 test nodes
trains (1,208 labels on Cora, 1,827 on CiteSeer). That is the label-rich
stand-in for OGBN-Arxiv (90,941 training labels), the regime the paper's GIN
recipe was made for; the public split (20 labels per class) stays available.
OGBN-Arxiv comes from ``ogb`` (the official time split). Each returned ``Data`` has
the same attributes (``x`` float, ``y`` int64 (N,), ``edge_index``, boolean
``train_mask`` / ``val_mask`` / ``test_mask``, ``num_classes``, ``variant``),
so the trainer never branches on the data set. torch_geometric and ogb are
imported inside the functions: they are slow to import and image runs never
need them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from filelock import FileLock

from .._pyg import import_torch_geometric
from ..errors import ConfigError, DataError
from .base import resolve_data_dir
from .spec import DatasetSpec

if TYPE_CHECKING:
    from torch_geometric.data import Data

PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}
ARXIV = "ogbn-arxiv"
PLANETOID_SPLITS: tuple[str, ...] = ("full", "public")
# torch_geometric's Planetoid.raw_file_names, as ind.<name>.<part>
_PLANETOID_RAW_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def _finish(data: Data, num_classes: int, variant: str = "original") -> Data:
    """Give every graph the same dtypes and the attributes the trainer and results records read."""
    data.x = data.x.float()
    data.y = data.y.view(-1).long()
    data.num_classes = int(num_classes)
    data.variant = variant
    return data


@contextlib.contextmanager
def _one_loader_at_a_time(lock_file: Path) -> Iterator[None]:
    """Hold ``lock_file`` while a graph loads, so that parallel runs never read a half-written cache.

    torch_geometric and ogb process the raw files on the first load and write the
    result in place; a sweep starts two runs at once, and the second would read
    the cache while the first still writes it. With the lock the second waits and
    then reads the finished file. Where the folder cannot be written (a read-only
    shared copy) no loader can write a cache there either, so loading goes ahead
    without the lock.
    """
    lock: FileLock | None = None
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(lock_file)
        lock.acquire()
    except OSError:
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def load_planetoid(name: str, data_dir: str | os.PathLike[str] | None = None, split: str = "full") -> Data:
    """Cora or CiteSeer (case-insensitive) from ``DATA_DIR/Planetoid/``, features row-normalised.

    ``split`` is ``"full"`` (every node outside validation and test trains) or
    ``"public"`` (20 labels per class); both keep the public 500 validation and
    1,000 test nodes. torch_geometric processes the raw ``ind.*`` files offline
    into one ``processed/data.pt`` holding the public masks and derives the full
    split from them on every load, so the two splits share one cache. Each row of
    features is divided by its sum (torch_geometric's ``NormalizeFeatures``; rows
    of zeros, CiteSeer's 15 placeholder nodes, stay zero).
    """
    key = name.lower()
    if key not in PLANETOID_NAMES:
        raise ConfigError(f"unknown Planetoid data set {name!r}: choose one of {', '.join(PLANETOID_NAMES)}.")
    if split not in PLANETOID_SPLITS:
        raise ConfigError(f"unknown Planetoid split {split!r}: choose one of {', '.join(PLANETOID_SPLITS)}.")
    pyg = import_torch_geometric()
    Planetoid = pyg.datasets.Planetoid

    title = PLANETOID_NAMES[key]
    root = resolve_data_dir(data_dir) / "Planetoid"
    raw = root / title / "raw"
    had_raw = all((raw / f"ind.{key}.{part}").is_file() for part in _PLANETOID_RAW_PARTS)
    try:
        with _one_loader_at_a_time(root / f"{title}.lock"):
            dataset = Planetoid(str(root), name=title, split=split, transform=pyg.transforms.NormalizeFeatures())
    except Exception as err:  # downloads and parsing fail in many ways (fsspec/aiohttp, pickle, numpy)
        if not had_raw:
            raise DataError(
                f"{title} is not in {raw} and could not be downloaded ({type(err).__name__}): put the eight "
                f"Planetoid raw files (ind.{key}.x, ind.{key}.graph, ...) in {raw}/ or point --data-dir / "
                "$SLT_DATA_DIR at a copy (download needs the network)."
            ) from err
        raise DataError(
            f"the {title} files in {raw.parent} are corrupt or truncated (loading failed with "
            f"{type(err).__name__}): delete that folder and download or copy the raw files again."
        ) from err
    return _finish(dataset[0], dataset.num_classes, f"original, {split} split, row-normalised features")


def _arxiv_release_file() -> str:
    """The marker ogb expects in a current copy; without it ogb stops to ask on stdin."""
    import_torch_geometric()  # ogb imports it: first quietly
    import ogb.nodeproppred
    import pandas as pd

    master = pd.read_csv(Path(ogb.nodeproppred.__file__).parent / "master.csv", index_col=0, keep_default_na=False)
    return f"RELEASE_v{master[ARXIV]['version']}.txt"


def load_ogbn_arxiv(data_dir: str | os.PathLike[str] | None = None) -> Data:
    """OGBN-Arxiv from ``DATA_DIR/ogbn_arxiv/`` with the official time split as boolean masks.

    ogb downloads the data when its raw files are missing. The edges stay as
    released (directed citations); labels are flattened from (N, 1) to (N,).
    """
    import_torch_geometric()  # ogb imports it: first quietly
    from ogb.nodeproppred import PygNodePropPredDataset
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    root = resolve_data_dir(data_dir)
    folder = root / "ogbn_arxiv_pyg"  # ogb prefers this older folder name when it exists
    if not folder.exists():
        folder = root / "ogbn_arxiv"
    existed = folder.exists()
    release = _arxiv_release_file()
    if existed and not (folder / release).is_file():
        raise DataError(
            f"{folder} has no {release} (an old or partial download), so ogb would stop to ask whether to "
            "replace it: delete that folder to download ogbn-arxiv again, or add the file if the copy is complete."
        )
    try:
        # ogb's own torch.load predates weights_only=True; allow exactly the PyG classes its file holds.
        with (
            _one_loader_at_a_time(root / f"{ARXIV}.lock"),
            torch.serialization.safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage]),
        ):
            dataset = PygNodePropPredDataset(name=ARXIV, root=str(root))
            split = dataset.get_idx_split()
    except Exception as err:  # downloads and parsing fail in many ways (URLError, pandas, pickle)
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)  # a half-made folder would make ogb prompt next time
            raise DataError(
                f"ogbn-arxiv is not in {root} and could not be downloaded ({type(err).__name__}): put the "
                f"contents of ogb's arxiv.zip in {folder} or point --data-dir / $SLT_DATA_DIR at a copy "
                "(download needs the network)."
            ) from err
        raise DataError(
            f"the ogbn-arxiv files in {folder} are corrupt or incomplete (loading failed with "
            f"{type(err).__name__}): delete that folder and download it again."
        ) from err
    data = dataset[0]
    for mask_name, split_name in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
        mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        mask[split[split_name]] = True
        data[mask_name] = mask
    return _finish(data, dataset.num_classes)


def load_graph(name: str, data_dir: str | os.PathLike[str] | None = None, split: str = "full") -> Data:
    """A graph data set by name: ``cora``, ``citeseer`` or ``ogbn-arxiv`` (case-insensitive).

    ``split`` chooses the Planetoid split (see :func:`load_planetoid`);
    OGBN-Arxiv always has its official time split and ignores it.
    """
    key = name.lower()
    if key in PLANETOID_NAMES:
        return load_planetoid(key, data_dir, split)
    if key == ARXIV:
        return load_ogbn_arxiv(data_dir)
    raise ConfigError(f"unknown graph data set {name!r}: choose one of {', '.join((*PLANETOID_NAMES, ARXIV))}.")


def _load_arxiv(data_dir: str | os.PathLike[str] | None, split: str) -> Data:
    """OGBN-Arxiv through the graph loaders' signature: it has one (time) split, whatever ``split`` says."""
    return load_ogbn_arxiv(data_dir)


# The paper's GIN recipe, for every graph.
GIN_RECIPE = {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.0, "epochs": 400}


def _planetoid_spec(
    name: str, features: int, classes: int, train_nodes: int, graph_size: tuple[int, int]
) -> DatasetSpec:
    """A Planetoid graph with the GIN recipe; ``train_nodes`` counts the full split's training labels."""
    return DatasetSpec(
        name=name,
        label=PLANETOID_NAMES[name],
        kind="graph",
        input_shape=(features,),
        num_classes=classes,
        train_examples=train_nodes,
        load=functools.partial(load_planetoid, name),
        recipe=GIN_RECIPE,
        graph_size=graph_size,
    )


CORA = _planetoid_spec("cora", features=1433, classes=7, train_nodes=1_208, graph_size=(2708, 10556))
CITESEER = _planetoid_spec("citeseer", features=3703, classes=6, train_nodes=1_827, graph_size=(3327, 9104))
OGBN_ARXIV = DatasetSpec(
    name=ARXIV,
    label="OGBN-Arxiv",
    kind="graph",
    input_shape=(128,),
    num_classes=40,
    train_examples=90_941,
    load=_load_arxiv,
    recipe=GIN_RECIPE,
    graph_size=(169_343, 2_332_486),
)
