"""CIFAR-10 from torchvision's ``cifar-10-batches-py`` layout.

The official batches are verified against torchvision's md5 list. A copy that
differs on purpose (for example a JPEG re-encoding, the only CIFAR-10 some
machines can reach) is accepted only when asked for, and then every result
records it through its variant, because its accuracies are not the original's.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .augment import CropFlip
from .base import ImageSet, Split, resolve_data_dir
from .spec import DatasetSpec

FOLDER = "cifar-10-batches-py"
VARIANT_FILE = "VARIANT"
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
_IMAGE_SIZE = 3 * 32 * 32
_NUM_CLASSES = 10


def _official_files() -> tuple[list[str], list[str], dict[str, str]]:
    """Train batch names, test batch names, and the md5 of every file torchvision checks."""
    from torchvision.datasets import CIFAR10

    train = [name for name, _ in CIFAR10.train_list]
    test = [name for name, _ in CIFAR10.test_list]
    md5 = {name: digest for name, digest in CIFAR10.train_list + CIFAR10.test_list}
    md5[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    return train, test, md5


def _download(root: Path) -> None:
    """Fetch and unpack the official archive with torchvision (needs the network)."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets import utils as tv_utils

    try:
        tv_utils.download_and_extract_archive(CIFAR10.url, str(root), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)
    except (OSError, RuntimeError) as err:  # URLError is an OSError; a bad archive is a RuntimeError
        raise DataError(
            f"CIFAR-10 is not in {root} and could not be downloaded ({type(err).__name__}): put the {FOLDER} "
            "folder there or point --data-dir / $SLT_DATA_DIR at a copy (download needs the network)."
        ) from err


def _missing(folder: Path, names: Iterable[str]) -> list[str]:
    return [name for name in names if not (folder / name).is_file()]


def _batch_problem(entry: object) -> str | None:
    """Why an unpickled batch is not a CIFAR-10 batch, or None when it is one."""
    if not isinstance(entry, dict):
        return f"it holds a {type(entry).__name__}, not a dict"
    data, labels = entry.get("data"), entry.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _IMAGE_SIZE:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        return f"its data is {found}, not uint8 (N, {_IMAGE_SIZE})"
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
        found = len(labels) if isinstance(labels, (list, np.ndarray)) else "no"
        return f"it has {found} labels for {len(data)} images"
    if len(labels) and not 0 <= min(labels) <= max(labels) < _NUM_CLASSES:
        return f"its labels lie outside 0..{_NUM_CLASSES - 1}"
    return None


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) and labels of one pickled batch, checked, without the md5 test."""
    try:
        with path.open("rb") as f:
            entry = pickle.load(f, encoding="latin1")
    except Exception as err:  # a damaged pickle fails in many ways (EOFError, UnpicklingError, ValueError, ...)
        raise DataError(
            f"CIFAR-10 file {path} is corrupt or truncated (it cannot be unpickled: {type(err).__name__}): "
            "delete it and download CIFAR-10 again, or rebuild your copy."
        ) from err
    if isinstance(entry, dict):  # Python 2 pickles hold str keys, Python 3 writers may use bytes
        entry = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in entry.items()}
    problem = _batch_problem(entry)
    if problem is not None:
        raise DataError(
            f"CIFAR-10 file {path} is corrupt ({problem}): delete it and download CIFAR-10 again, or rebuild your copy."
        )
    return entry["data"].reshape(-1, 3, 32, 32), np.asarray(entry["labels"], dtype=np.int64)


def _read_split(folder: Path, names: list[str]) -> Split:
    batches = [_read_batch(folder / name) for name in names]
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    return Split(torch.from_numpy(images), torch.from_numpy(labels))


def _torchvision_split(root: Path, train: bool) -> Split:
    """The official files, read by torchvision itself (it repeats the md5 check)."""
    from torchvision.datasets import CIFAR10

    dataset = CIFAR10(str(root), train=train, download=False)
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # torchvision keeps HWC
    return Split(images, torch.tensor(dataset.targets, dtype=torch.int64))


def _copy_variant(folder: Path, digests: dict[str, str]) -> str:
    """``"copy: <VARIANT line>"`` when the copy describes itself, else ``"copy:<fingerprint>"``."""
    marker = folder / VARIANT_FILE
    lines = marker.read_text(errors="replace").strip().splitlines() if marker.is_file() else []
    if lines:
        return f"copy: {lines[0].strip()}"
    fingerprint = hashlib.sha256("".join(f"{n}:{d}\n" for n, d in sorted(digests.items())).encode())
    return f"copy:{fingerprint.hexdigest()[:12]}"


def load_cifar10(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = True, accept_copy: bool = False
) -> ImageSet:
    """CIFAR-10's 50,000 training and 10,000 test images, from ``DATA_DIR/cifar-10-batches-py/``.

    Downloads the official archive when files are missing and ``download`` is true. Files that do
    not match the official md5 checksums are refused unless ``accept_copy`` is true; an accepted
    copy is named ``"copy: <line of its VARIANT file>"`` or ``"copy:<fingerprint of its files>"``.
    """
    from torchvision.datasets.utils import calculate_md5

    root = resolve_data_dir(data_dir)
    folder = root / FOLDER
    train_names, test_names, official_md5 = _official_files()

    if _missing(folder, official_md5) and download:
        _download(root)
    missing = _missing(folder, official_md5)
    if missing:
        detail = "" if len(missing) == len(official_md5) else f" ({', '.join(missing)} missing from {FOLDER})"
        raise DataError(
            f"CIFAR-10 is not in {root}{detail}: put the {FOLDER} folder "
            "there or point --data-dir / $SLT_DATA_DIR at a copy, or pass download=True (needs the network)."
        )

    digests = {name: calculate_md5(folder / name) for name in official_md5}
    differing = [name for name, digest in digests.items() if digest != official_md5[name]]
    if differing:
        train_all, test = _read_split(folder, train_names), _read_split(folder, test_names)
        if not accept_copy:
            raise DataError(
                f"CIFAR-10 in {folder} does not match the official checksums ({', '.join(differing)} "
                f"differ{'s' if len(differing) == 1 else ''}): re-download it, or pass accept_copy=True / "
                "--accept-data-copy if it is a deliberate copy such as a JPEG re-encoding."
            )
        variant = _copy_variant(folder, digests)
    else:
        train_all, test = _torchvision_split(root, train=True), _torchvision_split(root, train=False)
        variant = "original"
    return ImageSet(train_all, test, variant)


SPEC = DatasetSpec(
    name="cifar10",
    label="CIFAR-10",
    kind="image",
    input_shape=(3, 32, 32),
    num_classes=_NUM_CLASSES,
    train_examples=40_000,
    mean=MEAN,
    std=STD,
    load=load_cifar10,
    # The papers' recipe for Conv6 and ResNet-18.
    recipe={"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "batch_size": 128, "epochs": 100},
    augment=CropFlip(padding=4),
    copy_in_use=True,
)
