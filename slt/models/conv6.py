"""Conv6, the VGG-like network of Ramanujan et al. (2020): six convolutions, three linear layers.

No normalisation and no biases, as in the papers; ``width`` scales every
hidden channel and unit count. ReLU works in place (a convolution's or linear
layer's backward needs its input, not its output), which changes no value.
"""

from __future__ import annotations

from torch import nn


def _channels(c: int, width: float) -> int:
    return max(1, round(c * width))


def conv6(input_shape: tuple[int, ...], num_classes: int, width: float = 1.0) -> nn.Sequential:
    """Conv6 for images of shape (C, H, W) with H and W divisible by 8."""
    in_channels, height, w = input_shape
    c64, c128, c256 = (_channels(c, width) for c in (64, 128, 256))
    layers: list[nn.Module] = []
    previous = in_channels
    for c in (c64, c128, c256):
        layers += [
            nn.Conv2d(previous, c, 3, padding=1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, padding=1, bias=False),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]
        previous = c
    layers += [
        nn.Flatten(),
        nn.Linear(c256 * (height // 8) * (w // 8), c256, bias=False),
        nn.ReLU(inplace=True),
        nn.Linear(c256, c256, bias=False),
        nn.ReLU(inplace=True),
        nn.Linear(c256, num_classes, bias=False),
    ]
    return nn.Sequential(*layers)
