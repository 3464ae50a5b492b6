"""Launching runs: a list of configs run to the end, on this machine or on SLURM, through submitit.

Records are named by the hash of their config, so launching the same list again
starts only what is missing, and a launch that was stopped resumes where it
stopped (each run resumes from its own last checkpoint). ``executor="local"``
runs local processes (several may share one GPU), ``"slurm"`` a SLURM job
array, and ``"debug"`` runs in this process (for tests and notebooks).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import submitit
from tqdm.auto import tqdm

from .config import RunConfig, check_choice
from .errors import ConfigError, RunError
from .estimate import describe_duration, estimate_seconds
from .records import checkpoint_path, find_record, prepare_out_dir, record_path

EXECUTORS: tuple[str, ...] = ("local", "slurm", "debug")
LOCAL_TIMEOUT_MIN = 60 * 24 * 365  # a run on this machine is never stopped by a timer
SLURM_TIMEOUT_MIN = 60 * 24  # a day; set --slurm timeout_min=N to fit the partition's limit


def config_fields(config: RunConfig) -> dict[str, Any]:
    """A config's fields flattened as in records and tables: ``model``, ``seed``, ``ticket.freeze``, ..."""
    return pd.json_normalize(config.to_dict(), sep=".").iloc[0].to_dict()


def _field_equals(value: Any, wanted: str) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return math.isclose(float(wanted), value, abs_tol=1e-9)
        except ValueError:
            return False
    return str(value).lower() == wanted.lower()


def select(configs: list[RunConfig], where: dict[str, str]) -> list[RunConfig]:
    """The configs whose flattened fields equal every ``where`` value (numbers compared as numbers).

    Lets a machine run its share of a sweep (``model=gin``, ``seed=0``); the
    records land in the same folder, so the rest of the sweep skips them.
    """
    if not where:
        return configs
    fields = sorted({k for c in configs for k in config_fields(c)})
    for key in where:
        if key not in fields:
            raise ConfigError(f"a sweep config has no field {key!r}: choose one of {', '.join(fields)}.")
    chosen = [c for c in configs if all(_field_equals(config_fields(c).get(k), v) for k, v in where.items())]
    if not chosen:
        wanted = " ".join(f"{k}={v}" for k, v in where.items())
        raise ConfigError(f"no config of this sweep has {wanted}: list the sweep's configs to see what it holds.")
    return chosen


def pending(configs: Iterable[RunConfig], out: Path) -> list[RunConfig]:
    """Configs without a finished record (a hash collision with another config is refused)."""
    return [c for c in configs if find_record(out, c.to_dict(), c.run_id) is None]


class RunJob(submitit.helpers.Checkpointable):
    """One sweep job (what submitit pickles and runs); returns the record path.

    Checkpointable: when SLURM stops a job at its time limit or preempts it,
    submitit requeues the same call, and the run resumes from its last epoch
    checkpoint.
    """

    def __call__(
        self, config: dict[str, Any], out: str, data_dir: str | None, threads: int | None, tickets: bool = False
    ) -> str:
        import torch

        from .run_tickets import export_beside_record
        from .train import run

        if threads:
            torch.set_num_threads(threads)
        config_ = RunConfig.from_dict(config)
        run(config_, out, data_dir, progress=False)
        if tickets and config_.ticket is not None:
            export_beside_record(out, config_.run_id)
        return str(record_path(out, config_.run_id))


def make_executor(folder: Path, executor: str, max_parallel: int, slurm: dict[str, Any] | None) -> Any:
    """A submitit executor whose time limit fits a full run.

    submitit's own defaults would kill every full run: a local job gets 2
    minutes, a SLURM job 5. Local jobs get no practical limit; SLURM jobs get
    ``SLURM_TIMEOUT_MIN`` unless ``slurm`` sets ``timeout_min`` (shorter limits
    work too: the job is requeued and resumes).
    """
    ex = submitit.AutoExecutor(folder=folder / "submitit", cluster=executor)
    if executor == "slurm":
        defaults = {"slurm_array_parallelism": max_parallel, "timeout_min": SLURM_TIMEOUT_MIN}
        ex.update_parameters(**(defaults | (slurm or {})))
    else:
        ex.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN)
    return ex


def failure_reason(err: Exception) -> str:
    """The last line of a failed job's own traceback, and where its log is.

    submitit's error holds the job's traceback between two dashed lines and the
    paths of its logs after them; the last line of the message is a path.
    """
    silent = re.search(r"No (?:error|output/error) stream produced.*?(?:Look at stdout|Check): (\S+)", str(err))
    if silent:  # killed before it could write an error: the log ends with submitit's own lines
        reason = "the job ended with neither a result nor an error (killed: out of memory, or by a signal?)"
        return f"{reason} (log: {silent[1]})"
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    rules = [i for i, line in enumerate(lines) if set(line) == {"-"}]
    if len(rules) < 2:
        return lines[-1] if lines else type(err).__name__
    reason = lines[rules[-1] - 1]
    logs = [line.removeprefix("- ") for line in lines[rules[-1] + 1 :] if line.startswith("- ")]
    return f"{reason} (log: {logs[0]})" if logs else reason


def run_configs(
    configs: list[RunConfig],
    out: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    max_parallel: int = 1,
    slurm: dict[str, Any] | None = None,
    threads: int | None = None,
    export_tickets: bool = False,
    label: str = "sweep",
) -> list[Path]:
    """Run every config of the list that has no record in ``out`` yet; returns the record paths of all of them.

    Before starting, says how many runs are missing and, for runs on this machine, about how long
    they will take here (from timing a few training steps of each model). With ``export_tickets``,
    each finished ticket search also gets its ticket file beside its record
    (:func:`slt.run_tickets.export_beside_record`).
    """
    check_choice("executor", executor, EXECUTORS)
    if max_parallel < 1:
        raise ConfigError(f"max-parallel must be at least 1, got {max_parallel}.")
    if threads is not None and threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}.")
    folder = prepare_out_dir(out)
    todo = pending(configs, folder)
    if todo and executor != "slurm":
        seconds = estimate_seconds(todo) / (max_parallel if executor == "local" else 1) ** 0.5
        print(
            f"{label}: {len(todo)} of {len(configs)} runs to go, about {describe_duration(seconds)} on this machine",
            file=sys.stderr,
            flush=True,
        )
    if todo:
        ex = make_executor(folder, executor, max_parallel, slurm)
        if executor == "slurm":
            threads = (slurm or {}).get("cpus_per_task")  # nodes that do not bind CPUs would be oversubscribed
        elif executor == "local" and threads is None:
            threads = max(1, (os.cpu_count() or 1) // max_parallel)
        data = None if data_dir is None else str(data_dir)
        _execute(ex, todo, str(folder), data, threads, executor, max_parallel, export_tickets)
    if export_tickets:  # runs finished before tickets were exported, whose checkpoints are still here
        from .run_tickets import export_beside_record

        for c in configs:
            finished = record_path(folder, c.run_id).exists() and checkpoint_path(folder, c.run_id).exists()
            if c.ticket is not None and finished:
                export_beside_record(folder, c.run_id)
    return [record_path(folder, c.run_id) for c in configs]


def _execute(
    ex: Any,
    todo: list[RunConfig],
    out: str,
    data_dir: str | None,
    threads: int | None,
    executor: str,
    max_parallel: int,
    tickets: bool,
) -> None:
    """Submit the jobs (at most ``max_parallel`` at once locally) and wait for all of them."""
    args = [(c.to_dict(), out, data_dir, threads, tickets) for c in todo]
    bar = tqdm(total=len(todo), desc="sweep", unit="run")
    failures: list[str] = []

    def collect(job: Any, config: RunConfig) -> None:
        try:
            job.result()
        except Exception as err:  # a failed run must not stop the others
            failures.append(f"{config.run_id} ({config.model}, {config.dataset}): {failure_reason(err)}")
        bar.update()

    if executor == "slurm":
        jobs = ex.map_array(RunJob(), *zip(*args, strict=True))
        for job, config in zip(jobs, todo, strict=True):
            collect(job, config)
    else:
        running: list[tuple[Any, RunConfig]] = []
        queue = list(zip(args, todo, strict=True))
        while queue or running:
            while queue and len(running) < max_parallel:
                job_args, config = queue.pop(0)
                running.append((ex.submit(RunJob(), *job_args), config))
            done = [(j, c) for j, c in running if j.done()]
            for job, config in done:
                collect(job, config)
                running.remove((job, config))
            if not done:
                time.sleep(0.5)
    bar.close()
    if failures:
        raise RunError(
            f"{len(failures)} of {len(todo)} runs failed, the first {failures[0]}; fix that and run the sweep again "
            "(finished runs are kept)."
        )
