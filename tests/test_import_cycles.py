"""No import cycles in analysis, schemas and surveydata, counting imports inside functions too (a
function-local import hides a cycle from the interpreter but not from the reader), and the layers
kept apart: analysis and schemas import no other package of the project, and ingestion does not
import the report layer above it.

The graph is read from the source with `ast`. ``surveydata.cli`` imports every module of
``surveydata.commands`` through importlib (a command is a module there); the graph adds those
edges, so a command importing the CLI would show as a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analysis", "schemas", "surveydata")

# Cycles tolerated for now, each with the change it waits for: none (a new cycle anywhere fails).
KNOWN: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if "migrations" not in p.relative_to(ROOT).parts}


def _imports(tree: ast.AST, name: str, is_package: bool, known: dict) -> set[str]:
    """Modules of the project that the module `name` imports (anywhere in its source)."""
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - (node.level - 1)] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            targets.update(subs if len(subs) == len(node.names) else [*subs, module])
    return {t for t in targets if t in known and t != name}


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    graph = {name: _imports(ast.parse(path.read_text(encoding="utf-8")), name,
                            path.name == "__init__.py", known)
             for name, path in known.items()}
    # the CLI discovers its commands with importlib (see the module docstring)
    graph["surveydata.cli"] |= {m for m in known if m.startswith("surveydata.commands.")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_no_import_cycles(graph):
    new = [c for c in cycles(graph) if frozenset(c) not in KNOWN]
    assert new == [], "import cycles (break them; a function-local import does not)"


@pytest.mark.parametrize("package, forbidden", [
    ("analysis", ("schemas", "surveydata")),     # statistics on any data frame
    ("schemas", ("analysis", "surveydata")),     # declarations, below everything
])
def test_lower_layers_import_no_upper_package(graph, package, forbidden):
    bad = sorted((m, t) for m, targets in graph.items() if m.split(".")[0] == package
                 for t in targets if t.split(".")[0] in forbidden)
    assert bad == []


def test_ingestion_does_not_import_the_report_layer(graph):
    above = ("surveydata.report", "surveydata.commands", "surveydata.cli")
    bad = sorted((m, t) for m, targets in graph.items()
                 if m.startswith("surveydata") and not m.startswith(above)
                 for t in targets if t.startswith("surveydata.report"))
    assert bad == []


def test_the_checker_finds_cycles_and_reads_real_imports(graph):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}) \
        == [["a", "b", "c"], ["e", "f"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # relative, absolute and function-local imports all count
    assert "schemas._lex" in graph["schemas.conditions"]              # from ._lex import ...
    assert "surveydata.errors" in graph["surveydata.commands.validate"]
    assert "surveydata.fieldwork.web" in graph["surveydata.commands.serve"]   # inside run()
    assert "surveydata.commands.validate" in graph["surveydata.cli"]          # importlib
    # the cycle broken this session: commands raise surveydata.errors.UserError, not the CLI's
    assert [m for m, ts in graph.items() if "surveydata.cli" in ts] == ["surveydata.__main__"]


def test_a_function_local_import_that_closes_a_loop_is_a_cycle(tmp_path):
    tree_a = ast.parse("import pkg.b\n")
    tree_b = ast.parse("def f():\n    from pkg import a\n")
    known = {"pkg": None, "pkg.a": None, "pkg.b": None}
    graph = {"pkg.a": _imports(tree_a, "pkg.a", False, known),
             "pkg.b": _imports(tree_b, "pkg.b", False, known)}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
