"""The runtime requirements name every library the app imports (the quick start installs only those)."""

import ast
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pinned(path: Path) -> set[str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {_norm(Requirement(line).name) for line in lines if line and not line.startswith("-")}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def _with_dependencies(names: set[str]) -> set[str]:
    """The pinned distributions and everything they pull in."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_norm(requirement.name))
    return seen


def _imported_modules() -> set[str]:
    modules = set()
    for path in [*(ROOT / "tracker").rglob("*.py"), ROOT / "run.py"]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"tracker"}


def test_every_library_the_app_imports_is_installed_by_the_runtime_requirements():
    installed = _with_dependencies(_pinned(ROOT / "requirements.txt"))
    distributions = packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in _imported_modules()
        if not {_norm(d) for d in distributions.get(module, [])} & installed
    }
    assert not missing, f"imported by the app but not installed by requirements.txt: {missing}"
