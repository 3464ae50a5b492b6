"""What every image data set hands to the trainer: uint8 tensors split three ways.

Images stay uint8 (N, C, H, W) until a batch is used, so a whole data set fits
on the GPU (CIFAR-10 is 180 MB as uint8, 720 MB as float32) and
normalisation happens per batch on the device.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

DATA_DIR_ENV = "SLT_DATA_DIR"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else ``$SLT_DATA_DIR``, else ``./data``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    return Path(os.environ.get(DATA_DIR_ENV, "data")).expanduser()


@functools.lru_cache(maxsize=16)
def channel_stats(
    mean: tuple[float, ...], std: tuple[float, ...], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std as (1, C, 1, 1) tensors on ``device``, made once per device.

    Made per batch they would be two blocking host-to-device copies in every training step.
    """
    return torch.tensor(mean, device=device).view(1, -1, 1, 1), torch.tensor(std, device=device).view(1, -1, 1, 1)


@dataclass(frozen=True)
class Split:
    """One split: ``images`` uint8 (N, C, H, W) and ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))

    def subset(self, n: int) -> Split:
        """The first ``n`` examples (quick runs use subsets; the order is the data set's)."""
        return Split(self.images[:n], self.labels[:n])


@dataclass(frozen=True)
class ImageSet:
    """What an image loader reads: the official training and test splits, and the data's variant.

    The validation split, the normalisation and the name are the library's (:func:`slt.data.load_image_splits`
    makes a :class:`DataSplits` from this and the data set's spec), so every loader is only a reader.
    """

    train: Split
    test: Split
    variant: str = "original"


@dataclass(frozen=True)
class DataSplits:
    """Train / validation / test splits of one image data set.

    ``variant`` names the exact data the numbers come from (for example
    ``"original"`` or ``"jpeg-copy"``); every results record stores it.
    """

    name: str
    train: Split
    val: Split
    test: Split
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_classes: int
    variant: str = "original"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.images.shape[1:])

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images -> float32, scaled to [0, 1] and standardised per channel."""
        mean, std = channel_stats(self.mean, self.std, images.device)
        return images.float().div_(255.0).sub_(mean).div_(std)

    def to(self, device: torch.device | str) -> DataSplits:
        return DataSplits(
            self.name,
            self.train.to(device),
            self.val.to(device),
            self.test.to(device),
            self.mean,
            self.std,
            self.num_classes,
            self.variant,
        )


def split_train_val(images: torch.Tensor, labels: torch.Tensor, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """A fixed random train/validation split (the papers use 4:1, ``val_fraction=0.2``)."""
    n = len(labels)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    return Split(images[train_idx], labels[train_idx]), Split(images[val_idx], labels[val_idx])
