"""The project's module import graph, read from the sources with :mod:`ast` (nothing is imported).

Used by the layout rules in ``test_import_hygiene.py``. Imports under ``if TYPE_CHECKING:`` are
left out: they never run, so they cannot form a cycle at import time or load a package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "tui", "slackbot")


@dataclass(frozen=True)
class Import:
    """One ``import``/``from … import`` statement's target, as it appears at ``source:line``."""

    source: str  # the importing module, dotted
    target: str  # the imported module, dotted (``from m import name`` counts as ``m`` or ``m.name``)
    names: tuple[str, ...]  # for ``from`` imports, the name taken
    file: Path
    line: int


def module_name(path: Path) -> str:
    """``assistant/spec/__init__.py`` -> ``assistant.spec``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the shipped packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """What module ``name`` (at ``path``) imports, resolved to dotted module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(name, alias.name, (), path, node.lineno))
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            # ``from pkg import mod`` imports the module pkg.mod when there is one.
            sub = f"{base}.{alias.name}"
            found.append(Import(name, sub if sub in known else base, (alias.name,), path, node.lineno))
    return found


def all_imports() -> list[Import]:
    """Every import statement in the shipped packages."""
    known = modules()
    return [imp for name, path in known.items() for imp in imports(name, path, known)]


def graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for imp in all_imports():
        if imp.target in known and imp.target != imp.source:
            edges[imp.source].add(imp.target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def top_package(module: str) -> str:
    """The package boundary a module belongs to: ``assistant.spec.masters`` -> ``assistant.spec``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "assistant" and len(parts) > 1 else parts[0]


def private_crossings() -> list[str]:
    """``from m import _name`` where ``m`` is in another package than the importer (file:line: what)."""
    known = modules()
    bad = []
    for imp in all_imports():
        if imp.target not in known or top_package(imp.target) == top_package(imp.source):
            continue
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        if private:
            bad.append(f"{imp.file.relative_to(ROOT)}:{imp.line}: {imp.source} imports {', '.join(private)} from {imp.target}")
    return bad
