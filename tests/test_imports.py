"""Architecture rules on the first-party import graph (source files read with ``ast``, nothing
imported): no import cycle between files, and no first-party module imported by string.

Every import counts: module level, inside functions (lazy) and under ``TYPE_CHECKING`` — each is
a dependency of one file on another. The layer contracts (who may import whom) are
import-linter's (``[tool.importlinter]`` in pyproject.toml, run by ``.ci/run``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.conftest import ROOT

FIRST_PARTY = ("comodo_live", "comodo_app", "gui", "drivers")
STRING_IMPORTERS = ("import_module", "__import__")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → source file, for every ``.py`` file of the first-party packages."""
    modules: dict[str, Path] = {}
    for package in FIRST_PARTY:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names ``module`` imports: ``import a.b`` → a.b; ``from a import b`` → a.b (and a)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """First-party module → the first-party modules (files) it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets: set[str] = set()
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            if name in modules and name != module:
                targets.add(name)
        # ``from pkg import mod`` names both pkg and pkg.mod: keep only the file it reaches
        graph[module] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
    return graph


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle path ``[a, b, ..., a]`` per strongly connected component of more than one node
    (Tarjan's algorithm, iterative), sorted; [] when the graph is acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = []
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work.append((start, iter(sorted(graph.get(start, ())))))
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(_cycle_through(graph, c) for c in components)


def _cycle_through(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle from the component's first module back to it (breadth-first)."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child in members and child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in component {component}")


def string_imports(modules: Mapping[str, Path]) -> list[str]:
    """``file:line call`` of each ``importlib.import_module(...)`` / ``__import__(...)`` whose
    module name is first-party or not a literal (a string import hides the dependency from
    mypy, import-linter and the cycle check)."""
    found: list[str] = []
    for path in modules.values():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in STRING_IMPORTERS:
                continue
            arg = node.args[0] if node.args else None
            literal = arg.value if isinstance(arg, ast.Constant) else None
            if not isinstance(literal, str) or literal.split(".")[0] in FIRST_PARTY:
                where = path.relative_to(ROOT)
                found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    return found


def test_find_cycles__reports_a_path_per_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_import_graph__sees_lazy_relative_and_from_imports() -> None:
    graph = import_graph(module_files())
    assert len(graph) > 100 and sum(map(len, graph.values())) > 300
    assert "gui.app" in graph["comodo_app.cli"]  # a lazy import inside a function
    assert "drivers._lsl" in graph["drivers.markers"] or "drivers._lsl" in graph["drivers.camera"]
    # ``from comodo_live.session import folder``: the module, not the package
    assert "comodo_live.session.folder" in graph["comodo_live.session.controller"]


def test_first_party__no_import_cycle_between_files() -> None:
    cycles = find_cycles(import_graph(module_files()))
    assert not cycles, "import cycles between files:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_first_party__no_module_imported_by_string() -> None:
    found = string_imports(module_files())
    assert not found, "first-party modules imported by string (use a plain import):\n" + "\n".join(
        found
    )
