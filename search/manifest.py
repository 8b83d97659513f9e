"""What a commit wrote, recorded so that a damaged index is noticed when it is opened.

Each commit writes ``_<index>_<generation>.manifest`` beside Whoosh's table of
contents (TOC): every file the generation needs (its TOC and its segments'
files) with its size and CRC-32, and when it was committed. The manifest and
the files it lists are flushed to disk (fsync) before the TOC is renamed into
place, so after a power cut a generation is either whole and listed or
detectably not. Opening checks sizes and checksums; files already checked by
this process (same inode, size and modification time) are not read again.
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
_checked: dict[tuple[str, int, int, int], int] = {}  # (path, inode, size, mtime) -> CRC-32


class ManifestError(ValueError):
    """A manifest that cannot be read: cut short, overwritten, not JSON."""


def manifest_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}.manifest"


def manifest_pattern(indexname: str) -> re.Pattern:
    return re.compile(rf"^_{re.escape(indexname)}_([0-9]+)\.manifest$")


def fsync_path(path: Path) -> None:
    """Flush a file's data (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all, on disk before this returns (temp, fsync, rename)."""
    temporary = path.with_name(f"{path.name}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    fsync_path(path.parent)


def checksum(path: Path) -> tuple[int, int]:
    """(size, CRC-32) of a file, read in 1 MB pieces."""
    crc = 0
    size = 0
    with open(path, "rb") as stream:
        while piece := stream.read(CHUNK):
            crc = zlib.crc32(piece, crc)
            size += len(piece)
    return size, crc


@dataclass(frozen=True)
class Manifest:
    generation: int
    committed_at: float  # seconds since the epoch
    files: dict[str, tuple[int, int]]  # name -> (size, CRC-32)

    def write(self, folder: Path, indexname: str) -> None:
        data = {
            "generation": self.generation,
            "committed_at": self.committed_at,
            "files": {name: list(entry) for name, entry in sorted(self.files.items())},
        }
        write_durably(
            Path(folder) / manifest_name(indexname, self.generation),
            json.dumps(data, indent=1).encode(),
        )

    @classmethod
    def new(cls, generation: int, files: dict[str, tuple[int, int]]) -> Manifest:
        return cls(generation, time.time(), files)

    @classmethod
    def read(cls, folder: Path, indexname: str, generation: int) -> Manifest | None:
        """The generation's manifest; None when it has none. Raises ManifestError."""
        path = Path(folder) / manifest_name(indexname, generation)
        try:
            data = json.loads(path.read_bytes())
            manifest = cls(
                int(data["generation"]),
                float(data["committed_at"]),
                {str(name): (int(size), int(crc)) for name, (size, crc) in data["files"].items()},
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise ManifestError(f"{path.name} is unreadable ({error})") from None
        if manifest.generation != generation:
            raise ManifestError(f"{path.name} names generation {manifest.generation}")
        return manifest

    def problems(self, folder: Path) -> list[str]:
        """What is wrong with the files listed, each as ``name: what``; empty when all is well."""
        found = []
        for name, (size, crc) in sorted(self.files.items()):
            path = Path(folder) / name
            try:
                stat = path.stat()
            except FileNotFoundError:
                found.append(f"{name}: missing")
                continue
            if stat.st_size != size:
                found.append(f"{name}: {stat.st_size:,} bytes, {size:,} when committed")
                continue
            key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if key not in _checked:
                _checked[key] = checksum(path)[1]
            if _checked[key] != crc:
                found.append(f"{name}: contents changed since the commit (checksum differs)")
        return found
