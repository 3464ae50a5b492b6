"""The library never imports the paper's reproduction (``slt.paper``): checked on the source, and
by importing every library module in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import slt

PACKAGE = Path(slt.__file__).parent
LIBRARY = sorted(p for p in PACKAGE.rglob("*.py") if "paper" not in p.relative_to(PACKAGE).parts)


def paper_imports(source: str, package: str) -> list[int]:
    """The lines of the import statements in ``source`` (a module of ``package``) that reach ``slt.paper``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == "slt.paper" or name.startswith("slt.paper.") for name in names):
            found.append(node.lineno)
    return found


def library_module_imports(path: Path) -> list[int]:
    return paper_imports(path.read_text(), ".".join(["slt", *path.relative_to(PACKAGE).parent.parts]))


def test_the_checker_sees_relative_and_absolute_imports() -> None:
    source = "from ..paper import sweeps\nimport slt.paper.claims\nfrom .. import paper\nfrom ..data import paperwork\n"
    assert paper_imports(source, "slt.models") == [1, 2, 3]


def test_no_library_module_imports_the_reproduction() -> None:
    offenders = {str(p.relative_to(PACKAGE)): library_module_imports(p) for p in LIBRARY}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_whole_library_loads_nothing_of_the_reproduction() -> None:
    modules = [
        ".".join(["slt", *p.relative_to(PACKAGE).with_suffix("").parts]).removesuffix(".__init__") for p in LIBRARY
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.startswith('slt.paper')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
