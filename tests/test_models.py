"""The models' in-place activations change no value: the same losses, gradients and statistics as out of place."""

from __future__ import annotations

import types

import pytest
import torch
from torch import nn

from slt.config import TicketConfig
from slt.models import build_model
from slt.models.resnet import BasicBlock
from slt.supermask import apply_ticket_search


def out_of_place_block(self: BasicBlock, x: torch.Tensor) -> torch.Tensor:
    """The obvious BasicBlock: every activation a fresh tensor."""
    out = torch.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    return torch.relu(out + self.shortcut(x))


def out_of_place_stem(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = self.layers(torch.relu(self.bn1(self.conv1(x))))
    return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1))


def make_out_of_place(model: nn.Module) -> nn.Module:
    """The same model, its forward rewritten without any in-place operation."""
    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
        if isinstance(module, BasicBlock):
            module.forward = types.MethodType(out_of_place_block, module)
        if name == "" and hasattr(module, "layers"):
            module.forward = types.MethodType(out_of_place_stem, module)
    return model


def two_steps(model: nn.Module, ticket: TicketConfig | None) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    if ticket is not None:
        apply_ticket_search(model, ticket)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(2):
        images = torch.randn(8, 3, 32, 32, generator=generator)
        labels = torch.randint(0, 10, (8,), generator=generator)
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses, {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["conv6", "resnet18"])
@pytest.mark.parametrize("ticket", [None, TicketConfig(sparsity=0.5, freeze=0.5)], ids=["weights", "ticket"])
def test_in_place_activations_give_the_out_of_place_results_bit_for_bit(name, ticket) -> None:
    torch.manual_seed(0)
    fast = build_model(name, (3, 32, 32), 10, width=0.125)
    torch.manual_seed(0)
    reference = make_out_of_place(build_model(name, (3, 32, 32), 10, width=0.125))

    fast_losses, fast_state = two_steps(fast, ticket)
    reference_losses, reference_state = two_steps(reference, ticket)

    assert torch.equal(torch.stack(fast_losses), torch.stack(reference_losses))
    assert fast_state.keys() == reference_state.keys()
    for key in fast_state:
        assert torch.equal(fast_state[key], reference_state[key]), key
