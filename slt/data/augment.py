"""Batch augmentations, done on the images' device for the whole batch at once.

An augmentation draws its random numbers for a whole epoch from the epoch's
generator (so a resumed run repeats exactly the crops an uninterrupted one
would have made), and applies them to each batch by index.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError


def crop_flip(
    images: torch.Tensor, offsets_y: torch.Tensor, offsets_x: torch.Tensor, flips: torch.Tensor, padding: int
) -> torch.Tensor:
    """Crop each image of (N, C, H, W) at its own offset after zero padding, then mirror those with ``flips``.

    Sample ``n`` becomes ``pad(images[n])[:, oy:oy + H, ox:ox + W]``, flipped
    left-right when ``flips[n]``. Offsets must lie in ``[0, 2 * padding]``
    (not checked: a check would stall the GPU). One gather does all samples
    on the images' device, so the training step pays no per-sample Python cost.
    """
    n, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    width = w + 2 * padding
    rows = offsets_y.to(device).view(n, 1) + torch.arange(h, device=device)
    cols = torch.arange(w, device=device)
    cols = offsets_x.to(device).view(n, 1) + torch.where(flips.to(device).view(n, 1), cols.flip(0), cols)
    index = (rows[:, :, None] * width + cols[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    return padded.reshape(n, c, -1).gather(2, index).view(n, c, h, w)


@dataclass(frozen=True)
class CropFlip:
    """The standard CIFAR augmentation: a random crop after ``padding`` zeros and a random mirror."""

    padding: int = 4

    def __post_init__(self) -> None:
        if self.padding < 0:
            raise ConfigError(f"crop padding must be >= 0, got {self.padding}: use 4 for CIFAR-10.")

    def draw(self, n: int, generator: torch.Generator, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch's draws for ``n`` images, in this order: (row, column) offsets, then the flips."""
        offsets = torch.randint(0, 2 * self.padding + 1, (2, n), generator=generator).to(device)
        flips = torch.randint(0, 2, (n,), generator=generator).bool().to(device)
        return offsets, flips

    def apply(
        self, images: torch.Tensor, drawn: tuple[torch.Tensor, torch.Tensor], index: torch.Tensor
    ) -> torch.Tensor:
        """Augment the batch of images ``index`` picks, with their own draws of the epoch."""
        offsets, flips = drawn
        return crop_flip(images, offsets[0, index], offsets[1, index], flips[index], self.padding)
