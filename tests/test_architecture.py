"""The package's layering (docs/architecture.md): stages on top, library below, no circles.

Imports are read from the source (module level and inside functions alike), so an import
hidden in a function to break a circle counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "pipeline"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """The package modules ``path`` imports (``from pipeline.x import y`` counts as
    ``pipeline.x.y`` when that is a module, else ``pipeline.x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        out.update(n for n in names if n in known)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(p, known) - {m} for m, p in mods.items()}


def _is_stage(mod: str) -> bool:
    return mod == "pipeline.stages" or mod.startswith("pipeline.stages.")


def test_no_library_module_imports_a_stage_or_the_cli():
    bad = {m: sorted(d for d in deps if _is_stage(d) or d == "pipeline.cli")
           for m, deps in _graph().items() if not _is_stage(m) and m != "pipeline.cli"}
    assert {m: d for m, d in bad.items() if d} == {}


def test_no_stage_imports_another_stage():
    graph = _graph()
    for m, deps in graph.items():
        if _is_stage(m) and m != "pipeline.stages":
            assert not [d for d in deps if _is_stage(d)], (m, deps)


def test_the_import_graph_has_no_circle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_graph_reader_sees_function_level_imports():
    """The checks above would pass vacuously if the reader missed imports in functions."""
    graph = _graph()
    assert "pipeline.stages.train" in graph["pipeline.cli"]              # inside _train()
    assert "pipeline.training.loop" in graph["pipeline.stages.train"]         # inside train()


def test_every_user_error_derives_from_the_one_base_class():
    import inspect

    from pipeline import errors

    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if c.__module__ == errors.__name__ and c is not errors.ExpelError]
    assert len(classes) >= 8 and all(issubclass(c, errors.ExpelError) for c in classes)
    # No other module defines its own error class outside the hierarchy.
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                assert path.name == "errors.py", f"{path}: class {node.name} outside pipeline/errors.py"
