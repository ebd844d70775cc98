"""Imports flow downhill: daam → quality_checks → warehouse → assets → pipelines, and no module
imports one that imports it back (directly or around a loop), function-level imports included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A package may import the packages before it in this list, never those after it.
LAYERS = ["daam", "quality_checks", "warehouse", "assets", "pipelines"]


def _modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports, anywhere in it (a function-level import counts too):
    the module itself and the packages above it, whose `__init__` runs first (except the file's
    own packages: Python has run them already)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for target in targets:
            parts = target.split(".")
            above = {".".join(parts[:i]) for i in range(1, len(parts))}
            own = {p for p in above if name == p or name.startswith(p + ".")}
            found |= {m for m in (above - own) | {target} if m in modules}
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def test_packages_import_only_the_packages_below_them():
    upward = [f"{module} imports {target}"
              for module, targets in _graph().items() for target in targets
              if LAYERS.index(target.split(".")[0]) > LAYERS.index(module.split(".")[0])]
    assert not upward, "imports that climb back up:\n" + "\n".join(sorted(upward))


def test_no_import_cycle_between_modules():
    graph = _graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" → ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{node} → {nxt}")
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_walk_sees_imports():
    """The test would pass on nothing: make sure it reads real imports, function-level ones too."""
    graph = _graph()
    assert "warehouse.build.raw" in graph["assets.raw"]
    assert "warehouse.build" in graph["warehouse.build.raw"]   # the package's __init__ runs first
    assert "pipelines.load" in graph["pipelines.cli"]           # imported inside a function
    assert "daam.config" in graph["quality_checks.suites"]
