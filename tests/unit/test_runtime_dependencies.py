"""What the platform imports at run time is installed by ``pip install .`` alone (an
optional extra's module, such as pyscard for the card reader, only inside the functions
that use it).

``make run`` installs only the runtime dependencies; a module that only the development
tools pull in would work under ``make test`` and fail on a fresh machine.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "src" / "sscard", ROOT / "peers"]
OWN = {"sscard", "peers"}


class _Imports(ast.NodeVisitor):
    """Each imported top-level module, and whether some import of it runs when its module
    is imported (not only inside a function, as an optional extra's import is)."""

    def __init__(self) -> None:
        self.depth = 0
        self.names: list[tuple[str, bool]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802 - ast API
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]  # noqa: N815

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        self.names += [(alias.name.split(".")[0], self.depth == 0) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        if node.level == 0 and node.module:
            self.names.append((node.module.split(".")[0], self.depth == 0))


def _top_level_imports() -> dict[str, tuple[Path, bool]]:
    """Module -> (a file importing it, whether any import of it is at module level)."""
    found: dict[str, tuple[Path, bool]] = {}
    for folder in SHIPPED:
        for path in folder.rglob("*.py"):
            visitor = _Imports()
            visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
            for name, eager in visitor.names:
                where, before = found.get(name, (path, False))
                found[name] = (where, before or eager)
    return found


def _name(requirement: Requirement) -> str:
    return re.sub(r"[-_.]+", "-", requirement.name).lower()


def _runtime_closure(requirements: list[str]) -> set[str]:
    """The runtime requirements and everything they require in turn, with the extras asked
    for (``uvicorn[standard]``) and no others."""
    seen: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = _name(requirement)
        for extra in {"", *requirement.extras}:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue
            for text in requires:
                child = Requirement(text)
                if child.marker is None or child.marker.evaluate({"extra": extra}):
                    todo.append(child)
    return {name for name, _ in seen}


def test_every_module_the_platform_imports_comes_with_its_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _runtime_closure(project["dependencies"])
    extras = [
        r for name, reqs in project["optional-dependencies"].items() if name != "dev" for r in reqs
    ]
    optional = _runtime_closure(extras)
    providers = metadata.packages_distributions()
    missing = {}
    for module, (path, eager) in sorted(_top_level_imports().items()):
        if module in OWN or module in sys.stdlib_module_names:
            continue
        distributions = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if distributions & runtime:
            continue
        if not eager and (distributions & optional or module not in providers):
            continue  # an optional extra's, imported only where it is used
        missing[module] = str(path.relative_to(ROOT))
    assert not missing, f"imported at run time but not a runtime dependency: {missing}"
