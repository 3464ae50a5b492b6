"""Build the book: execute every chapter with papermill, then Jupyter Book with warnings as errors.

    python tools/build_book.py                          # execute all chapters, build _build/html
    python tools/build_book.py --only intro-first-ticket  # execute one chapter (others reuse their copies)
    python tools/build_book.py --skip-execute           # rebuild the HTML from the executed copies

Every chapter listed in ``_toc.yml`` under ``notebooks/`` is synced with its
MyST source (``jupytext --sync``) and executed with the defaults of its
``parameters`` cell (the experiment chapters draw the committed records and
train nothing), with the repository root as working directory. The executed
copies go to ``_build/executed/notebooks/``, next to copies of ``_config.yml``,
``_toc.yml`` and ``book/``, and Jupyter Book builds that tree (``-W -n
--keep-going``: any warning fails the build). A chapter that raises
fails the build, naming the chapter.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
HTML = BUILD / "html"
BIN = Path(sys.executable).parent


def toc_files(entry: dict | list) -> list[str]:
    """Every ``file:`` of the table of contents, in reading order."""
    if isinstance(entry, list):
        return [f for item in entry for f in toc_files(item)]
    files = [entry["file"]] if "file" in entry else []
    for key in ("parts", "chapters", "sections"):
        files += toc_files(entry.get(key, []))
    return files


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [Path(f).stem for f in toc_files(toc) if f.startswith("notebooks/")]


def execute(chapter: str) -> None:
    """Sync the pair and execute the notebook with its default parameters into _build/executed/notebooks/."""
    source = ROOT / "notebooks" / f"{chapter}.md"
    if not source.exists():
        raise FileNotFoundError(f"{source.relative_to(ROOT)} does not exist but _toc.yml lists it")
    subprocess.run([BIN / "jupytext", "--sync", "--quiet", source], check=True, cwd=ROOT)
    target = EXECUTED / "notebooks" / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Without stored widget state, myst-nb adds no ipywidgets scripts from a CDN to the page: the book needs
    # no network (a progress bar of the library's, a widget in a kernel, then shows nothing).
    papermill.execute_notebook(
        source.with_suffix(".ipynb"),
        target,
        cwd=ROOT,
        kernel_name="python3",
        progress_bar=False,
        store_widget_state=False,
    )


def execute_all(names: list[str]) -> list[str]:
    """Execute the chapters one by one; returns those that failed."""
    failed = []
    for i, chapter in enumerate(names, 1):
        print(f"[{i}/{len(names)}] executing {chapter} ...", flush=True)
        start = time.perf_counter()
        try:
            execute(chapter)
        except Exception as err:  # a cell raised, or the pair could not be synced
            failed.append(chapter)
            print(f"[{i}/{len(names)}] {chapter} FAILED after {time.perf_counter() - start:.0f} s:\n{err}", flush=True)
            continue
        print(f"[{i}/{len(names)}] {chapter} done in {time.perf_counter() - start:.1f} s", flush=True)
    return failed


def stage_book() -> None:
    """Copy the configuration and prose pages next to the executed notebooks."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    # Here the executed .ipynb copies are the sources (the MyST .md files are not copied).
    config["exclude_patterns"] = [p for p in config["exclude_patterns"] if p != "notebooks/*.ipynb"]
    (EXECUTED / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy2(ROOT / "_toc.yml", EXECUTED / "_toc.yml")
    shutil.rmtree(EXECUTED / "book", ignore_errors=True)
    shutil.copytree(ROOT / "book", EXECUTED / "book")
    for asset in (ROOT / "notebooks").iterdir():  # images and other files the chapters use
        if asset.is_file() and asset.suffix not in (".md", ".ipynb"):
            shutil.copy2(asset, EXECUTED / "notebooks" / asset.name)


def build_html() -> int:
    command = [BIN / "jupyter-book", "build", EXECUTED, "--builder", "html", "--all", "-W", "-n", "--keep-going"]
    status = subprocess.run(command, cwd=ROOT).returncode
    if status == 0:
        shutil.rmtree(HTML, ignore_errors=True)
        shutil.copytree(EXECUTED / "_build" / "html", HTML)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="CHAPTER", help="execute only this chapter (e.g. intro-first-ticket)")
    parser.add_argument("--skip-execute", action="store_true", help="reuse the executed copies in _build/executed")
    args = parser.parse_args()

    names = chapters()
    if args.only:
        if args.only not in names:
            parser.error(f"{args.only} is not a chapter of _toc.yml; choose one of {', '.join(names)}")
        names = [args.only]
    start = time.perf_counter()
    if not args.skip_execute:
        failed = execute_all(names)
        if failed:
            print(f"build failed: {len(failed)} chapter(s) raised: {', '.join(failed)}", file=sys.stderr)
            return 1
    missing = [c for c in chapters() if not (EXECUTED / "notebooks" / f"{c}.ipynb").exists()]
    if missing and args.only:
        print(f"executed {args.only}; the HTML also needs executed copies of {', '.join(missing)}: run without --only")
        return 0
    if missing:
        print(f"build failed: no executed copy of {', '.join(missing)}; run without --skip-execute", file=sys.stderr)
        return 1
    stage_book()
    print("building the HTML (warnings are errors) ...", flush=True)
    status = build_html()
    if status:
        print("build failed: jupyter-book reported warnings or errors (see above)", file=sys.stderr)
        return status
    print(f"book built in {time.perf_counter() - start:.0f} s: {HTML.relative_to(ROOT)}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
