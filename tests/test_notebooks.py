"""The committed chapter notebooks: what Colab and papermill users open.

Each chapter's MyST ``.md`` is the source and its paired ``.ipynb`` is what the
Colab button opens, so the two must hold the same cells, and the ``.ipynb``
must be committed without outputs. Every chapter is in the table of contents,
starts with the Colab install cell, and has a ``parameters`` cell whose every
parameter carries the one-line description ``papermill --help-notebook`` shows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="jupytext (the book extra) reads the chapter pairs")
yaml = pytest.importorskip("yaml", reason="PyYAML (installed with the book extra) reads _toc.yml")

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("*.md"))
CHAPTERS = [p.stem for p in SOURCES]


def cells(notebook) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def code_cells(chapter: str) -> list:
    return [c for c in jupytext.read(ROOT / "notebooks" / f"{chapter}.md").cells if c.cell_type == "code"]


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert SOURCES, "no chapters found in notebooks/"
    missing = [c for c in CHAPTERS if f"file: notebooks/{c}\n" not in toc]
    assert not missing, f"chapters missing from _toc.yml (they would not be built): {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_committed_notebook_matches_its_source_and_has_no_outputs(chapter):
    pair = ROOT / "notebooks" / f"{chapter}.ipynb"
    assert pair.exists(), f"{chapter}.md has no paired .ipynb: run `jupytext --sync notebooks/{chapter}.md`"
    source, notebook = jupytext.read(ROOT / "notebooks" / f"{chapter}.md"), jupytext.read(pair)
    assert cells(notebook) == cells(source), (
        f"notebooks/{chapter}.ipynb differs from its .md: run `jupytext --sync notebooks/{chapter}.md`"
    )
    executed = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not executed, f"notebooks/{chapter}.ipynb is committed with outputs in cells {executed}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_first_code_cell_installs_the_package_in_colab_only(chapter):
    first = code_cells(chapter)[0]
    assert 'if "google.colab" in sys.modules:' in first.source and "%pip install" in first.source
    assert "hide-output" in first.metadata.get("tags", [])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_parameter_has_a_one_line_description(chapter):
    tagged = [c for c in code_cells(chapter) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{chapter}: {len(tagged)} cells tagged parameters (papermill needs exactly one)"
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    names = [t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign) for t in node.targets]
    assert names, f"{chapter}: the parameters cell assigns nothing"
    undescribed = [line for line in lines if "#" not in line]
    assert not undescribed, f"{chapter}: parameters without a '# description': {undescribed}"
