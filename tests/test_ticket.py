"""Ticket files: round trip, size accounting, and refusal of damaged or foreign files."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest
import torch

from slt.config import TicketConfig
from slt.errors import TicketError
from slt.models import ModelSpec
from slt.size import ticket_size, weight_training_size
from slt.supermask import apply_ticket_search
from slt.ticket import CHECKSUM_BYTES, FORMAT_VERSION, MAGIC, export_ticket, load_ticket

from toys import toy_cnn, toy_mlp


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


def rewrite_header(path, drop=(), **changes):
    """Edit the header of a ticket file as a person would, and sign it again so that its checksum holds."""
    data = path.read_bytes()[:-CHECKSUM_BYTES]
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    header = json.loads(data[start : start + length]) | changes
    for key in drop:
        del header[key]
    head = json.dumps(header).encode()
    body = MAGIC + struct.pack("<I", len(head)) + head + data[start + length :]
    path.write_bytes(body + hashlib.sha256(body).digest())


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


@pytest.mark.slow  # thousands of loads
@pytest.mark.parametrize("custom", [False, True], ids=["mlp", "cnn-with-batchnorm"])
def test_every_one_bit_corruption_is_refused_before_anything_is_built(tmp_path, monkeypatch, custom):
    # Every bit of the mark, length, header and checksum; of the payload (supermask bits and
    # BatchNorm statistics) every bit of the small CNN's and every 11th of the MLP's.
    if custom:
        model, spec = toy_cnn(), None
        search = apply_ticket_search(model, TicketConfig(sparsity=0.6, freeze=0.4, scope="layer", seed=1))
        model(torch.randn(4, 3, 8, 8))  # running statistics away from their defaults
    else:
        spec = ModelSpec("mlp", (1, 28, 28), 10, 0.05)
        _, search = searched(spec, TicketConfig(sparsity=0.7, freeze=0.5, seed=2), steps=1)
    path = tmp_path / "t.slt"
    export_ticket(search, spec, path)
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    payload = range(8 * (len(MAGIC) + 4 + length), 8 * (len(data) - CHECKSUM_BYTES))
    bits = [b for b in range(8 * len(data)) if custom or b not in payload or b % 11 == 0]

    def built(*args, **kwargs):
        raise AssertionError("a damaged file got as far as building the network")

    monkeypatch.setattr("slt.ticket.apply_ticket_search", built)
    monkeypatch.setattr("slt.ticket.ModelSpec.build", built)
    broken, own_model = tmp_path / "broken.slt", toy_cnn() if custom else None
    messages = set()
    for bit in bits:
        data[bit // 8] ^= 1 << (bit % 8)
        broken.write_bytes(data)
        try:
            load_ticket(broken, model=own_model)
        except TicketError as err:
            messages.add(str(err))
        else:
            raise AssertionError(f"flipping bit {bit} loaded silently")
        data[bit // 8] ^= 1 << (bit % 8)
    assert messages == {f"ticket file {broken} is corrupt or truncated (its checksum does not match); export it again."}


@pytest.mark.parametrize(
    ("drop", "changes", "problem"),
    [
        (("statistics",), {}, "missing or unknown fields statistics"),
        ((), {"colour": "blue"}, "missing or unknown fields colour"),
        ((), {"num_searchable": "24720"}, "field num_searchable has the wrong type"),
        ((), {"network_sha256": None}, "field network_sha256 has the wrong type"),
        ((), {"model": {"name": "mlp", "input_shape": [1, 28, 28], "num_classes": 10}}, "fields width"),
        ((), {"model": {"name": "mlp", "input_shape": [1, "28"], "num_classes": 10, "width": 0.1}}, "input_shape"),
        ((), {"ticket": {"sparsity": 0.5}}, "ticket has missing or unknown fields"),
        ((), {"statistics": [{"name": "bn.running_mean"}]}, "not a name and a shape"),
        ((), {"num_searchable": 24720 + 8}, "bytes of payload"),
    ],
)
def test_a_whole_file_of_the_wrong_structure_is_refused_in_one_sentence(ticket_file, drop, changes, problem):
    rewrite_header(ticket_file, drop, **changes)
    with pytest.raises(TicketError, match=r"header of ticket file .* is malformed") as refused:
        load_ticket(ticket_file)
    assert problem in str(refused.value)


def test_a_whole_file_whose_fields_do_not_fit_together_is_refused(ticket_file):
    data = ticket_file.read_bytes()
    rewrite_header(ticket_file, ticket=TicketConfig(sparsity=0.5, scope="layer").to_dict())
    with pytest.raises(TicketError, match="does not select the number of weights"):
        load_ticket(ticket_file)
    ticket_file.write_bytes(data)
    rewrite_header(ticket_file, ticket=TicketConfig(sparsity=0.6).to_dict())
    with pytest.raises(TicketError, match="does not select the number of weights"):
        load_ticket(ticket_file)
    ticket_file.write_bytes(data)
    rewrite_header(ticket_file, ticket=TicketConfig(sparsity=0.5).to_dict() | {"prune": 0.6})
    with pytest.raises(TicketError, match=r"its ticket config is invalid: sparsity 0\.5 is outside"):
        load_ticket(ticket_file)


def test_batchnorm_statistics_must_match_the_model_by_name(tmp_path):
    model = toy_cnn()
    search = apply_ticket_search(model, TicketConfig(sparsity=0.5))
    path = tmp_path / "t.slt"
    export_ticket(search, None, path)
    rewrite_header(path, statistics=[{"name": "1.running_maen", "shape": [8]}, {"name": "1.running_var", "shape": [8]}])
    with pytest.raises(TicketError, match="normalisation statistics do not match"):
        load_ticket(path, model=toy_cnn())


def test_other_format_versions_are_refused_in_one_sentence(ticket_file):
    data = ticket_file.read_bytes()
    rewrite_header(ticket_file, format=FORMAT_VERSION + 1, slt_version="9.0")
    with pytest.raises(
        TicketError, match=rf"format {FORMAT_VERSION + 1} \(written by slt 9\.0\).*load it with slt 9\.0"
    ):
        load_ticket(ticket_file)
    # Format 1: no checksum trailer, a checksum of the payload in the header.
    body = data[:-CHECKSUM_BYTES]
    (length,) = struct.unpack_from("<I", body, len(MAGIC))
    start = len(MAGIC) + 4
    payload = body[start + length :]
    header = json.loads(body[start : start + length]) | {
        "format": 1,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    head = json.dumps(header).encode()
    ticket_file.write_bytes(MAGIC + struct.pack("<I", len(head)) + head + payload)
    with pytest.raises(TicketError, match=rf"in ticket format 1 .* this slt reads format {FORMAT_VERSION}: export"):
        load_ticket(ticket_file)
