"""Whoosh's private names are used only in search/whoosh_internals, and indexes written
before that package existed still open."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import shutil
import warnings
from functools import cache
from pathlib import Path

import whoosh

from search.engine import SearchEngine
from search.results import SearchRequest

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = ROOT / "search" / "whoosh_internals"
CHECKED = ("search", "index", "web", "bench", "tests")
# An index the code before search/whoosh_internals wrote (two demo articles): its
# segments name their codec search.codec.ArticleCodec.
INDEX_BEFORE_BOUNDARY = ROOT / "tests" / "fixtures" / "index-written-before-boundary"
# Our own methods that happen to share a name with a private method of Whoosh's.
OWN_METHODS_NAMED_AS_WHOOSH = {"_expand", "_parse", "_read"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@cache
def whoosh_private_names() -> frozenset[str]:
    """Every private identifier in Whoosh's source (functions, attributes, constants)."""
    names = set()
    for path in Path(whoosh.__file__).parent.rglob("*.py"):
        names.update(re.findall(r"\b(_[A-Za-z]\w*)\b", path.read_text(encoding="utf-8")))
    return frozenset(name for name in names if _private(name))


@cache
def whoosh_private_methods() -> frozenset[str]:
    """The private methods of Whoosh's classes: a mixin of ours must not define one."""
    names = set()
    for info in pkgutil.walk_packages(whoosh.__path__, "whoosh."):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                module = importlib.import_module(info.name)
        except ImportError:  # a backend Whoosh supports and we do not install
            continue
        for cls in vars(module).values():
            if isinstance(cls, type) and cls.__module__ == info.name:
                names.update(k for k, v in vars(cls).items() if _private(k) and callable(v))
    return frozenset(names)


def _whoosh_names_of(cls: type) -> set[str]:
    """The private names of the Whoosh classes ``cls`` inherits from (methods, attributes)."""
    names = set()
    for base in cls.__mro__:
        if base.__module__.split(".")[0] == "whoosh":
            names |= _private_names_of_whoosh_class(base)
    return names


@cache
def _private_names_of_whoosh_class(base: type) -> frozenset[str]:
    names = {name for name in vars(base) if _private(name)}
    names.update(re.findall(r"self\.(_[A-Za-z]\w*)", inspect.getsource(base)))
    return frozenset(names)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _checked_files() -> list[Path]:
    files = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if BOUNDARY not in path.parents:
                files.append(path)
    return files


def _problems(path: Path, module_name: str | None = None) -> list[str]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    where = path.name if module_name else path.relative_to(ROOT)
    problems = []
    modules = set()  # names bound to imported modules other than whoosh's
    classes_and_attributes = []  # in the order ast.walk meets them
    for node in ast.walk(tree):  # once over the tree: it is most of the check's time
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            problems += [
                f"{where}:{node.lineno} imports {a.name}" for a in node.names if _private(a.name)
            ]
        elif isinstance(node, ast.Import):
            modules.update(
                (a.asname or a.name).split(".")[0]
                for a in node.names
                if not a.name.startswith("whoosh")
            )
        elif isinstance(node, ast.ClassDef) or (
            isinstance(node, ast.Attribute) and _private(node.attr)
        ):
            classes_and_attributes.append(node)
    whoosh_classes = {}
    if "whoosh" in text and path.parts[-2] != "bench":
        module = importlib.import_module(module_name or _module_name(path))
        for node in tree.body:
            cls = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
            if isinstance(cls, type) and any(
                base.__module__.split(".")[0] == "whoosh" for base in cls.__mro__
            ):
                whoosh_classes[node] = _whoosh_names_of(cls)
    inside = set()
    for node, names in whoosh_classes.items():
        for child in ast.walk(node):
            inside.add(id(child))
            if isinstance(child, ast.FunctionDef) and child.name in names:
                problems.append(f"{where}:{child.lineno} overrides Whoosh's {child.name}")
            if (
                isinstance(child, ast.Attribute)
                and child.attr in names
                and isinstance(child.value, ast.Name)
                and child.value.id in ("self", "cls")
            ):
                problems.append(f"{where}:{child.lineno} uses Whoosh's self.{child.attr}")
    whoosh_methods = whoosh_private_methods() - OWN_METHODS_NAMED_AS_WHOOSH
    whoosh_names, own_names = whoosh_private_names(), our_private_names()
    for node in classes_and_attributes:
        if isinstance(node, ast.ClassDef):
            if node not in whoosh_classes:
                problems += [
                    f"{where}:{child.lineno} defines Whoosh's {child.name}"
                    for child in node.body
                    if isinstance(child, ast.FunctionDef) and child.name in whoosh_methods
                ]
        elif (
            node.attr in whoosh_names
            and node.attr not in own_names
            and not (isinstance(node.value, ast.Name) and node.value.id in modules)
            and id(node) not in inside
        ):
            problems.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
    return problems


@cache
def our_private_names() -> frozenset[str]:
    """Private names our own code defines outside the boundary (functions, attributes)."""
    names = set()
    for path in _checked_files():
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"def (_[A-Za-z]\w*)", text))
        names.update(re.findall(r"(?:self|cls)\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=[^=]", text))
    return frozenset(names)


def test_no_private_whoosh_name_outside_the_boundary():
    problems = [problem for path in _checked_files() for problem in _problems(path)]
    assert problems == []


def test_the_check_finds_private_whoosh_names(tmp_path, monkeypatch):
    """The check itself: each kind of use it looks for, in a module written for it."""
    sample = tmp_path / "boundary_sample.py"
    monkeypatch.syspath_prepend(tmp_path)
    sample.write_text(
        "from whoosh.filedb.filetables import _lengths\n"
        "from whoosh.writing import SegmentWriter\n\n\n"
        "class Writer(SegmentWriter):\n"
        "    def _flush_segment(self):\n"
        "        self._check_state()\n\n\n"
        "class Hook:\n"
        "    def _commit_toc(self, segments):\n"
        "        pass\n\n\n"
        "def read(matcher):\n"
        "    return matcher._data\n",
        encoding="utf-8",
    )
    found = _problems(sample, "boundary_sample")
    assert [problem.split(" ", 1)[1] for problem in found] == [
        "imports _lengths",
        "overrides Whoosh's _flush_segment",
        "uses Whoosh's self._check_state",
        "defines Whoosh's _commit_toc",
        "uses matcher._data",
    ]


def test_an_index_written_before_the_boundary_opens_and_searches(tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(INDEX_BEFORE_BOUNDARY, index_dir, symlinks=True)
    engine = SearchEngine(index_dir)
    result = engine.search(SearchRequest(q="barges"))
    titles = [hit.title for hit in result.hits]
    assert titles == ["Low Water on the Rhine Leaves Barges Half Loaded"]
    assert engine.search(SearchRequest(q="")).total == 2
