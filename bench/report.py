"""The table of ``bench/speed.py``: rows as they come, ratios between cases, the targets, the sync check."""

from __future__ import annotations

from sync_check import SYNC_STEPS

TARGETS = {  # see bench/README.md
    "conv6": {"b/a": 1.15, "c/b": 2.5, "peak b/a": 1.3},
    "resnet18": {"b/a": 1.10, "peak b/a": 1.3},
    "full_run_s": 180.0,
}
CASE_NAMES = {
    "a": "weight training (slt data path)",
    "b": "ticket search (slt)",
    "c": "conventional (DataLoader + per-layer sort)",
    "a+compile": "weight training, torch.compile",
    "b+compile": "ticket search, compiled body",
    "a+graph": "weight training, step as one CUDA graph",
    "b+graph": "ticket search, step as one CUDA graph",
}
RATIOS = {  # case: (the case it is compared with, the ratio's name)
    "b": ("a", "b/a"),
    "c": ("b", "c/b"),
    "b+compile": ("a+compile", "b/a compiled"),
    "b+graph": ("a+graph", "b/a graphed"),
}
HEADER = (
    f"{'model':<9} {'prec':<5} {'case':<10} {'s/epoch':>9} {'host s/ep':>9} {'b/a':>6} {'c/b':>6} {'peak MB':>9}  case"
)


def find(rows: list[dict], model: str, precision: str, case: str) -> dict | None:
    for r in rows:
        if (r["model"], r["precision"], r["case"]) == (model, precision, case) and "s_per_epoch" in r:
            return r
    return None


def add_ratios(rows: list[dict]) -> None:
    for r in rows:
        if r["case"] not in RATIOS or "s_per_epoch" not in r:
            continue
        ref_case, label = RATIOS[r["case"]]
        ref = find(rows, r["model"], r["precision"], ref_case)
        if ref is None:
            continue
        r["ratio"], r["ratio_of"] = r["s_per_epoch"] / ref["s_per_epoch"], label
        if r["case"] != "c" and r.get("peak_mb") and ref.get("peak_mb"):
            r["peak_ratio"] = r["peak_mb"] / ref["peak_mb"]


def fmt(value: float | None, spec: str, width: int) -> str:
    return f"{value:{width}{spec}}" if value is not None else f"{'-':>{width}}"


def print_row(row: dict, rows: list[dict]) -> None:
    """Print ``row`` (the last of ``rows``), after the header when it is the first."""
    if len(rows) == 1:
        print(HEADER)
        print("-" * len(HEADER))
    if "error" in row:
        print(f"{row['model']:<9} {row['precision']:<5} {row['case']:<10} failed: {row['error']}")
        return
    add_ratios(rows)
    ratio = row.get("ratio")
    b_a = ratio if row["case"] in ("b", "b+compile", "b+graph") else None
    c_b = ratio if row["case"] == "c" else None
    print(
        f"{row['model']:<9} {row['precision']:<5} {row['case']:<10} {row['s_per_epoch']:9.3f} "
        f"{row['host_s_per_epoch']:9.3f} {fmt(b_a, '.2f', 6)} {fmt(c_b, '.2f', 6)} {fmt(row['peak_mb'], '.0f', 9)}"
        f"  {CASE_NAMES[row['case']]}",
        flush=True,
    )


def check_targets(rows: list[dict], on_gpu: bool) -> list[str]:
    """One line per target the rows can speak to: met or MISSED on a GPU, n/a on a CPU."""
    lines = []
    for model, targets in TARGETS.items():
        if not isinstance(targets, dict):
            continue
        for precision in sorted({r["precision"] for r in rows}):
            b, c = find(rows, model, precision, "b"), find(rows, model, precision, "c")
            if b is None:
                continue
            checks = [("b/a", b.get("ratio"), "<=")]
            if "c/b" in targets and c is not None:
                checks.append(("c/b", c.get("ratio"), ">="))
            checks.append(("peak b/a", b.get("peak_ratio"), "<="))
            for key, value, op in checks:
                if key not in targets or value is None:
                    continue
                ok = value <= targets[key] if op == "<=" else value >= targets[key]
                verdict = ("met" if ok else "MISSED") if on_gpu else "n/a on CPU"
                lines.append(
                    f"{model:<9} {precision:<5} {key:<9} = {value:5.2f}  (target {op} {targets[key]}): {verdict}"
                )
    return lines


def print_sync(report: dict, title: str) -> None:
    print(f"\n{title}")
    for model, cases in report.items():
        for case, r in cases.items():
            cuda = r["cuda_sync_warnings_per_step"]
            cuda_text = f", CUDA sync warnings/step {cuda:g}" if cuda is not None else ""
            print(
                f"  {model:<9} ({case}) aten ops/step {r['aten_ops_per_step']:.0f} "
                f"({r['aten_ops_per_step'] - r['aten_views_per_step']:.0f} not views), "
                f"host-sync calls/step {r['host_sync_calls_per_step']:g}{cuda_text}"
            )
            for where, n in r["host_sync_calls"].items():
                print(f"      {n:g}/step  {where}")
            for where, n in (r["cuda_sync_warnings"] or {}).items():
                print(f"      {n / SYNC_STEPS:g}/step  CUDA sync at {where}")
