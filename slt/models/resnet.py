"""ResNet-18 for 32x32 images (He et al. 2016, CIFAR variant), as searched in the papers.

3x3 stem without max-pooling, four stages of two basic blocks, non-affine
BatchNorm and no biases (a ticket holds no learned parameters). ``width``
scales the base width of 64 channels. ReLU and the residual sum work in
place, as in torchvision: nothing the backward pass needs is overwritten, the
values are the same bit for bit, and a step writes three activations fewer
per block to fresh memory.
"""

from __future__ import annotations

import torch
from torch import nn


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, affine=False)


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, padding=1, bias=False)
        self.bn1 = _bn(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, padding=1, bias=False)
        self.bn2 = _bn(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride, bias=False), _bn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu_(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return torch.relu_(out)


class ResNet18(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, width: float = 1.0) -> None:
        super().__init__()
        widths = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, padding=1, bias=False)
        self.bn1 = _bn(widths[0])
        blocks: list[nn.Module] = []
        previous = widths[0]
        for stage, channels in enumerate(widths):
            for block in range(2):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(previous, channels, stride))
                previous = channels
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(previous, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu_(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1)
        return self.fc(out)


def resnet18(input_shape: tuple[int, ...], num_classes: int, width: float = 1.0) -> ResNet18:
    return ResNet18(input_shape[0], num_classes, width)
