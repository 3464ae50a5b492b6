"""Ticket files: round trip, size accounting, and refusal of damaged or foreign files."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from slt.config import TicketConfig
from slt.errors import TicketError
from slt.models import ModelSpec
from slt.size import ticket_size, weight_training_size
from slt.supermask import apply_ticket_search
from slt.ticket import MAGIC, export_ticket, load_ticket

from toys import toy_mlp


def searched(spec: ModelSpec, config: TicketConfig, steps: int = 2):
    model = spec.build()
    search = apply_ticket_search(model, config)
    opt = torch.optim.SGD(list(search.scores()), lr=0.5)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x = torch.randn((8, *spec.input_shape), generator=g)
        loss = model(x).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, search


@pytest.mark.parametrize(
    "spec",
    [ModelSpec("mlp", (1, 28, 28), 10, 0.2), ModelSpec("resnet18", (3, 32, 32), 10, 0.125)],
    ids=lambda s: s.name,
)
def test_round_trip_gives_identical_outputs_and_masks(tmp_path, spec):
    model, search = searched(spec, TicketConfig(sparsity=0.6, freeze=0.5, seed=3))
    model.eval()
    path = tmp_path / "t.slt"
    export_ticket(search, spec, path)
    ticket = load_ticket(path)
    x = torch.randn((4, *spec.input_shape))
    assert torch.equal(ticket.model(x), model(x))
    for a, b in zip(search.masks().values(), ticket.search.masks().values(), strict=True):
        assert torch.equal(a, b)


def test_file_size_is_the_searchable_bits_plus_a_small_header(tmp_path):
    spec = ModelSpec("mlp", (1, 28, 28), 10, 1.0)
    _, search = searched(spec, TicketConfig(sparsity=0.5, prune=0.2, lock=0.2), steps=0)
    size = export_ticket(search, spec, tmp_path / "t.slt")
    assert search.num_searchable == round(0.6 * search.num_weights)
    supermask_bytes = ticket_size(search.num_searchable).bits / 8
    assert supermask_bytes <= size <= supermask_bytes + 2048
    assert size * 8 < weight_training_size(search.num_weights).bits / 50


def test_a_custom_model_needs_the_model_to_load(tmp_path):
    model = toy_mlp()
    search = apply_ticket_search(model, TicketConfig(sparsity=0.5))
    export_ticket(search, None, tmp_path / "t.slt")
    with pytest.raises(TicketError, match="pass that model"):
        load_ticket(tmp_path / "t.slt")
    ticket = load_ticket(tmp_path / "t.slt", model=toy_mlp())
    x = torch.randn(3, 20)
    assert torch.equal(ticket.model(x), model(x))


@pytest.fixture
def ticket_file(tmp_path):
    spec = ModelSpec("mlp", (1, 28, 28), 10, 0.1)
    _, search = searched(spec, TicketConfig(sparsity=0.5), steps=1)
    path = tmp_path / "t.slt"
    export_ticket(search, spec, path)
    return path


def rewrite_header(path, **changes):
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    header = json.loads(data[start : start + length]) | changes
    head = json.dumps(header).encode()
    path.write_bytes(MAGIC + struct.pack("<I", len(head)) + head + data[start + length :])


def test_truncated_or_corrupt_files_are_refused_in_one_sentence(ticket_file):
    data = ticket_file.read_bytes()
    ticket_file.write_bytes(data[:-10])
    with pytest.raises(TicketError, match="corrupt or truncated"):
        load_ticket(ticket_file)
    ticket_file.write_bytes(data[:20])
    with pytest.raises(TicketError, match="corrupt or truncated"):
        load_ticket(ticket_file)
    ticket_file.write_bytes(b"not a ticket")
    with pytest.raises(TicketError, match="not a ticket file"):
        load_ticket(ticket_file)


def test_tickets_of_another_generator_version_are_refused(ticket_file):
    rewrite_header(ticket_file, generator_version=0, slt_version="0.0.1")
    with pytest.raises(TicketError, match=r"install slt 0\.0\.1"):
        load_ticket(ticket_file)


def test_a_network_that_regenerates_differently_is_refused(ticket_file):
    rewrite_header(ticket_file, network_sha256="0" * 64)
    with pytest.raises(TicketError, match="differs from the exported one"):
        load_ticket(ticket_file)
