"""Results records: one JSON file per run, named by the hash of its config.

Writing is atomic (a temporary file renamed into place), so an interrupted run
never leaves half a record, and a finished config is never run twice.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError


def record_path(out_dir: str | os.PathLike[str], run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}.json"


def checkpoint_path(out_dir: str | os.PathLike[str], run_id: str) -> Path:
    """A run's checkpoint lives in ``<out_dir>/checkpoints/<run_id>.pt``, beside its record."""
    return Path(out_dir) / "checkpoints" / f"{run_id}.pt"


def prepare_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output directory, or say in one sentence why it cannot be written."""
    path = Path(out_dir)
    try:
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(f"cannot write to the output directory {path} ({reason}): choose another --out.") from None
    return path


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no run record at {path}: pass the path of a record written by slt run.") from None
    except json.JSONDecodeError:
        raise ConfigError(
            f"{path} is not a valid run record (it is not JSON): pass a record written by slt run."
        ) from None


def find_record(out_dir: str | os.PathLike[str], config_dict: dict[str, Any], run_id: str) -> dict[str, Any] | None:
    """The finished record of this config, or None; refuses a hash collision with another config."""
    path = record_path(out_dir, run_id)
    if not path.exists():
        return None
    record = read_record(path)
    if record.get("config") != config_dict:
        raise ConfigError(
            f"{path} holds a different config with the same hash {run_id}: move that record away "
            "or write to another --out directory."
        )
    return record


def _git(args: list[str], folder: Path) -> str | None:
    """The output of a git command run in ``folder``, or None where git or a repository is missing."""
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=folder, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None


def environment(folder: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Versions, platform, git commit and whether tracked files had uncommitted changes, stored with every record.

    Git is asked in ``folder``, by default the package's source folder; ``git_dirty``
    ignores untracked files (records and checkpoints written into the tree as a
    sweep runs) and is None, like ``git_commit``, where git or a repository is missing.
    """
    versions = {}
    for package in ("slt", "torch", "torchvision", "torch_geometric", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    where = Path(folder) if folder is not None else Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], where)
    status = _git(["status", "--porcelain", "--untracked-files=no"], where) if commit else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": commit,
        "git_dirty": None if status is None else status != "",
    }


def record_checkpoint(record: dict[str, Any], record_file: str | os.PathLike[str]) -> Path | None:
    """The checkpoint a record names, resolved against the record's folder (None if it names none).

    Records store it relative to their folder, so an output folder can be moved or
    committed; older records stored an absolute path, which is returned as it is.
    """
    stored = record.get("checkpoint")
    if not isinstance(stored, str) or not stored:
        return None
    path = Path(stored)
    return path if path.is_absolute() else Path(record_file).parent / path


def load(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every record under ``path`` (a directory, searched recursively, or one file) as one row each.

    Config fields become columns (``ticket.sparsity`` and so on, flattened);
    per-epoch curves stay in the ``history`` column.
    """
    path = Path(path)
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    rows = []
    for file in files:
        record = read_record(file)
        if "config" not in record:
            continue
        flat = pd.json_normalize(record["config"], sep=".").iloc[0].to_dict()
        row = {k: v for k, v in record.items() if k not in ("config", "history")}
        row.update(flat)
        row["history"] = record.get("history", [])
        row["record_file"] = str(file)
        rows.append(row)
    return pd.DataFrame(rows)
