"""The package's shape: layers that import only downward, no cycles, imports at the top.

The graph is read from the source with :mod:`ast` (not by importing), so a cycle that
Python would tolerate at run time, or an import hidden inside a function, still fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import analysis

PACKAGE = Path(analysis.__file__).parent
# lowest first; a module may import from its own layer and from the layers before it
LAYERS = ["core", "data", "measures", "models", "report", "runner", "cli"]
# imports that reach up a layer, each with its reason; keep this list short
ALLOWED_UP: set[tuple[str, str]] = set()
# imports inside functions, each with its reason (the graph checks above still see them);
# (module, None) allows every such import of a module
LAZY_OK: dict[tuple[str, str | None], str] = {
    **{
        (module, None): "`workbench --help` and each subcommand start fast: a command "
        "imports only the layers it needs"
        for module in (
            "analysis.cli",
            "analysis.cli.data",
            "analysis.cli.reports",
            "analysis.cli.inspection",
        )
    },
    ("analysis.report.record", "analysis.report.tables"): "every notebook imports record "
    "and a run that records only key figures must not pay for pandas, matplotlib and Babel; "
    "the reader's table display loads on the first record.table",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in (``analysis.report.plots.PALETTE`` → its module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported module, line, at top level?) for each import of a package module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if not name.startswith("analysis."):
                continue
            target = _resolve(name, modules)
            if target and target != "analysis":
                found.append((target, node.lineno, id(node) in top))
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the root package: imports nothing
    return parts[1] if parts[1] in LAYERS else ("cli" if parts[1] in {"cli", "__main__"} else None)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {target for target, _, _ in _imports(path, modules) if target != name}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_module_belongs_to_a_layer():
    orphans = [m for m in _modules() if m != "analysis" and _layer(m) is None]
    assert not orphans, f"modules outside the layers {LAYERS}: {orphans}"


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_import_reaches_up_a_layer():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = [
        (module, target)
        for module, targets in _graph().items()
        for target in targets
        if _layer(module)
        and _layer(target)
        and rank[_layer(target)] > rank[_layer(module)]
        and (module, target) not in ALLOWED_UP
    ]
    assert not upward, f"imports from a lower layer to a higher one: {sorted(upward)}"


def test_package_imports_sit_at_the_top():
    modules = _modules()
    hidden = [
        f"{name}:{line} imports {target}"
        for name, path in modules.items()
        for target, line, at_top in _imports(path, modules)
        if not at_top and (name, None) not in LAZY_OK and (name, target) not in LAZY_OK
    ]
    assert not hidden, "imports inside functions hide the graph:\n" + "\n".join(hidden)


def test_the_root_package_imports_no_layer():
    # `import analysis` must stay light: the short names load their module on first use
    assert _imports(PACKAGE / "__init__.py", _modules()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ],
)
def test_the_cycle_finder_finds_planted_cycles(graph, expected):
    assert _cycles(graph) == expected


def test_the_layer_check_sees_a_planted_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "analysis"
    (fake / "core").mkdir(parents=True)
    (fake / "report").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("")
    (fake / "report" / "__init__.py").write_text("")
    (fake / "report" / "plots.py").write_text("X = 1\n")
    (fake / "core" / "i18n.py").write_text(
        "def f():\n    from analysis.report.plots import X\n    return X\n"
    )
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert _graph()["analysis.core.i18n"] == {"analysis.report.plots"}
    with pytest.raises(AssertionError, match="lower layer to a higher"):
        test_no_import_reaches_up_a_layer()
    with pytest.raises(AssertionError, match="inside functions"):
        test_package_imports_sit_at_the_top()
