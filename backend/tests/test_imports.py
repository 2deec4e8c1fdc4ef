"""The import graph: no circle anywhere, the project package below its app (it imports the app only where Django
wires them: settings and root URLs), and the photos' pixels knowing nothing of storage."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from testing import BASE_DIR

PACKAGES = ("backend", "property", "localdev", "bench", "examples")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, tests and migrations aside, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            if {"tests", "migrations"} & set(path.parts):
                continue
            name = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = ".".join(part for part in (package if node.level else "", node.module or "") if part)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # a name imported from a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    assert len(graph) > 60  # every module read
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as circle:
        raise AssertionError(f"import circle: {' -> '.join(circle.args[1])}") from None


def test_the_project_package_imports_its_app_only_where_django_wires_them():
    importers = {
        name
        for name, targets in import_graph().items()
        if name.startswith("backend.")
        and any(target == "property" or target.startswith("property.") for target in targets)
    }
    assert importers <= {"backend.urls"} | {name for name in importers if name.startswith("backend.settings")}


def test_the_photos_pixels_know_nothing_of_storage():
    assert not {target for target in import_graph()["property.images"] if target.startswith("backend")}
