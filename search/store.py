"""Where the live index lives inside an index folder, and how it is swapped.

An index folder holds ``builds/<name>/`` (complete Whoosh indexes) and a
``current`` symlink naming the live one. A rebuild writes a new build beside
the live one and replaces the symlink atomically, so a reader always opens a
complete index: the old one or the new one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

CURRENT_LINK = "current"
BUILDS_DIR = "builds"
INDEX_NAME = "articles"


class IndexNotFoundError(LookupError):
    """The index folder holds no complete index yet."""


def live_build(index_dir: Path) -> Path:
    """The folder of the live build, resolved once (the link can change later)."""
    link = Path(index_dir) / CURRENT_LINK
    try:
        target = os.readlink(link)
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFoundError(
            f"no index in {index_dir}: run 'article-search index PATH' first"
        ) from None
    return (link.parent / target).resolve()


def open_live_index(index_dir: Path) -> tuple[FileIndex, Path]:
    """Open the live build read-only; returns the index and its folder.

    Without mmap: Whoosh maps a compound segment, then copies each part it
    opens into a BytesIO, in every process, so each worker would hold its own
    copy of the index. Plain file reads answer as fast (worker memory:
    ``make bench``).
    """
    build = live_build(index_dir)
    if not whoosh_index.exists_in(build, indexname=INDEX_NAME):
        raise IndexNotFoundError(f"no index in {build}")
    storage = FileStorage(str(build), supports_mmap=False, readonly=True)
    return storage.open_index(INDEX_NAME), build


def new_build_dir(index_dir: Path) -> Path:
    """A fresh, empty build folder beside the live one."""
    builds = Path(index_dir) / BUILDS_DIR
    builds.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    path = builds / name
    path.mkdir()
    return path


def make_live(index_dir: Path, build: Path) -> None:
    """Point ``current`` at ``build`` atomically (rename over the old link)."""
    index_dir = Path(index_dir)
    temporary = index_dir / f".{CURRENT_LINK}.{os.getpid()}"
    if temporary.is_symlink():
        temporary.unlink()
    os.symlink(os.path.relpath(build, index_dir), temporary)
    os.replace(temporary, index_dir / CURRENT_LINK)
