"""The folder layout keeps its promises: packages meet only through public names, no cycles."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "replay"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(test)


def _imports(tree: ast.AST, *, type_checking: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run (``type_checking=False``) or only those under ``if TYPE_CHECKING``."""

    def walk(node: ast.AST, guarded: bool) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from walk(ast.Module(body=child.body, type_ignores=[]), True)
                yield from walk(ast.Module(body=child.orelse, type_ignores=[]), guarded)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                if guarded == type_checking:
                    yield child
            else:
                yield from walk(child, guarded)

    return walk(tree, False)


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_modules()[module].read_text(encoding="utf-8"))


@cache
def _reexports(package: str) -> dict[str, str]:
    """What a lazy package ``__init__`` re-exports: name -> the module it comes from."""
    if package not in _modules() or _modules()[package].name != "__init__.py":
        return {}
    found = {}
    for node in _imports(_tree(package), type_checking=True):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found[alias.asname or alias.name] = node.module
    return found


def _source(module: str, name: str) -> str:
    """The module that ``from module import name`` really loads."""
    if f"{module}.{name}" in _modules():
        return f"{module}.{name}"
    origin = _reexports(module).get(name)
    return module if origin is None or origin == module else _source(origin, name)


def _targets(module: str) -> Iterator[tuple[str, str]]:
    """(imported module, as written) for every replay import ``module`` runs."""
    for node in _imports(_tree(module), type_checking=False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "replay":
                    yield alias.name, alias.name
        elif node.module and node.level == 0 and node.module.split(".")[0] == "replay":
            for alias in node.names:
                yield _source(node.module, alias.name), f"{node.module}.{alias.name}"


def _owner(dotted: str) -> str | None:
    """The package that owns the first ``_private`` part of ``dotted`` (None: all public)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def test_no_package_imports_another_packages_private_module() -> None:
    crossings = []
    for module in _modules():
        for _target, written in _targets(module):
            owner = _owner(written)
            if owner is not None and not (module == owner or module.startswith(owner + ".")):
                crossings.append(f"{module} imports {written}")
    assert crossings == []


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _ in _targets(m) if t in _modules() and t != m} for m in _modules()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (modules in order), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_cycle_even_inside_functions() -> None:
    assert _cycle(_graph()) is None


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert _cycle(graph) == cycle


def test_package_inits_only_reexport() -> None:
    """A package ``__init__`` defines nothing but re-exports, so importing a submodule is light."""
    heavy = []
    for module, path in _modules().items():
        if path.name != "__init__.py":
            continue
        for node in _tree(module).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                heavy.append(f"{module}: {node.name}")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                if not any(n.startswith(("replay", "__future__", "typing")) for n in names) and (
                    not isinstance(node, ast.ImportFrom)
                    or not (node.module or "").startswith(("replay", "__future__", "typing"))
                ):
                    heavy.append(f"{module}: imports {', '.join(names)}")
    assert heavy == []


def test_readme_table_of_places_names_every_package_and_module() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("Where things live in `replay/`") :].split("\n\n", 2)[1]
    places = {
        p.name + "/" if p.is_dir() else p.stem
        for p in PACKAGE.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py")
    }
    places.discard("py")
    named = {place for place in places if f"`{place}`" in table}
    assert sorted(places - named) == []
    assert len(table.splitlines()) <= 12  # the table stays short
