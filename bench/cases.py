"""What the benchmarks time: the library's own model, optimizer and training step, as a run builds them.

Case (a), weight training, is ``slt.build.build_run`` with ``ticket=None``; case (b), ticket search,
is ``build_run`` with a ``TicketConfig``. Both train with the papers' recipe (SGD, momentum 0.9,
lr 0.1, weight decay 1e-4) through ``slt.build.make_optimizer``, and a step is
``slt.loops.train_step``, the one step ``ImageTask.train_epoch`` takes, its loss and hits added up
on the device as ``train_epoch`` adds them (no ``.item()``). ``bench/speed.py`` and ``bench/cpu.py``
both build their cases here; ``bench/cpu_run.py`` does not import this module, because it also runs
an older commit's ``slt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from slt.build import Run, build_run, make_optimizer
from slt.config import RunConfig, TicketConfig
from slt.data.base import DataSplits, Split
from slt.data.cifar10 import MEAN, STD
from slt.loops import train_step

SHAPE = (3, 32, 32)
CLASSES = 10


def library_config(
    model: str, width: float, seed: int, batch_size: int, ticket: TicketConfig | None, **changes
) -> RunConfig:
    """The run config of case (a) (``ticket=None``) or (b) on CIFAR-10, with the papers' recipe."""
    return RunConfig(
        model=model,
        dataset="cifar10",
        ticket=ticket,
        width=width,
        seed=seed,
        batch_size=batch_size,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        **changes,
    )


@dataclass
class Case:
    """A case ready to time: the run as ``slt.build`` makes it, its optimizer, and the module a step calls.

    ``model`` is ``run.model``, or a wrapper of it (bf16 autocast, a compiled body, ``torch.compile``).
    """

    run: Run
    optimizer: torch.optim.Optimizer
    model: nn.Module


def build_case(config: RunConfig, device: torch.device | str | None = None) -> Case:
    """Model (and ticket search) from ``build_run``, moved to ``device``, and the optimizer from ``make_optimizer``."""
    run = build_run(config, SHAPE, CLASSES)
    model = run.model if device is None else run.model.to(device)
    model.train()
    return Case(run, make_optimizer(config, [p for p in model.parameters() if p.requires_grad]), model)


def step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    totals: torch.Tensor,
) -> torch.Tensor:
    """``slt.loops.train_step``; its loss and hits accumulate in ``totals`` as in ``ImageTask.train_epoch``."""
    loss, logits = train_step(model, optimizer, (images,), labels)
    totals[0] += loss * len(labels)
    totals[1] += (logits.argmax(1) == labels).sum()
    return loss


class Autocast(nn.Module):
    """The forward pass under bf16 autocast, logits back in fp32 as autocast's loss takes them.

    Autocast belongs around the forward and the loss only; wrapping the model keeps the step the
    library's. ``cache=False`` for a CUDA graph capture.
    """

    def __init__(self, model: nn.Module, device_type: str, cache: bool = True) -> None:
        super().__init__()
        self.model, self.device_type, self.cache = model, device_type, cache

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=self.device_type, dtype=torch.bfloat16, cache_enabled=self.cache):
            return self.model(x).float()


def with_precision(model: nn.Module, precision: str, device: torch.device, cache: bool = True) -> nn.Module:
    """``model`` for fp32, its bf16-autocast forward for bf16."""
    return model if precision == "fp32" else Autocast(model, device.type, cache)


class CompiledBody(nn.Module):
    """The searched model with slt's masks made eagerly and the plain network body compiled.

    Compiling the parametrized model itself breaks the graph at every layer (the lazy mask check
    compares data pointers) and recompiles per layer index. Here ``module.weight`` runs slt's lazy
    top-k and straight-through function outside the compiled code, and a plain copy of the
    architecture (``run.spec.build()``) runs compiled through ``torch.func.functional_call`` with
    those weights and the searched model's buffers (BatchNorm statistics update in place).
    """

    def __init__(self, run: Run, mode: str | None) -> None:
        super().__init__()
        self.searched = run.model
        device = next(run.model.parameters()).device
        self.body = run.spec.build().to(device).requires_grad_(False)
        self.__dict__["search"] = run.search
        self.buffer_refs = {k: v for k, v in run.model.named_buffers() if ".parametrizations." not in k}

        def call(tensors: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(self.body, tensors, (x,))

        self.compiled = torch.compile(call, mode=mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = {f"{layer.name}.weight": layer.module.weight for layer in self.search.layers}
        tensors.update(self.buffer_refs)
        return self.compiled(tensors, x)


def compile_mode(mode: str) -> str | None:
    """``torch.compile``'s mode for a command line's choice (``default`` is None)."""
    return None if mode == "default" else mode


def random_split(n: int, generator: torch.Generator) -> Split:
    """``n`` random uint8 CIFAR-shaped images and labels: they cost what CIFAR-10's pixels cost."""
    images = torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=generator)
    return Split(images, torch.randint(0, CLASSES, (n,), generator=generator))


def empty_split() -> Split:
    return Split(torch.zeros((0, *SHAPE), dtype=torch.uint8), torch.zeros(0, dtype=torch.int64))


def cifar10_splits(train: Split, variant: str) -> DataSplits:
    """``train`` as CIFAR-10's training split (no validation or test), normalised with CIFAR-10's statistics."""
    return DataSplits("cifar10", train, empty_split(), empty_split(), MEAN, STD, CLASSES, variant=variant)
