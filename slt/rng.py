"""One random generator per (seed, tensor name, purpose).

A ticket file holds no weights: loading it draws them again. That only works
if every random tensor depends on nothing but the run's seed, the tensor's
name in the model and what it is for, never on the order in which layers were
built or on the device. So every draw goes through :func:`generator`, which
seeds a fresh CPU generator from a hash of those three things, and tensors are
drawn on the CPU and then moved.

:data:`GENERATOR_VERSION` names this scheme together with the way tensors are
drawn from it (:mod:`slt.initialization`, :mod:`slt.freezing`); a ticket records it, and
loading a ticket written under another version is refused with a clear message.
"""

from __future__ import annotations

import hashlib

import torch

#: Version of the seeding scheme and of how tensors are drawn from it; tickets record it.
GENERATOR_VERSION = 1

PURPOSES = ("weight", "score", "freeze", "data")


def derive_seed(seed: int, name: str, purpose: str) -> int:
    """A 63-bit seed from (seed, name, purpose), stable across runs and machines."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown random purpose {purpose!r}; expected one of {PURPOSES}")
    digest = hashlib.blake2b(f"{GENERATOR_VERSION}/{seed}/{name}/{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def generator(seed: int, name: str, purpose: str) -> torch.Generator:
    """A fresh CPU generator for one tensor and one purpose."""
    return torch.Generator(device="cpu").manual_seed(derive_seed(seed, name, purpose))
