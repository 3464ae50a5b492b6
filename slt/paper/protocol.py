"""The scales as a protocol: what each sweep runs at a scale, how long its records took, what they show.

The book's experiment chapters and its "How the laptop scale was chosen" page
read these tables and sentences; every number in them comes from
:mod:`slt.paper.scales`, :mod:`slt.paper.sweeps`, the data sets' recipes or the records.

* :func:`scale_sentence`: how a sweep's networks are sized at a scale, in one sentence.
* :func:`grid_comparison`: a sweep's grid at two scales, side by side.
* :func:`protocol_table` and :func:`budget`: per sweep, its runs, how many are
  recorded, the hours they took and the hours the rest will take, against the
  laptop budget.
* :func:`quiet_runs`: single laptop-sized runs timed by ``bench/cpu.py run`` with
  nothing else on the machine, beside the records' times made while it was shared;
  :func:`run_minutes` takes them as what one run costs, for the per-run budget.
* :func:`calibration_table`: the validation accuracy of each weight-training
  learning rate of the calibration sweep.
* :func:`verdict_lines`: the claims a chapter checks, each with our measurement and verdict.
* :func:`ticket_files` and :func:`graph_table`: Table 1's exported tickets and its graph rows.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import RunConfig
from ..data import dataset_spec, recipe
from ..errors import ConfigError
from ..records import load
from . import sweeps
from .figures import tabulate_calibration
from .frames import DATASET_NAMES, MODEL_NAMES, with_derived_columns
from .scales import GRIDS, SCALES, grid, size_of

# Where ``bench/cpu.py`` writes its results, from the repository root.
BENCH_RESULTS = Path("bench") / "results"
# The laptop scale's budget on a 2-core CPU (two runs at a time, one thread each).
CORES = 2
BUDGET_RUN_MIN = 10
BUDGET_CHAPTER_H = 3.0
BUDGET_ALL_H = 12.0
# Which chapter draws each sweep (calibration is drawn on the laptop-scale page).
CHAPTER = {
    "calibration": "laptop-scale",
    "fig4": "frozen-positioning",
    "fig5": "frozen-freezing-ratio",
    "fig6": "frozen-width",
    "fig7": "frozen-model-size",
    "table1": "frozen-table1",
}
# The order of the rows of a network in tables.
SOURCE_ORDER = {"weight training": 0, "dense": 1, "sparse": 2, "frozen": 3}
# The sparsity used to list Table 1's and Fig. 6's runs before fig5 has records: how many runs
# there are and how big they are does not depend on it.
STAND_IN_SPARSITY = 0.7


def network_name(model: str, dataset: str) -> str:
    return f"{MODEL_NAMES.get(model, model)} / {DATASET_NAMES.get(dataset, dataset)}"


def _networks(sweep: str, scale: str) -> list[tuple[str, str]]:
    points = grid(sweep, scale)
    if "models" in points:
        return sweeps.model_datasets(points)
    return [(points.get("model", "conv6"), "cifar10")]


def describe_size(model: str, dataset: str | tuple[str, ...], scale: str) -> str:
    """How ``model`` is trained on ``dataset`` (or on each of several graphs) at ``scale``,
    e.g. "Conv6 at 0.25× the paper's width, 12,800 of 40,000 training images, 16 of 100 epochs"."""
    datasets = (dataset,) if isinstance(dataset, str) else tuple(dataset)
    size = size_of(scale, model)
    name = MODEL_NAMES.get(model, model)
    width = "the paper's width" if size.width == 1 else f"{size.width:g}× the paper's width"
    full_epochs = recipe(datasets[0])["epochs"]
    epochs = f"{full_epochs} epochs" if size.epochs in (None, full_epochs) else f"{size.epochs} of {full_epochs} epochs"
    total = dataset_spec(datasets[0]).train_examples
    if model == "gin":
        planetoid = [DATASET_NAMES.get(d, d) for d in datasets if d != "ogbn-arxiv"]
        parts = [f"the full split of {' and '.join(planetoid)}"] if planetoid else []
        data = ", and ".join(parts + (["OGBN-Arxiv"] if "ogbn-arxiv" in datasets else []))
    elif size.train_subset is None:
        data = f"all {total:,} training images" if total else "all training images"
    else:
        data = f"{size.train_subset:,} of {total:,} training images" if total else f"{size.train_subset:,} images"
    return f"{name} at {width}, {data}, {epochs}"


def _datasets_by_model(sweep: str, scale: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for model, dataset in _networks(sweep, scale):
        found[model] = (*found.get(model, ()), dataset)
    return found


def scale_sentence(
    sweep: str, scale: str, records: pd.DataFrame | None = None, models: tuple[str, ...] | None = None
) -> str:
    """One sentence naming the scale, how the sweep's networks (or only ``models``) are sized and over how many
    seeds accuracies are averaged (counted in ``records`` where given, else from the grid)."""
    points = grid(sweep, scale)
    models_ = {m: d for m, d in _datasets_by_model(sweep, scale).items() if models is None or m in models}
    sizes = [describe_size(model, datasets, scale) for model, datasets in models_.items()]
    seeds: dict[str, int] = {}
    if records is not None and not records.empty:
        seeds = {m: records.loc[records["model"] == m, "seed"].nunique() for m in models_}
        seeds = {m: n for m, n in seeds.items() if n}
    if not seeds:
        seeds = {m: len(sweeps.per_model(points["seeds"], m)) for m in models_}
    counts = set(seeds.values())
    if len(counts) == 1:
        n = counts.pop()
        seed_text = f"mean ± sd over {n} seed{'s' if n != 1 else ''}"
    else:
        seed_text = "mean ± sd over seeds (" + ", ".join(f"{MODEL_NAMES.get(m, m)} {n}" for m, n in seeds.items()) + ")"
    label = {"full": "At full scale (the paper's settings)", "laptop": "At laptop scale", "quick": "At quick scale"}
    return f"{label.get(scale, scale)}: {'; '.join(sizes)}; {seed_text}."


def _format(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{MODEL_NAMES.get(k, k)}: {_format(v)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return ", ".join(_format(v) for v in value)
    if isinstance(value, str):
        return DATASET_NAMES.get(value, MODEL_NAMES.get(value, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def grid_comparison(sweep: str, scales: tuple[str, ...] = ("laptop", "full")) -> pd.DataFrame:
    """The grid of ``sweep`` at each scale, one row per grid entry (and per model's size), one column per scale."""
    keys = list(dict.fromkeys(k for s in scales for k in GRIDS[sweep][s]))
    rows = {k: {s: _format(GRIDS[sweep][s][k]) if k in GRIDS[sweep][s] else "—" for s in scales} for k in keys}
    by_scale = {s: _datasets_by_model(sweep, s) for s in scales}
    for model in dict.fromkeys(m for s in scales for m in by_scale[s]):
        rows[f"{MODEL_NAMES.get(model, model)} size"] = {
            s: describe_size(model, by_scale[s][model], s).split(" at ", 1)[1] if model in by_scale[s] else "—"
            for s in scales
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "grid"
    return table


def planned_configs(
    sweep: str, scale: str, results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS
) -> tuple[list[RunConfig], bool]:
    """The configs of a sweep, and whether they are final.

    Table 1 and Fig. 6 wait for fig5's records to fix their sparsity; until then they are
    listed at a stand-in sparsity (``False``), which changes no run's size or count. Table 1
    does so model by model: a network whose fig5 runs are complete keeps its own sparsity, so
    its recorded runs are counted while another network still waits.
    """
    try:
        return sweeps.sweep_configs(sweep, scale, results), True
    except ConfigError:
        if sweep != "table1":
            return sweeps.sweep_configs(sweep, scale, results, dense_sparsity=STAND_IN_SPARSITY), False
    configs: list[RunConfig] = []
    for model in dict.fromkeys(model for model, _ in _networks(sweep, scale)):
        try:
            configs += sweeps.sweep_configs(sweep, scale, results, models=(model,))
        except ConfigError:
            configs += sweeps.sweep_configs(sweep, scale, results, STAND_IN_SPARSITY, models=(model,))
    return configs, False


def sweep_records(sweep: str, scale: str, results: str | os.PathLike[str]) -> pd.DataFrame:
    """Every record in a sweep's folder (empty when there is none)."""
    folder = sweeps.sweep_dir(results, sweep, scale)
    if not folder.is_dir() or not any(folder.glob("*.json")):
        return pd.DataFrame()
    return load(folder)


def _hours(seconds: float) -> float:
    return seconds / 3600


def run_seconds(records: pd.DataFrame) -> pd.Series:
    """What each recorded run cost: its CPU time where the record has one, else its wall time.

    Records made before CPU time was counted, or resumed from such a checkpoint, have only the
    wall time, which also holds whatever else the machine did meanwhile (other jobs, a pause).
    """
    wall = records["wall_seconds"].astype(float)
    if "cpu_seconds" not in records:
        return wall
    return records["cpu_seconds"].astype(float).fillna(wall)


def _method(records: pd.DataFrame) -> pd.Series:
    """Per record, which method made it: ticket search, or weight training (its record has no ticket)."""
    if "ticket.sparsity" not in records:
        return pd.Series("weight training", index=records.index)
    return records["ticket.sparsity"].notna().map({True: "ticket search", False: "weight training"})


def alone_minutes(
    bench_results: str | os.PathLike[str] = BENCH_RESULTS, scale: str = "laptop"
) -> dict[tuple[str, float, str], float]:
    """Minutes of a run alone on the machine, per (network, width, method) that :func:`quiet_runs` timed
    (the longest, where it timed several)."""
    quiet = quiet_runs(bench_results, scale)
    if quiet.empty:
        return {}
    longest = quiet.groupby(["network", "width", "method"])["minutes"].max()
    return {(network, round(width, 6), method): m for (network, width, method), m in longest.items()}


def run_minutes(records: pd.DataFrame, alone: dict[tuple[str, float, str], float]) -> pd.DataFrame:
    """What one run takes, for the per-run budget: ``minutes`` alone on the machine where the benchmark
    timed a run of its network, width and method (``alone``, from :func:`alone_minutes`), else its
    record's :func:`run_seconds`; ``timed alone`` says which.

    A record's own time was made two runs at a time, one thread each, and its wall time also holds
    whatever else shared the cores (older records have no CPU time): what one run costs a reader,
    the run with the machine to itself, is what the benchmark measures.
    """
    own = run_seconds(records) / 60
    columns = (records["model"], records["dataset"], records["width"], _method(records))
    keys = [(network_name(m, d), round(float(w), 6), method) for m, d, w, method in zip(*columns, strict=True)]
    timed_alone = pd.Series([k in alone for k in keys], index=records.index)
    minutes = pd.Series([alone.get(k, o) for k, o in zip(keys, own, strict=True)], index=records.index)
    return pd.DataFrame({"minutes": minutes, "timed alone": timed_alone})


def protocol_table(
    scale: str = "laptop",
    results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS,
    bench_results: str | os.PathLike[str] = BENCH_RESULTS,
) -> pd.DataFrame:
    """One row per sweep and network at ``scale``: its size, grid, runs, hours measured and projected,
    and its longest run.

    Measured hours are the sum of :func:`run_seconds` (CPU time, else wall time) of the records of the
    sweep's current configs; ``measured as`` says which of the two they are.
    The runs not yet recorded are projected at the mean time of recorded runs of the same network
    and width at this scale (in any sweep), else of the same network, else of the same model;
    ``NaN`` where no run of the model is recorded yet.
    ``longest run (min)`` is the longest of :func:`run_minutes` (alone on the machine where
    ``bench/cpu.py run`` timed one in ``bench_results``, else as recorded), ``longest recorded (min)``
    the longest :func:`run_seconds`, and ``run timed`` says which runs were timed alone.
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}.")
    alone = alone_minutes(bench_results, scale)
    every = [sweep_records(s, scale, results).assign(sweep=s) for s in sweeps.SWEEPS]
    every = [df for df in every if not df.empty]
    done = pd.concat(every, ignore_index=True) if every else pd.DataFrame()
    if not done.empty:
        done = done.assign(run_seconds=run_seconds(done))  # once here, not for every run projected
    rows = []
    for sweep in sweeps.SWEEPS:
        configs, final = planned_configs(sweep, scale, results)
        points = grid(sweep, scale)
        folder = sweeps.sweep_dir(results, sweep, scale)
        recorded = sweep_records(sweep, scale, results)
        ids = set(recorded["run_id"]) if not recorded.empty else set()
        for model, dataset in _networks(sweep, scale):
            mine = [c for c in configs if c.model == model and c.dataset == dataset]
            if not mine:
                continue
            have = [c for c in mine if c.run_id in ids and (folder / f"{c.run_id}.json").exists()]
            mine_recorded = recorded.set_index("run_id").loc[[c.run_id for c in have]] if have else recorded
            seconds = run_seconds(mine_recorded) if have else []
            per_run = run_minutes(mine_recorded, alone) if have else None
            rest = [c for c in mine if c not in have]
            projected = sum(_projected_seconds(done, c) for c in rest)
            rows.append(
                {
                    "sweep": sweep,
                    "chapter": CHAPTER[sweep],
                    "network": network_name(model, dataset),
                    "width": ", ".join(f"{c:g}" for c in sorted({c.width for c in mine})),
                    "training examples": mine[0].train_subset or dataset_spec(dataset).train_examples,
                    "epochs": mine[0].epochs,
                    "grid": _grid_summary(sweep, points, model),
                    "seeds": len(sweeps.per_model(points["seeds"], model)),
                    "runs": len(mine),
                    "recorded": len(have),
                    "hours measured": _hours(float(np.sum(seconds))) if have else 0.0,
                    "hours projected for the rest": _hours(projected) if rest else 0.0,
                    "measured as": _measured_as(mine_recorded) if have else "",
                    "longest run (min)": float(per_run["minutes"].max()) if have else math.nan,
                    "longest recorded (min)": float(np.max(seconds)) / 60 if have else math.nan,
                    "run timed": _timed(per_run["timed alone"]) if have else "",
                    "grid final": final,
                }
            )
    return pd.DataFrame(rows)


def _measured_as(records: pd.DataFrame) -> str:
    with_cpu = int(records["cpu_seconds"].notna().sum()) if "cpu_seconds" in records else 0
    if with_cpu == len(records):
        return "CPU time"
    return "wall time" if with_cpu == 0 else f"CPU time ({with_cpu} runs), wall time ({len(records) - with_cpu})"


def _timed(timed_alone: pd.Series) -> str:
    alone = int(timed_alone.sum())
    if alone == len(timed_alone):
        return "alone"
    return "in the sweep" if alone == 0 else f"alone ({alone} runs), in the sweep ({len(timed_alone) - alone})"


def _projected_seconds(done: pd.DataFrame, config: RunConfig) -> float:
    """A missing run's seconds from the recorded runs' ``run_seconds`` per epoch (see :func:`protocol_table`)."""
    if done.empty:
        return math.nan
    same_model = done[done["model"] == config.model]
    same_net = same_model[same_model["dataset"] == config.dataset]
    same_width = same_net[np.isclose(same_net["width"], config.width)]
    for pool in (same_width, same_net, same_model):
        if not pool.empty:
            per_epoch = (pool["run_seconds"] / pool["epochs"]).mean()
            return float(per_epoch * config.epochs)
    return math.nan


def _grid_summary(sweep: str, points: dict[str, Any], model: str) -> str:
    skip = {"seeds", "models", "graphs", "model"}
    parts = []
    for key, value in points.items():
        if key in skip:
            continue
        value = sweeps.per_model(value, model)
        parts.append(f"{key} {_format(value)}")
    return "; ".join(parts)


def budget(table: pd.DataFrame, cores: int = CORES) -> pd.DataFrame:
    """Per sweep (and in all), hours measured and projected, the elapsed time on ``cores`` runs at a time,
    and whether the laptop budget is met: one run at most 10 minutes (the table's ``longest run (min)``:
    alone on the machine where the benchmark timed one, see :func:`run_minutes`), one sweep 3 hours,
    all 12 hours.

    ``met`` is ``True`` or ``False`` once every run is recorded, else ``"so far"`` / ``"not so far"``
    on the measured part together with the projection (or ``"unknown"`` without one).
    """
    rows = []
    for sweep, part in table.groupby("sweep", sort=False):
        rows.append(_budget_row(sweep, part, cores, BUDGET_CHAPTER_H))
    rows.append(_budget_row("all", table, cores, BUDGET_ALL_H))
    return pd.DataFrame(rows)


def _budget_row(name: str, part: pd.DataFrame, cores: int, limit_h: float) -> dict[str, Any]:
    measured = float(part["hours measured"].sum())
    projected = float(part["hours projected for the rest"].sum())
    complete = int(part["recorded"].sum()) == int(part["runs"].sum())
    rest_known = complete or not part["hours projected for the rest"].isna().any()
    total = measured + (projected if rest_known else 0.0)
    elapsed = total / cores
    longest = float(part["longest run (min)"].max()) if part["longest run (min)"].notna().any() else math.nan
    ok = elapsed <= limit_h and (math.isnan(longest) or longest <= BUDGET_RUN_MIN)
    if complete:
        met: bool | str = ok
    elif not rest_known:
        met = "unknown"
    else:
        met = "so far" if ok else "not so far"
    return {
        "sweep": name,
        "runs": int(part["runs"].sum()),
        "recorded": int(part["recorded"].sum()),
        "run hours measured": measured,
        "run hours projected for the rest": projected if rest_known else math.nan,
        f"elapsed hours on {cores} cores": elapsed if rest_known else math.nan,
        "budget (h)": limit_h,
        "longest run (min)": longest,
        "met": met,
    }


def quiet_runs(bench_results: str | os.PathLike[str] = BENCH_RESULTS, scale: str = "laptop") -> pd.DataFrame:
    """Runs of ``scale``'s epochs and training images (at any width) that ``bench/cpu.py run`` timed alone
    on the machine, one row per run.

    Only the runs of the benchmark's own code are listed, not those of the older commit it compared.

    The records' wall times were made two runs at a time, one thread each, while other work shared
    the cores; these runs had the machine to themselves (all its threads), so they show what a
    run costs there. Runs benchmarked with ``--selection whole`` select on all 10,000 validation
    images where a laptop run scores 2,000, so they slightly overstate a laptop run; the column
    ``validation images`` says which. Empty without the folder.
    """
    rows = []
    for path in sorted(Path(bench_results).glob("*.json")):
        section = json.loads(path.read_text()).get("sections", {}).get("run")
        if section is None:
            continue
        provenance = section["provenance"]
        for case in section["cases"]:
            config, size = case["config"], size_of(scale, case["model"])
            if (config["epochs"], config["train_subset"]) != (size.epochs, size.train_subset):
                continue  # a shortened run (``--epochs``): not what a run of the scale costs (any width is)
            for run in case["runs"].get("current", []):
                # Without a subset, the whole validation split: its share of the official training set.
                fraction, kept = config["val_fraction"], dataset_spec(config["dataset"]).train_examples
                validation = config["val_subset"] or round(kept * fraction / (1 - fraction))
                rows.append(
                    {
                        "network": network_name(case["model"], config["dataset"]),
                        "width": case["width"],
                        "method": "ticket search" if config["ticket"] else "weight training",
                        "epochs": config["epochs"],
                        "training images": config["train_subset"],
                        "validation images": validation,
                        "threads": run["threads"],
                        "minutes": run["run_seconds"] / 60,
                        "commit": run["git_commit"][:8],
                        "date": provenance["time"][:10],
                        "load average at start": provenance["loadavg_start"][0],
                        "file": path.as_posix(),
                    }
                )
    return pd.DataFrame(rows)


def calibration_table(results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS, scale: str = "laptop") -> pd.DataFrame:
    """Best validation and test accuracy (%) of each learning rate of the calibration sweep, with its best epoch."""
    return tabulate_calibration(sweep_records("calibration", scale, results))


def chosen_lr(calibration: pd.DataFrame) -> float | None:
    """The learning rate with the best validation accuracy (None without records)."""
    if calibration.empty:
        return None
    return float(calibration.loc[calibration["best validation accuracy (%)"].idxmax(), "lr"])


def verdict_lines(
    where: str, results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS, scales: tuple[str, ...] = ("laptop",)
) -> list[str]:
    """One Markdown line per claim of a chapter (or of a sweep) and scale: the claim, our verdict, our numbers."""
    from .claims import CLAIMS, assess

    lines = []
    for claim in CLAIMS:
        if where not in (claim.chapter, claim.sweep):
            continue
        for scale in scales:
            row = assess(claim, results, scale)
            verdict = row["verdict"].removesuffix(f" at {scale} scale")
            lines.append(f"*{claim.statement}* **Our verdict at {scale} scale: {verdict}.** {row['measurement']}")
    return lines


def frozen_rows_run_as_sparse(scale: str, results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS) -> list[str]:
    """One sentence per network whose Table 1 frozen rows are its sparse rows, saying why it has no frozen row.

    At ``k >= (1 + f)/2`` the centring rule prunes all of ``f``; :func:`slt.paper.sweeps.distinct_searches`
    then runs that search once, and the records name it sparse (:func:`slt.paper.frames.source_of`).
    """
    merged = sweeps.sources_merged_into_sparse(scale, results)
    lines = []
    for (model, dataset, k), part in merged.groupby(["model", "dataset", "sparsity"], sort=False):
        ratios = " and ".join(f"{f:g}" for f in part["freezing ratio"])
        lines.append(
            f"**{network_name(model, dataset)} has no frozen row.** At its sparsity $k = {k:g}$ the positioning "
            f"rule puts every frozen weight on the pruned side for $f$ = {ratios} ($r = (f - 2k + 1)/2$ would be "
            f"negative): its frozen source is then its sparse source, the same weights and masks, so the sweep "
            f"searches it once and the table lists it as sparse ($p$ = {ratios})."
        )
    return lines


def ticket_files(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """Each ticket file in ``folder/tickets/`` beside its record: bytes on disk against the record's model size.

    ``model size (bytes)`` is the paper's accounting, the record's ``model_bits`` / 8 (one bit per
    searchable weight); the file adds a header (model, ticket config, seed, network hash), the
    normalisation statistics a non-affine BatchNorm needs, and a checksum.
    """
    from ..ticket import read_ticket_file

    rows = []
    for path in sorted(Path(folder, "tickets").glob("*.slt")):
        record_file = Path(folder) / f"{path.stem}.json"
        record = load(record_file).iloc[0] if record_file.exists() else None
        header, payload = read_ticket_file(path)
        size = path.stat().st_size
        supermask = math.ceil(header["num_searchable"] / 8)
        row: dict[str, Any] = {"ticket file": path.name, "file (bytes)": size, "supermask bits (bytes)": supermask}
        row["statistics (bytes)"] = len(payload) - supermask
        row["header and checksum (bytes)"] = size - len(payload)
        if record is not None:
            derived = with_derived_columns(pd.DataFrame([record]))
            row = {
                "network": str(derived["network"].iloc[0]),
                "source": derived["source"].iloc[0],
                "freezing ratio": float(derived["freezing ratio"].iloc[0]),
                "seed": int(record["seed"]),
                "test accuracy (%)": 100 * float(record["test_acc"]),
                "model size (bytes, record)": int(record["model_bits"]) / 8,
                "model size (MB, record)": float(record["model_mb"]),
            } | row
        rows.append(row)
    table = pd.DataFrame(rows)
    if "network" in table:
        order = {name: i for i, name in enumerate(network_name(m, d) for m in MODEL_NAMES for d in DATASET_NAMES)}
        keys = {"network": order, "source": SOURCE_ORDER}
        sort = ["network", "source", "freezing ratio", "seed"]
        table = table.sort_values(sort, key=lambda col: col.map(keys[col.name]) if col.name in keys else col)
        table = table.reset_index(drop=True)
    return table


def graph_table(table1_records: pd.DataFrame | None, baseline_records: pd.DataFrame | None) -> pd.DataFrame:
    """Test accuracy (%) on each graph, mean ± std over seeds (and the number of seeds): the GIN's weight
    training and tickets from Table 1's records beside the GCN and standard-GIN reference runs on the same split."""
    rows = []
    if table1_records is not None and not table1_records.empty:
        gin = with_derived_columns(table1_records[table1_records["model"] == "gin"])
        if not gin.empty:
            gin = gin.assign(method=gin.apply(_gin_method, axis=1), order=gin["source"].map(SOURCE_ORDER))
            rows.append(gin[["method", "order", "dataset", "test accuracy (%)", "seed"]])
    if baseline_records is not None and not baseline_records.empty:
        base = baseline_records[baseline_records["split"] == "full"]
        names = {"gcn": "GCN (reference)", "gin": "GIN, standard two-layer (reference)"}
        rows.append(
            pd.DataFrame(
                {
                    "method": base["model"].map(names),
                    "order": base["model"].map({"gcn": 10, "gin": 11}),
                    "dataset": base["dataset"],
                    "test accuracy (%)": 100 * base["test_acc"],
                    "seed": base["seed"],
                }
            )
        )
    if not rows:
        return pd.DataFrame()
    df = pd.concat(rows, ignore_index=True).sort_values(["order", "method"], kind="stable")
    stats = df.groupby(["method", "dataset"], sort=False)["test accuracy (%)"].agg(["mean", "std", "count"])
    cells = stats.apply(lambda r: _mean_std_cell(r["mean"], r["std"], int(r["count"])), axis=1)
    table = cells.unstack("dataset").reindex(list(dict.fromkeys(df["method"])))
    order = [d for d in DATASET_NAMES if d in table.columns]
    table = table[order].rename(columns=DATASET_NAMES).fillna("—")
    table.columns.name = None
    return table


def _gin_method(row: pd.Series) -> str:
    """The row label of one GIN record: the source, with its sparsity and frozen fraction."""
    if row["source"] == "weight training":
        return "GIN (authors'), weight training"
    ratio = {
        "dense": "",
        "sparse": f", p = {row['freezing ratio']:g}",
        "frozen": f", p + r = {row['freezing ratio']:g}",
    }
    return f"GIN (authors'), SLT {row['source']} (k = {row['sparsity']:g}{ratio[row['source']]})"


def _mean_std_cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.2f} (1 seed)" if n < 2 else f"{mean:.2f} ± {std:.2f} ({n} seeds)"


def repository_paths(text: str) -> str:
    """``text`` naming the committed records' folder as the repository does (``results/...``), not by its path."""
    from .chapters import COMMITTED

    return text.replace(f"{COMMITTED}/", "results/").replace(str(COMMITTED), "results")


def record_counts(
    results: str | os.PathLike[str] = sweeps.DEFAULT_RESULTS, scales: tuple[str, ...] = ("laptop", "full")
) -> pd.DataFrame:
    """How many runs of each result's sweep are recorded at each scale: sweep, scale, recorded, runs."""
    rows = []
    for scale in scales:
        for sweep in sweeps.SWEEPS:
            configs, _ = planned_configs(sweep, scale, results)
            folder = sweeps.sweep_dir(results, sweep, scale)
            done = sum((folder / f"{c.run_id}.json").exists() for c in configs)
            rows.append({"sweep": sweep, "scale": scale, "recorded": done, "runs": len(configs)})
    return pd.DataFrame(rows)
