"""Named grids, one per result of the frozen-network paper, and how to run them.

Each sweep turns a mode (``quick`` or ``full``) into a list of
:class:`~slt.config.RunConfig`. Records are named by the hash of their config, so running
a sweep again starts only what is missing, and a sweep that was stopped
resumes where it stopped (each run resumes from its own last checkpoint).

Sweeps execute through submitit: ``executor="local"`` runs them as local
processes (several may share one GPU), ``"slurm"`` as a SLURM job array, and
``"debug"`` in this process (for tests and notebooks).
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import submitit
from tqdm.auto import tqdm

from .config import RunConfig, TicketConfig, check_choice
from .errors import ConfigError, RunError
from .modes import mode_settings
from .recipes import recipe
from .results import find_record, record_path
from .train import prepare_out_dir

EXECUTORS: tuple[str, ...] = ("local", "slurm", "debug")
LOCAL_TIMEOUT_MIN = 60 * 24 * 365  # a run on this machine is never stopped by a timer
SLURM_TIMEOUT_MIN = 60 * 24  # a day; set --slurm timeout_min=N to fit the partition's limit
FULL_SEEDS = (0, 1, 2)
QUICK_SEEDS = (0,)

# Where each model is searched.
DATASET_OF = {"conv6": "cifar10", "resnet18": "cifar10", "gin": "cora"}
FULL_GRAPHS = ("cora", "citeseer", "ogbn-arxiv")


def make_config(
    mode: str, model: str, dataset: str, ticket: TicketConfig | None, seed: int, width: float = 1.0
) -> RunConfig:
    """A run of ``model`` on ``dataset`` with the data set's recipe, sized by ``mode``."""
    settings = recipe(dataset) | mode_settings(mode, model, dataset)
    scale = settings.pop("width_scale")
    return RunConfig(
        model=model,
        dataset=dataset,
        ticket=ticket,
        width=width * scale,
        seed=seed,
        accept_data_copy=dataset == "cifar10",
        **settings,
    )


def _seeds(mode: str) -> tuple[int, ...]:
    return FULL_SEEDS if mode == "full" else QUICK_SEEDS


def fig4(mode: str) -> list[RunConfig]:
    """Search-space positioning: at a fixed freezing ratio, every prune:lock split, the sparsity
    swept across that split's searchable range [p, 1 - r]; EPL vs ERK; Conv6 on CIFAR-10."""
    freeze = 0.6
    splits = (1.0, 0.75, 0.5, 0.25, 0.0) if mode == "full" else (0.75, 0.25)
    positions = (0.1, 0.3, 0.5, 0.7, 0.9) if mode == "full" else (0.5,)
    rules = ("epl", "erk")
    configs = []
    for seed in _seeds(mode):
        for prune_share in splits:
            p, r = freeze * prune_share, freeze * (1 - prune_share)
            for position in positions:
                k = p + position * (1 - freeze)
                for rule in rules:
                    ticket = TicketConfig(sparsity=round(k, 6), prune=round(p, 6), lock=round(r, 6), layerwise=rule)
                    configs.append(make_config(mode, "conv6", "cifar10", ticket, seed))
    return configs


def _model_datasets(mode: str) -> list[tuple[str, str]]:
    graphs = FULL_GRAPHS if mode == "full" else ("cora",)
    return [("conv6", "cifar10"), ("resnet18", "cifar10"), *(("gin", g) for g in graphs)]


def fig5(mode: str) -> list[RunConfig]:
    """Accuracy vs freezing ratio at several sparsities (positioned by the centring rule):
    Conv6 and ResNet-18 on CIFAR-10, the GIN on graphs."""
    freezes = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9) if mode == "full" else (0.0, 0.5)
    sparsities = (0.5, 0.7, 0.9) if mode == "full" else (0.5,)
    configs = []
    for seed in _seeds(mode):
        for model, dataset in _model_datasets(mode):
            for k in sparsities:
                for f in freezes:
                    ticket = TicketConfig(sparsity=k, freeze=f)
                    configs.append(make_config(mode, model, dataset, ticket, seed))
    return configs


def _sources(sparsity: float, freeze: float) -> dict[str, TicketConfig]:
    """The three sources of the papers at one sparsity: dense, sparse (pruned only) and frozen."""
    return {
        "dense": TicketConfig(sparsity=sparsity),
        "sparse": TicketConfig(sparsity=sparsity, prune=freeze),
        "frozen": TicketConfig(sparsity=sparsity, freeze=freeze),
    }


def fig6(mode: str) -> list[RunConfig]:
    """Accuracy vs search-space size over width multipliers, for dense, sparse and frozen
    sources of Conv6 at one sparsity."""
    widths = (0.5, 1.0, 1.5, 2.0) if mode == "full" else (0.5, 1.0)
    sparsity, freeze = 0.7, 0.6
    configs = []
    for seed in _seeds(mode):
        for width in widths:
            for ticket in _sources(sparsity, freeze).values():
                configs.append(make_config(mode, "conv6", "cifar10", ticket, seed, width))
    return configs


def fig7(mode: str) -> list[RunConfig]:
    """Accuracy vs model size: Kaiming-uniform vs signed-constant weights, dense and frozen
    sources of Conv6 over widths."""
    widths = (0.5, 1.0, 2.0) if mode == "full" else (0.5,)
    freezes = (0.0, 0.6)
    configs = []
    for seed in _seeds(mode):
        for width in widths:
            for weights in ("kaiming_uniform", "signed_constant"):
                for f in freezes:
                    ticket = TicketConfig(sparsity=0.7, freeze=f, weights=weights)
                    configs.append(make_config(mode, "conv6", "cifar10", ticket, seed, width))
    return configs


def table1(mode: str) -> list[RunConfig]:
    """Weight training vs SLT dense / sparse / frozen, for Conv6, ResNet-18 and the GIN."""
    sparsity, freeze = 0.7, 0.6
    configs = []
    for seed in _seeds(mode):
        for model, dataset in _model_datasets(mode):
            configs.append(make_config(mode, model, dataset, None, seed))
            for ticket in _sources(sparsity, freeze).values():
                configs.append(make_config(mode, model, dataset, ticket, seed))
    return configs


SWEEPS: dict[str, Callable[[str], list[RunConfig]]] = {
    "fig4": fig4,
    "fig5": fig5,
    "fig6": fig6,
    "fig7": fig7,
    "table1": table1,
}


def sweep_configs(name: str, mode: str) -> list[RunConfig]:
    """The configs of a named sweep in a mode."""
    check_choice("sweep", name, tuple(SWEEPS))
    check_choice("mode", mode, ("quick", "full"))
    return SWEEPS[name](mode)


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
        raise ConfigError(f"no config of this sweep has {wanted}: list its grid with slt.sweeps.grid_table.")
    return chosen


def sweep_dir(out: str | os.PathLike[str], name: str, mode: str) -> Path:
    """Records of a sweep live in ``OUT/<name>/<mode>/``."""
    return Path(out) / name / mode


def pending(configs: Iterable[RunConfig], out: Path) -> list[RunConfig]:
    """Configs without a finished record (a hash collision with another config is refused)."""
    return [c for c in configs if find_record(out, c.to_dict(), c.run_id) is None]


class RunJob(submitit.helpers.Checkpointable):
    """One sweep job (what submitit pickles and runs); returns the record path.

    Checkpointable: when SLURM stops a job at its time limit or preempts it,
    submitit requeues the same call, and the run resumes from its last epoch
    checkpoint.
    """

    def __call__(self, config: dict[str, Any], out: str, data_dir: str | None, threads: int | None) -> str:
        import torch

        from .train import run

        if threads:
            torch.set_num_threads(threads)
        config_ = RunConfig.from_dict(config)
        run(config_, out, data_dir, progress=False)
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


def estimate_seconds(configs: list[RunConfig]) -> float:
    """Rough time of the sweep on this machine, from timing a few training steps of each model."""
    from .timing import seconds_per_epoch

    per_epoch: dict[tuple[str, str, float, int], float] = {}
    total = 0.0
    for c in configs:
        key = (c.model, c.dataset, c.width, c.train_subset or 0)
        if key not in per_epoch:
            per_epoch[key] = seconds_per_epoch(c)
        total += per_epoch[key] * c.epochs
    return total


def run_sweep(
    name: str,
    mode: str,
    out: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    max_parallel: int = 1,
    slurm: dict[str, Any] | None = None,
    where: dict[str, str] | None = None,
) -> list[Path]:
    """Run every missing config of a sweep (or of its part that ``where`` selects, see :func:`select`);
    returns the record paths of the configs run."""
    import torch

    check_choice("executor", executor, EXECUTORS)
    if max_parallel < 1:
        raise ConfigError(f"max-parallel must be at least 1, got {max_parallel}.")
    configs = select(sweep_configs(name, mode), where or {})
    folder = prepare_out_dir(sweep_dir(out, name, mode))
    todo = pending(configs, folder)
    if mode == "full" and todo and not torch.cuda.is_available() and executor != "slurm":
        seconds = estimate_seconds(todo)
        duration = f"{seconds / 3600:,.0f} hours" if seconds >= 5400 else f"{max(1, round(seconds / 60))} minutes"
        warnings.warn(
            f"running the full {name} sweep ({len(todo)} runs) without a GPU will take about {duration} "
            "on this machine; use a GPU or --mode quick.",
            stacklevel=2,
        )
    if todo:
        ex = make_executor(folder, executor, max_parallel, slurm)
        threads: int | None = None
        if executor == "slurm":
            threads = (slurm or {}).get("cpus_per_task")  # nodes that do not bind CPUs would be oversubscribed
        elif executor == "local":
            threads = max(1, (os.cpu_count() or 1) // max_parallel)
        _execute(ex, todo, str(folder), None if data_dir is None else str(data_dir), threads, executor, max_parallel)
    return [record_path(folder, c.run_id) for c in configs]


def failure_reason(err: Exception) -> str:
    """The last line of a failed job's own traceback, and where its log is.

    submitit's error holds the job's traceback between two dashed lines and the
    paths of its logs after them; the last line of the message is a path.
    """
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    rules = [i for i, line in enumerate(lines) if set(line) == {"-"}]
    if len(rules) < 2:
        return lines[-1] if lines else type(err).__name__
    reason = lines[rules[-1] - 1]
    logs = [line.removeprefix("- ") for line in lines[rules[-1] + 1 :] if line.startswith("- ")]
    return f"{reason} (log: {logs[0]})" if logs else reason


def _execute(
    ex: Any,
    todo: list[RunConfig],
    out: str,
    data_dir: str | None,
    threads: int | None,
    executor: str,
    max_parallel: int,
) -> None:
    """Submit the jobs (at most ``max_parallel`` at once locally) and wait for all of them."""
    args = [(c.to_dict(), out, data_dir, threads) for c in todo]
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


def sweep_status(name: str, mode: str, out: str | os.PathLike[str]) -> tuple[list[Path], list[RunConfig]]:
    """The finished record files of a sweep and the configs still missing one."""
    folder = sweep_dir(out, name, mode)
    configs = sweep_configs(name, mode)
    done = [record_path(folder, c.run_id) for c in configs if record_path(folder, c.run_id).exists()]
    return done, [c for c in configs if not record_path(folder, c.run_id).exists()]


def grid_table(name: str, mode: str) -> pd.DataFrame:
    """The settings of a sweep, one row per run (seeds included), config fields flattened."""
    rows = [config_fields(c) for c in sweep_configs(name, mode)]
    return pd.DataFrame(rows).drop(columns=["ticket"], errors="ignore")
