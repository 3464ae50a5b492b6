"""Fashion-MNIST through torchvision, from a data directory (downloaded when missing)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from .base import ImageSet, Split, resolve_data_dir
from .spec import DatasetSpec

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MEAN, STD = (0.2860,), (0.3530,)


def _extract_local_archives(raw: Path) -> None:
    """Unpack ``*.gz`` files lying next to where torchvision expects the idx files."""
    from torchvision.datasets.utils import extract_archive

    for name in FILES:
        if not (raw / name).exists() and (raw / f"{name}.gz").exists():
            extract_archive(str(raw / f"{name}.gz"), str(raw))


def _torchvision_split(root: Path, train: bool, download: bool) -> Split:
    from torchvision.datasets import FashionMNIST

    dataset = FashionMNIST(str(root), train=train, download=download)
    return Split(dataset.data.unsqueeze(1).contiguous(), dataset.targets.long())


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = True, accept_copy: bool = False
) -> ImageSet:
    """Fashion-MNIST's 60,000 training and 10,000 test images, from ``DATA_DIR/FashionMNIST/raw/``.

    Looks there for the four idx files (plain or ``.gz``) and downloads them with torchvision when
    they are missing and ``download`` is true. torchvision reads them without checksums, so there
    is no copy to tell apart and ``accept_copy`` (every image loader takes it) changes nothing.
    """
    root = resolve_data_dir(data_dir)
    raw = root / "FashionMNIST" / "raw"
    if raw.is_dir():
        _extract_local_archives(raw)
    have_files = all((raw / name).exists() for name in FILES)
    if not have_files and not download:
        raise DataError(f"Fashion-MNIST is not in {raw}: put the four idx files ({', '.join(FILES)}, or .gz) there.")
    try:
        train_all = _torchvision_split(root, train=True, download=download and not have_files)
        test = _torchvision_split(root, train=False, download=False)
    except DataError:
        raise
    except Exception as err:  # torchvision raises many kinds (URLError, RuntimeError, ...)
        if not have_files:
            raise DataError(
                f"Fashion-MNIST is not in {raw} and could not be downloaded ({type(err).__name__}): "
                "put the four idx files (or .gz) there, or point --data-dir / $SLT_DATA_DIR at a copy."
            ) from None
        raise DataError(
            f"the Fashion-MNIST files in {raw} are corrupt or truncated ({err}): delete them and download again."
        ) from None
    return ImageSet(train_all, test)


SPEC = DatasetSpec(
    name="fashion-mnist",
    label="Fashion-MNIST",
    kind="image",
    input_shape=(1, 28, 28),
    num_classes=10,
    train_examples=48_000,
    mean=MEAN,
    std=STD,
    load=load_fashion_mnist,
    # Our first, CPU-sized example: lr 0.3, chosen on the validation split, because Kaiming-normal
    # scores of a 784-input layer are three times smaller than those of a 3x3 convolution.
    recipe={"optimizer": "sgd", "lr": 0.3, "momentum": 0.9, "weight_decay": 1e-4, "batch_size": 128, "epochs": 2},
)
