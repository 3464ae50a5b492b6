"""The chapters' code passes ruff with the project's rules (pyproject.toml), as the library's code does.

A chapter's code lives in its MyST source (``notebooks/*.md``), which ruff does not read, and the paired
``.ipynb`` is excluded from ruff in pyproject.toml (it may lag behind its source until synced). So each
source is exported with the jupytext API into a temporary folder and ruff checks the export.

The export is a notebook (``.ipynb``), not a script: ruff lints notebooks natively, cell by cell. It parses
IPython magics (the ``%pip install`` of every chapter's Colab cell) and top-level ``await``, and it takes
the imports at the top of a cell as module-level imports, so E402 (import not at the top of the file)
does not fire on a chapter's import cell. A ``py:percent`` export would comment the magic out and leave
the Colab cell's ``if`` without a body, which is a syntax error no ignore can silence. Linted as
notebooks, the chapters need no ignores: they keep every rule of the library, line length included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="jupytext (the book extra) reads the chapter sources")
pytest.importorskip("ruff", reason="ruff (the dev extra) lints the chapters")

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.md"))


def ruff_check(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    return subprocess.run(
        [*command, "--output-format", "concise", str(path)], cwd=ROOT, capture_output=True, text=True, check=False
    )


def export(source: Path, folder: Path) -> Path:
    """The chapter's code as a notebook without outputs, as its MyST source holds it."""
    target = folder / f"{source.stem}.ipynb"
    jupytext.write(jupytext.read(source), target, fmt="ipynb")
    return target


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_code_passes_ruff(chapter, tmp_path):
    result = ruff_check(export(ROOT / "notebooks" / f"{chapter}.md", tmp_path))
    findings = (result.stdout + result.stderr).replace(f"{tmp_path}/", "")
    assert result.returncode == 0, f"ruff on the code of notebooks/{chapter}.md:\n{findings}"


def test_the_export_is_linted_magics_and_all(tmp_path):
    # Guards against a check that passes because ruff skipped the export or could not parse it: in a chapter
    # with a magic and a top-level await, the one finding, an unused import, must be found.
    text = (ROOT / "notebooks" / f"{CHAPTERS[0]}.md").read_text()
    header = text[: text.index("---", 3) + 3]  # a chapter's jupytext front matter: its kernel and formats
    cell = "```{code-cell} ipython3\nimport asyncio\nimport json\n\n%pip --version\nawait asyncio.sleep(0)\n```\n"
    source = tmp_path / "probe.md"
    source.write_text(f"{header}\n\n# Probe\n\n{cell}")
    (tmp_path / "out").mkdir()
    result = ruff_check(export(source, tmp_path / "out"))
    findings = [line for line in result.stdout.splitlines() if "probe.ipynb" in line]
    assert result.returncode == 1 and len(findings) == 1, result.stdout + result.stderr
    assert "F401" in findings[0] and "`json` imported but unused" in findings[0]
