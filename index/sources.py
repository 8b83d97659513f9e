"""Find the article files under the paths given to the indexer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TEXT_EXPORT_SUFFIXES = {".txt", ".md"}
JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}


@dataclass(frozen=True)
class SourceFile:
    """One file to import: its path, the root its article ids are relative to."""

    path: Path
    root: Path
    stamp: str  # size and modification time: unchanged stamp, unchanged file

    @property
    def is_json_lines(self) -> bool:
        return self.path.suffix.lower() in JSON_LINES_SUFFIXES

    @property
    def article_id(self) -> str:
        """The text export's id: the path relative to the import root."""
        return self.path.relative_to(self.root).as_posix()


def file_stamp(path: Path) -> str:
    """Size and modification time; empty when the file cannot be looked at (a dangling
    link), so it is read, and its problem reported, like any other file."""
    try:
        status = path.stat()
    except OSError:
        return ""
    return f"{status.st_size}:{status.st_mtime_ns}"


def is_article_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in TEXT_EXPORT_SUFFIXES or suffix in JSON_LINES_SUFFIXES


def find_sources(path: Path) -> list[SourceFile]:
    """The article files at ``path`` (a file, or a folder walked recursively).

    Hidden files and folders are passed over, as are files of other kinds.
    Sorted, so ids and progress are the same from run to run.
    """
    path = Path(path).absolute()
    if path.is_file():
        return [SourceFile(path, path.parent, file_stamp(path))]
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            candidate = Path(folder, name)
            if not name.startswith(".") and is_article_file(candidate):
                found.append(SourceFile(candidate, path, file_stamp(candidate)))
    return found


def covers(path: Path, source_file: str) -> bool:
    """Whether an article imported from ``source_file`` belongs under ``path``.

    Used to find articles whose file has gone from a folder being re-imported.
    """
    path = Path(path).absolute()
    return source_file == str(path) or source_file.startswith(str(path) + os.sep)
