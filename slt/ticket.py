"""A found ticket as a file: seed, config and one bit per searchable weight.

The file holds no weights. Loading it rebuilds the model, draws the random
weights and freezing masks again from the seed (on the CPU, so any device
gives the same network), checks a hash of what it drew against the hash
recorded at export, and sets the supermask from the stored bits.

Layout: ``MAGIC``, a 4-byte little-endian header length, a UTF-8 JSON header,
then the payload: the packed supermask bits followed by any normalisation
statistics (BatchNorm running means and variances, float32), which a
non-affine network needs at evaluation.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import TicketConfig
from .errors import TicketError
from .models import ModelSpec
from .rng import GENERATOR_VERSION
from .supermask import TicketSearch, apply_ticket_search

MAGIC = b"SLT-TICKET\n"
FORMAT_VERSION = 1


def network_hash(search: TicketSearch) -> str:
    """SHA-256 of the random weights and freezing masks, by layer name, as drawn on the CPU."""
    h = hashlib.sha256()
    for layer in search.layers:
        h.update(layer.name.encode())
        h.update(layer.weight.detach().cpu().contiguous().numpy().tobytes())
        h.update(layer.supermask.frozen.cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def statistics_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    """Floating-point buffers outside the supermask (BatchNorm running statistics)."""
    return {
        name: buf for name, buf in model.named_buffers() if buf.is_floating_point() and ".parametrizations." not in name
    }


def _library_version() -> str:
    try:
        return version("slt")
    except Exception:  # running from a source tree that was not installed
        return "unknown"


@dataclass
class Ticket:
    """A loaded ticket: the model (in eval mode), its search handle and the file's header."""

    model: nn.Module
    search: TicketSearch
    header: dict[str, Any]


def export_ticket(search: TicketSearch, spec: ModelSpec | None, path: str | os.PathLike[str]) -> int:
    """Write the ticket to ``path`` and return the file size in bytes.

    ``spec`` says how to build the model again; pass ``None`` for a model of
    your own, and give that model to :func:`load_ticket`.
    """
    bits = search.supermask_bits().numpy()
    packed = np.packbits(bits.astype(np.uint8), bitorder="little").tobytes()
    stats = {name: buf.detach().cpu().float().contiguous() for name, buf in statistics_buffers(search.model).items()}
    payload = packed + b"".join(t.numpy().tobytes() for t in stats.values())
    header = {
        "format": FORMAT_VERSION,
        "slt_version": _library_version(),
        "generator_version": GENERATOR_VERSION,
        "torch_version": torch.__version__,
        "model": None if spec is None else {**asdict(spec), "input_shape": list(spec.input_shape)},
        "ticket": search.config.to_dict(),
        "network_sha256": network_hash(search),
        "num_searchable": int(bits.size),
        "statistics": [{"name": n, "shape": list(t.shape)} for n, t in stats.items()],
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    head = json.dumps(header, sort_keys=True).encode()
    data = MAGIC + struct.pack("<I", len(head)) + head + payload
    Path(path).write_bytes(data)
    return len(data)


def read_ticket_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    """The header and payload of a ticket file, after checking that it is whole."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TicketError(f"cannot read ticket file {path}: {err.strerror}; check the path.") from None
    if not data.startswith(MAGIC):
        raise TicketError(
            f"{path} is not a ticket file (it lacks the ticket header); pass a file written by slt export."
        )
    offset = len(MAGIC)
    try:
        (length,) = struct.unpack_from("<I", data, offset)
        header = json.loads(data[offset + 4 : offset + 4 + length])
    except (struct.error, ValueError):
        raise TicketError(
            f"the header of ticket file {path} is corrupt or truncated; export the ticket again."
        ) from None
    payload = data[offset + 4 + length :]
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise TicketError(f"ticket file {path} is corrupt or truncated (its checksum does not match); export it again.")
    return header, payload


def load_ticket(
    path: str | os.PathLike[str], model: nn.Module | None = None, device: torch.device | str = "cpu"
) -> Ticket:
    """Rebuild the network of a ticket file; ``model`` is needed only for a model of your own."""
    header, payload = read_ticket_file(path)
    if header["generator_version"] != GENERATOR_VERSION:
        raise TicketError(
            f"{path} was written by slt {header['slt_version']} with random generators of version "
            f"{header['generator_version']}, but this slt draws with version {GENERATOR_VERSION}: "
            f"install slt {header['slt_version']} to load it."
        )
    if model is None:
        if header["model"] is None:
            raise TicketError(f"{path} holds a ticket of a custom model: pass that model to load_ticket(model=...).")
        spec = header["model"]
        model = ModelSpec(spec["name"], tuple(spec["input_shape"]), spec["num_classes"], spec["width"]).build()
    search = apply_ticket_search(model.cpu(), TicketConfig(**header["ticket"]))
    if network_hash(search) != header["network_sha256"]:
        raise TicketError(
            f"the network regenerated from {path} differs from the exported one (written with slt "
            f"{header['slt_version']}, torch {header['torch_version']}): load it with those versions."
        )
    n_bits = header["num_searchable"]
    n_bytes = (n_bits + 7) // 8
    bits = np.unpackbits(np.frombuffer(payload[:n_bytes], dtype=np.uint8), count=n_bits, bitorder="little")
    search.load_supermask_bits(torch.from_numpy(bits.astype(bool)))
    offset = n_bytes
    buffers = dict(model.named_buffers())
    with torch.no_grad():
        for entry in header["statistics"]:
            n = int(np.prod(entry["shape"]))
            values = np.frombuffer(payload, dtype=np.float32, count=n, offset=offset).reshape(entry["shape"])
            buffers[entry["name"]].copy_(torch.from_numpy(values.copy()))
            offset += 4 * n
    model.to(device).eval()
    return Ticket(model, search, header)
