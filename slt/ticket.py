"""A found ticket as a file: seed, config and one bit per searchable weight.

The file holds no weights. Loading it rebuilds the model, draws the random
weights and freezing masks again from the seed (on the CPU, so any device
gives the same network), checks a hash of what it drew against the hash
recorded at export, and sets the supermask from the stored bits.

Layout: ``MAGIC``, a 4-byte little-endian header length, a UTF-8 JSON header,
the payload (the packed supermask bits followed by any normalisation
statistics, BatchNorm running means and variances as float32, which a
non-affine network needs at evaluation), and a 32-byte SHA-256 of every byte
before it. The checksum is verified before anything in the file is read, and
the header's structure after it, so a damaged file is refused in one sentence
and never loads as a different network. Every format from 2 on ends with this
checksum, so a reader checks a file of any later format whole before it reads
the format number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
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
from .errors import ConfigError, TicketError
from .models import ModelSpec
from .rng import GENERATOR_VERSION
from .supermask import TicketSearch, apply_ticket_search

MAGIC = b"SLT-TICKET\n"
FORMAT_VERSION = 2
CHECKSUM_BYTES = 32
_LENGTH = struct.Struct("<I")


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
    }
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    data = MAGIC + _LENGTH.pack(len(head)) + head + payload
    data += hashlib.sha256(data).digest()
    Path(path).write_bytes(data)
    return len(data)


def _bits_apart(a: bytes, b: bytes) -> int:
    """How many bits differ between two byte strings; a missing byte counts as eight."""
    differ = sum((x ^ y).bit_count() for x, y in zip(a, b, strict=False))
    return differ + 8 * abs(len(a) - len(b))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


_FIELD_TYPES = {
    "int": _is_int,
    "float": _is_number,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "None": lambda v: v is None,
}


def _dataclass_problem(value: Any, cls: type, what: str) -> str | None:
    """Why ``value`` is not the ``asdict`` of a ``cls`` (every field present, of its type), or None."""
    if not isinstance(value, dict):
        return f"{what} is not a mapping"
    fields = {
        f.name: f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        for f in dataclasses.fields(cls)
    }
    if set(value) != set(fields):
        odd = sorted(set(value) ^ set(fields))
        return f"{what} has missing or unknown fields {', '.join(odd)}"
    for name, annotation in fields.items():
        kinds = [kind.strip() for kind in annotation.split("|")]
        if all(kind in _FIELD_TYPES for kind in kinds) and not any(_FIELD_TYPES[k](value[name]) for k in kinds):
            return f"{what} field {name} is not of type {annotation}"
    return None


def _header_problem(header: Any, payload_bytes: int) -> str | None:
    """Why a header (format already checked) cannot describe a ticket with this payload, or None."""
    expected = {
        "format": _is_int,
        "slt_version": lambda v: isinstance(v, str),
        "generator_version": _is_int,
        "torch_version": lambda v: isinstance(v, str),
        "model": lambda v: v is None or isinstance(v, dict),
        "ticket": lambda v: isinstance(v, dict),
        "network_sha256": lambda v: isinstance(v, str) and len(v) == 64,
        "num_searchable": lambda v: _is_int(v) and v >= 0,
        "statistics": lambda v: isinstance(v, list),
    }
    if set(header) != set(expected):
        return f"missing or unknown fields {', '.join(sorted(set(header) ^ set(expected)))}"
    for name, check in expected.items():
        if not check(header[name]):
            return f"field {name} has the wrong type"
    if header["model"] is not None:
        problem = _dataclass_problem(header["model"], ModelSpec, "model")
        if problem:
            return problem
        shape = header["model"]["input_shape"]
        if not (isinstance(shape, list) and shape and all(_is_int(n) and n > 0 for n in shape)):
            return "model field input_shape is not a list of positive integers"
    problem = _dataclass_problem(header["ticket"], TicketConfig, "ticket")
    if problem:
        return problem
    names = [entry.get("name") if isinstance(entry, dict) else None for entry in header["statistics"]]
    if len(set(names)) != len(names):
        return "statistics names repeat"
    size = (header["num_searchable"] + 7) // 8
    for entry in header["statistics"]:
        if not (isinstance(entry, dict) and set(entry) == {"name", "shape"} and isinstance(entry["name"], str)):
            return "a statistics entry is not a name and a shape"
        if not (isinstance(entry["shape"], list) and all(_is_int(n) and n >= 0 for n in entry["shape"])):
            return f"the shape of statistics {entry['name']} is not a list of sizes"
        size += 4 * math.prod(entry["shape"])
    if size != payload_bytes:
        return f"it describes {size:,} bytes of payload, but the file holds {payload_bytes:,}"
    return None


def _corrupt(path: Path) -> TicketError:
    return TicketError(f"ticket file {path} is corrupt or truncated (its checksum does not match); export it again.")


def _malformed(path: Path, problem: str) -> TicketError:
    return TicketError(f"the header of ticket file {path} is malformed ({problem}); export the ticket again.")


def _first_clause(err: Exception) -> str:
    """The problem named by an error's sentence, without the fix after its colon."""
    return str(err).split(": ")[0].rstrip(".")


def _old_format(path: Path, data: bytes) -> TicketError | None:
    """The refusal of a whole file of format 1 (no checksum trailer), or None if it is not one."""
    start = len(MAGIC) + _LENGTH.size
    try:
        (length,) = _LENGTH.unpack_from(data, len(MAGIC))
        header = json.loads(data[start : start + length])
    except (struct.error, ValueError):
        return None
    if not (isinstance(header, dict) and header.get("format") == 1 and isinstance(header.get("slt_version"), str)):
        return None
    if hashlib.sha256(data[start + length :]).hexdigest() != header.get("payload_sha256"):
        return None
    return TicketError(
        f"{path} is in ticket format 1 (written by slt {header['slt_version']}), but this slt reads format "
        f"{FORMAT_VERSION}: export the ticket again with this slt, or load it with slt {header['slt_version']}."
    )


def read_ticket_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    """The header and payload of a ticket file, after checking that it is whole and well formed.

    The checksum over every byte is verified before anything is parsed, then the
    format number and the structure of the header; each failure is one
    :class:`~slt.errors.TicketError` sentence.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TicketError(f"cannot read ticket file {path}: {err.strerror}; check the path.") from None
    if not data.startswith(MAGIC):
        if _bits_apart(data[: len(MAGIC)], MAGIC) <= 8:  # a damaged mark of a ticket file
            raise _corrupt(path)
        raise TicketError(
            f"{path} is not a ticket file (it lacks the ticket header); pass a file written by slt export."
        )
    start = len(MAGIC) + _LENGTH.size
    body, checksum = data[:-CHECKSUM_BYTES], data[-CHECKSUM_BYTES:]
    if len(data) < start + CHECKSUM_BYTES or hashlib.sha256(body).digest() != checksum:
        raise _old_format(path, data) or _corrupt(path)
    # From here on the file is whole, so a fault was written by hand or by another program.
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if start + length > len(body):
        raise _malformed(path, f"its length {length:,} runs past the end of the file")
    try:
        header = json.loads(body[start : start + length])
    except ValueError:
        raise _malformed(path, "it is not JSON") from None
    if not isinstance(header, dict):
        raise _malformed(path, "it is not a JSON object")
    fmt, writer = header.get("format"), header.get("slt_version")
    if fmt != FORMAT_VERSION:
        raise TicketError(
            f"{path} is in ticket format {fmt!r} (written by slt {writer}), but this slt reads format "
            f"{FORMAT_VERSION}: load it with slt {writer}, or export the ticket again with this slt."
        )
    payload = body[start + length :]
    problem = _header_problem(header, len(payload))
    if problem:
        raise _malformed(path, problem)
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
    try:
        config = TicketConfig(**header["ticket"])
    except ConfigError as err:
        raise _malformed(Path(path), f"its ticket config is invalid: {_first_clause(err)}") from None
    if model is None:
        if header["model"] is None:
            raise TicketError(f"{path} holds a ticket of a custom model: pass that model to load_ticket(model=...).")
        spec = ModelSpec(**{**header["model"], "input_shape": tuple(header["model"]["input_shape"])})
        try:
            model = spec.build()
        except ConfigError as err:
            raise _malformed(Path(path), f"its model cannot be built: {_first_clause(err)}") from None
    search = apply_ticket_search(model.cpu(), config)
    if network_hash(search) != header["network_sha256"]:
        raise TicketError(
            f"the network regenerated from {path} differs from the exported one (written with slt "
            f"{header['slt_version']}, torch {header['torch_version']}): load it with those versions."
        )
    n_bits = header["num_searchable"]
    if n_bits != search.num_searchable:
        raise _malformed(Path(path), f"it holds {n_bits:,} supermask bits for {search.num_searchable:,} weights")
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8), count=n_bits, bitorder="little")
    bits_t = torch.from_numpy(bits.astype(bool))
    search.load_supermask_bits(bits_t)
    if not torch.equal(search.supermask_bits(), bits_t):
        raise _malformed(Path(path), "its supermask does not select the number of weights its ticket config keeps")
    expected = statistics_buffers(model)
    entries = {entry["name"]: entry["shape"] for entry in header["statistics"]}
    if {n: list(b.shape) for n, b in expected.items()} != entries:
        raise _malformed(Path(path), "its normalisation statistics do not match the model's")
    offset = (n_bits + 7) // 8
    with torch.no_grad():
        for entry in header["statistics"]:
            n = math.prod(entry["shape"])
            values = np.frombuffer(payload, dtype=np.float32, count=n, offset=offset).reshape(entry["shape"])
            expected[entry["name"]].copy_(torch.from_numpy(values.copy()))
            offset += 4 * n
    model.to(device).eval()
    return Ticket(model, search, header)
