"""What every benchmark result is stored with, and the JSON file the results are merged into.

The versions, platform, git commit and dirty flag are the library's own (``slt.records.environment``,
what every run record stores); a benchmark adds its command line, its arguments, the time, and
what it knows of its device.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from slt.records import environment

ROOT = Path(__file__).resolve().parent.parent


def provenance(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """``slt.records.environment()`` of this checkout, the torch version, the command, its arguments, the time."""
    return {
        "torch": torch.__version__,
        **environment(ROOT),
        "command": shlex.join([sys.executable, *sys.argv]),
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def device_facts(device: torch.device) -> dict[str, Any]:
    """The device and the backend settings that change its speed."""
    return {
        "device": device_name(device),
        "device_type": device.type,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
    }


def write_sections(
    path: Path, sections: dict[str, dict], meta: dict[str, Any], summary: tuple[str, ...] = (), indent: int = 1
) -> None:
    """Merge these sections into the file, each with ``meta`` as its provenance (each command writes its own).

    ``summary`` names the fields of ``meta`` also kept at the top of the file.
    """
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc.update({k: meta[k] for k in summary})
    doc.setdefault("sections", {})
    for name, body in sections.items():
        doc["sections"][name] = {"provenance": meta, **body}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=indent, default=str) + "\n")
    os.replace(tmp, path)
