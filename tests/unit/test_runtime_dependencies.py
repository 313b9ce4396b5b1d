"""What the platform imports at run time is installed by ``pip install .`` alone.

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


def _top_level_imports() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in SHIPPED:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
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
    providers = metadata.packages_distributions()
    missing = {}
    for module, path in sorted(_top_level_imports().items()):
        if module in OWN or module in sys.stdlib_module_names:
            continue
        distributions = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if not distributions & runtime:
            missing[module] = str(path.relative_to(ROOT))
    assert not missing, f"imported at run time but not a runtime dependency: {missing}"
