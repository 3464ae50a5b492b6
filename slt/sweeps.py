"""Named grids, one per result of the frozen-network paper, and how to run them.

Each sweep turns a scale (``quick``, ``laptop`` or ``full``, see :mod:`slt.scales`) into a list of
:class:`~slt.config.RunConfig`. Records are named by the hash of their config, so running
a sweep again starts only what is missing, and a sweep that was stopped
resumes where it stopped (each run resumes from its own last checkpoint).

Table 1 and Fig. 6 search each model at "the sparsity of the best performing SLT found in a dense
source network in Figure 5" (Sec. 4.3): their configs are made from the fig5 records of the same
scale, so fig5 runs first.

Sweeps execute through submitit: ``executor="local"`` runs them as local
processes (several may share one GPU), ``"slurm"`` as a SLURM job array, and
``"debug"`` in this process (for tests and notebooks).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import submitit
from tqdm.auto import tqdm

from .config import RunConfig, TicketConfig, check_choice
from .errors import ConfigError, RunError
from .recipes import recipe
from .results import find_record, record_path
from .scales import SCALES, grid, size_of
from .train import checkpoint_path, prepare_out_dir

EXECUTORS: tuple[str, ...] = ("local", "slurm", "debug")
LOCAL_TIMEOUT_MIN = 60 * 24 * 365  # a run on this machine is never stopped by a timer
SLURM_TIMEOUT_MIN = 60 * 24  # a day; set --slurm timeout_min=N to fit the partition's limit
DEFAULT_RESULTS = "results"

# Where each image model is searched; the GIN runs on every graph of the sweep's grid.
IMAGE_DATASET = {"conv6": "cifar10", "resnet18": "cifar10"}
# Weights of the SLT rows of Table 1 and the sources of Fig. 6 ("SLT" rows: signed Kaiming constant).
SLT_WEIGHTS = "signed_constant"


def make_config(
    scale: str, model: str, dataset: str, ticket: TicketConfig | None, seed: int, width: float = 1.0
) -> RunConfig:
    """A run of ``model`` on ``dataset`` with the data set's recipe, sized by ``scale``."""
    size = size_of(scale, model)
    settings = recipe(dataset)
    if ticket is None:
        settings |= size.recipe
    sized = {"train_subset": size.train_subset, "val_subset": size.val_subset}
    if size.epochs is not None:
        sized["epochs"] = size.epochs
    return RunConfig(
        model=model,
        dataset=dataset,
        ticket=ticket,
        width=width * size.width,
        seed=seed,
        accept_data_copy=dataset == "cifar10",
        **(settings | sized),
    )


def _model_datasets(points: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for model in points["models"]:
        datasets = points["graphs"] if model == "gin" else (IMAGE_DATASET[model],)
        pairs += [(model, dataset) for dataset in datasets]
    return pairs


def _per_model(value: Any, model: str) -> Any:
    """A grid entry that is either the same for every model or a dict by model."""
    return value[model] if isinstance(value, dict) else value


def fig4(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Search-space positioning: at a fixed freezing ratio, every prune:lock split, the sparsity
    swept across that split's searchable range [p, 1 - r]; EPL vs ERK; Conv6 on CIFAR-10."""
    points = grid("fig4", scale)
    freeze = points["freeze"]
    configs = []
    for seed in points["seeds"]:
        for prune_share in points["prune_shares"]:
            p, r = freeze * prune_share, freeze * (1 - prune_share)
            for position in points["positions"]:
                k = p + position * (1 - freeze)
                for rule in ("epl", "erk"):
                    ticket = TicketConfig(sparsity=round(k, 6), prune=round(p, 6), lock=round(r, 6), layerwise=rule)
                    configs.append(make_config(scale, "conv6", "cifar10", ticket, seed))
    return configs


def fig5(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Accuracy vs freezing ratio at several sparsities (positioned by the centring rule):
    Conv6 and ResNet-18 on CIFAR-10, the GIN on graphs. Model by model, in the grid's order."""
    points = grid("fig5", scale)
    configs = []
    for model, dataset in _model_datasets(points):
        for seed in _per_model(points["seeds"], model):
            for k in points["sparsities"][model]:
                for f in _per_model(points["freezes"], model):
                    configs.append(make_config(scale, model, dataset, TicketConfig(sparsity=k, freeze=f), seed))
    return configs


def best_dense_sparsity(model: str, dataset: str, scale: str, results: str | os.PathLike[str]) -> float:
    """The sparsity of the best dense-source ticket of ``model`` in the fig5 records of ``scale``
    (the highest mean test accuracy over seeds at freezing ratio 0), on ``dataset`` if fig5 has it,
    else on the model's other data set (the laptop fig5 runs the GIN on Cora only).

    Every dense-source run of ``model`` in fig5's grid must be recorded: a best sparsity read from
    part of the grid could change when the rest lands, and the runs made with it would be wasted.
    """
    from .results import load

    folder = sweep_dir(results, "fig5", scale)
    df = load(folder) if folder.is_dir() else pd.DataFrame()
    if not df.empty:
        df = df[(df["model"] == model) & (df["ticket.freeze"].fillna(0.0) == 0.0)]
    why = f"Table 1 and Fig. 6 search {model} at the sparsity of its best dense-source ticket in Fig. 5, and "
    if df.empty:
        raise ConfigError(f"{why}{folder} has no dense {model} record: run `slt sweep fig5 --scale {scale}` first.")
    dense = [c for c in fig5(scale, results) if c.model == model and not c.ticket.freeze]
    missing = sum(not record_path(folder, c.run_id).exists() for c in dense)
    if missing:
        raise ConfigError(
            f"{why}{missing} of its {len(dense)} dense-source runs in {folder} are not recorded yet: "
            f"run `slt sweep fig5 --scale {scale} --where model={model}` first."
        )
    if (df["dataset"] == dataset).any():
        df = df[df["dataset"] == dataset]
    means = df.groupby("ticket.sparsity")["test_acc"].mean()
    return float(means.idxmax())


def sources(sparsity: float, freeze: float, weights: str = "kaiming_uniform") -> dict[str, TicketConfig]:
    """The three sources of the paper at one sparsity: dense, sparse (pruned only) and frozen.

    The sparse source is pruned at ``p = freeze``, so it stores as many bits as the frozen one.
    Its tickets can only be sparser than ``p``, and at ``k = p`` nothing is left to search, so
    when ``sparsity`` lies below the middle of its range ``[p, 1]`` it is searched at that middle
    (the paper's "unintentionally high sparsity" of sparse sources).
    """
    sparse_k = round(max(sparsity, (1 + freeze) / 2), 6)
    return {
        "dense": TicketConfig(sparsity=sparsity, weights=weights),
        "sparse": TicketConfig(sparsity=sparse_k, prune=freeze, weights=weights),
        "frozen": TicketConfig(sparsity=sparsity, freeze=freeze, weights=weights),
    }


def fig6(
    scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS, dense_sparsity: float | None = None
) -> list[RunConfig]:
    """Accuracy vs search-space size over width multipliers, for dense, sparse and frozen
    sources of Conv6 at its best dense sparsity of Fig. 5."""
    points = grid("fig6", scale)
    sparsity = dense_sparsity or best_dense_sparsity("conv6", "cifar10", scale, results)
    configs = []
    for seed in points["seeds"]:
        for width in points["widths"]:
            for ticket in sources(sparsity, points["freeze"]).values():
                configs.append(make_config(scale, "conv6", "cifar10", ticket, seed, width))
    return configs


def fig7(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Accuracy vs model size: Kaiming-uniform vs signed-constant weights, dense and frozen
    sources of Conv6 over widths."""
    points = grid("fig7", scale)
    configs = []
    for seed in points["seeds"]:
        for width in points["widths"]:
            for weights in ("kaiming_uniform", "signed_constant"):
                for f in points["freezes"]:
                    ticket = TicketConfig(sparsity=points["sparsity"], freeze=f, weights=weights)
                    configs.append(make_config(scale, "conv6", "cifar10", ticket, seed, width))
    return configs


def table1(
    scale: str,
    results: str | os.PathLike[str] = DEFAULT_RESULTS,
    dense_sparsity: float | None = None,
    models: tuple[str, ...] | None = None,
) -> list[RunConfig]:
    """Weight training (Kaiming uniform) vs SLT dense / sparse / frozen (signed Kaiming constant),
    each model's tickets at the sparsity of its best dense-source ticket in the fig5 records.

    ``models`` restricts the table to some networks, so that one network's rows can run as soon as
    its own fig5 records exist."""
    points = grid("table1", scale)
    configs = []
    for model, dataset in _model_datasets(points):
        if models is not None and model not in models:
            continue
        sparsity = dense_sparsity or best_dense_sparsity(model, dataset, scale, results)
        for seed in _per_model(points["seeds"], model):
            configs.append(make_config(scale, model, dataset, None, seed))
            tickets: dict[str, TicketConfig] = {}
            for f in points["freezes"][model]:
                tickets |= {f"{name}-{f}": t for name, t in sources(sparsity, f, SLT_WEIGHTS).items()}
            unique = list({t: None for t in tickets.values()})  # one dense row, whatever the freezing ratios
            configs += [make_config(scale, model, dataset, t, seed) for t in unique]
    return configs


def calibration(scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> list[RunConfig]:
    """Weight training of the scale's Conv6 at several learning rates: the paper's lr 0.1 was made for
    the full-width network, and the scale's weight-training lr is the one with the best validation accuracy."""
    points = grid("calibration", scale)
    configs = []
    for seed in points["seeds"]:
        for lr in points["lrs"]:
            config = make_config(scale, points["model"], IMAGE_DATASET[points["model"]], None, seed)
            configs.append(replace(config, lr=lr))
    return configs


SWEEPS: dict[str, Callable[..., list[RunConfig]]] = {
    "calibration": calibration,
    "fig4": fig4,
    "fig5": fig5,
    "fig6": fig6,
    "fig7": fig7,
    "table1": table1,
}


READS_FIG5 = frozenset({"table1", "fig6"})
"""Sweeps whose ticket sparsity comes from the fig5 records (their best dense-source ticket)."""


def sweep_configs(
    name: str,
    scale: str,
    results: str | os.PathLike[str] = DEFAULT_RESULTS,
    dense_sparsity: float | None = None,
    models: tuple[str, ...] | None = None,
) -> list[RunConfig]:
    """The configs of a named sweep at a scale.

    Table 1 and Fig. 6 read each model's sparsity from the fig5 records under ``results``;
    ``dense_sparsity`` stands in for it, to list those grids before fig5 has run (never to run them).
    ``models`` keeps only some networks' rows of Table 1 (the other sweeps ignore it).
    """
    check_choice("sweep", name, tuple(SWEEPS))
    check_choice("scale", scale, SCALES)
    if name == "table1":
        return table1(scale, results, dense_sparsity, models)
    if name in READS_FIG5:
        return SWEEPS[name](scale, results, dense_sparsity)
    return SWEEPS[name](scale, results)


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


def sweep_dir(out: str | os.PathLike[str], name: str, scale: str) -> Path:
    """Records of a sweep live in ``OUT/<name>/<scale>/``."""
    return Path(out) / name / scale


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

        from .train import run

        if threads:
            torch.set_num_threads(threads)
        config_ = RunConfig.from_dict(config)
        run(config_, out, data_dir, progress=False)
        if tickets and config_.ticket is not None:
            export_sweep_ticket(Path(out), config_.run_id)
        return str(record_path(out, config_.run_id))


TICKETS_WITH = frozenset({"table1"})
"""Sweeps whose tickets are exported as files next to their records (Table 1's model-size column)."""


def ticket_file(folder: str | os.PathLike[str], run_id: str) -> Path:
    """Where a sweep keeps the ticket file of one run: ``<records>/tickets/<run-id>.slt``."""
    return Path(folder) / "tickets" / f"{run_id}.slt"


def export_sweep_ticket(folder: Path, run_id: str) -> Path:
    """Export the best-validation ticket of a finished run of a sweep to its ticket file (once)."""
    from .export import export_from_run

    path = ticket_file(folder, run_id)
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        export_from_run(record_path(folder, run_id), tmp)
        os.replace(tmp, path)
    return path


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


def describe_duration(seconds: float) -> str:
    """A duration as a reader says it: hours from an hour and a half on, else whole minutes."""
    if seconds >= 5400:
        return f"{seconds / 3600:,.1f} hours"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def run_sweep(
    name: str,
    scale: str,
    out: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    max_parallel: int = 1,
    slurm: dict[str, Any] | None = None,
    where: dict[str, str] | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Run every missing config of a sweep (or of its part that ``where`` selects, see :func:`select`);
    returns the record paths of the configs run.

    Before starting, says how many runs are missing and, for runs on this machine, about how long
    they will take here (from timing a few training steps of each model).
    """
    import torch

    check_choice("executor", executor, EXECUTORS)
    if max_parallel < 1:
        raise ConfigError(f"max-parallel must be at least 1, got {max_parallel}.")
    if threads is not None and threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}.")
    models = (where["model"].lower(),) if where and "model" in where else None
    configs = select(sweep_configs(name, scale, out, models=models), where or {})
    folder = prepare_out_dir(sweep_dir(out, name, scale))
    todo = pending(configs, folder)
    if todo and executor != "slurm":
        seconds = estimate_seconds(todo) / (max_parallel if executor == "local" else 1) ** 0.5
        print(
            f"{name} ({scale}): {len(todo)} of {len(configs)} runs to go, about {describe_duration(seconds)} "
            "on this machine",
            file=sys.stderr,
            flush=True,
        )
        if scale == "full" and not torch.cuda.is_available():
            warnings.warn(
                f"the full {name} sweep is the paper's setting, meant for a GPU; on this machine's CPU it takes "
                f"about {describe_duration(seconds)}: use a GPU or --scale laptop.",
                stacklevel=2,
            )
    if todo:
        ex = make_executor(folder, executor, max_parallel, slurm)
        if executor == "slurm":
            threads = (slurm or {}).get("cpus_per_task")  # nodes that do not bind CPUs would be oversubscribed
        elif executor == "local" and threads is None:
            threads = max(1, (os.cpu_count() or 1) // max_parallel)
        _execute(ex, todo, str(folder), None if data_dir is None else str(data_dir), threads, executor, max_parallel)
    if name in TICKETS_WITH:  # runs finished before tickets were exported, whose checkpoints are still here
        for c in configs:
            finished = record_path(folder, c.run_id).exists() and checkpoint_path(folder, c.run_id).exists()
            if c.ticket is not None and finished:
                export_sweep_ticket(folder, c.run_id)
    return [record_path(folder, c.run_id) for c in configs]


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
    tickets = Path(out).parent.name in TICKETS_WITH
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


def sweep_status(name: str, scale: str, out: str | os.PathLike[str]) -> tuple[list[Path], list[RunConfig]]:
    """The finished record files of a sweep and the configs still missing one."""
    folder = sweep_dir(out, name, scale)
    configs = sweep_configs(name, scale, out)
    done = [record_path(folder, c.run_id) for c in configs if record_path(folder, c.run_id).exists()]
    return done, [c for c in configs if not record_path(folder, c.run_id).exists()]


def grid_table(name: str, scale: str, results: str | os.PathLike[str] = DEFAULT_RESULTS) -> pd.DataFrame:
    """The settings of a sweep, one row per run (seeds included), config fields flattened."""
    rows = [config_fields(c) for c in sweep_configs(name, scale, results)]
    return pd.DataFrame(rows).drop(columns=["ticket"], errors="ignore")
