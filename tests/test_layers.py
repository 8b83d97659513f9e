"""Imports point one way (web -> search, index -> search), and only to search's public face."""

from __future__ import annotations

import ast
from pathlib import Path

import search

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (a folder) and the absolute modules it imports."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                # ``from search import settings`` imports the module search.settings
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def _modules_of(names: set[str], package: str) -> set[str]:
    return {name for name in names if name == package or name.startswith(f"{package}.")}


def _outside(imported: set[str], allowed: frozenset[str]) -> set[str]:
    """The search modules imported that are neither allowed nor inside an allowed package,
    nor a name imported from an allowed module (``from search.query import MAX_CLAUSES``)."""
    return {
        name
        for name in imported
        if name != "search"
        and not any(name == module or name.startswith(f"{module}.") for module in allowed)
        and name.rsplit(".", 1)[0] not in allowed | {"search"}
    }


def test_search_imports_neither_web_nor_index():
    for module, names in _imports("search").items():
        assert not _modules_of(names, "web") | _modules_of(names, "index"), module


def test_web_imports_only_the_public_face_of_search():
    for module, names in _imports("web").items():
        assert not _outside(_modules_of(names, "search"), search.PUBLIC), module
        assert not _modules_of(names, "index"), module


def test_index_imports_only_the_public_face_and_what_writing_needs():
    allowed = search.PUBLIC | search.WRITING
    for module, names in _imports("index").items():
        assert not _outside(_modules_of(names, "search"), allowed), module
        assert not _modules_of(names, "web"), module


def test_every_module_named_in_the_public_face_exists():
    for module in search.PUBLIC | search.WRITING:
        path = ROOT / Path(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module
