"""What a commit wrote, recorded so that a damaged index is noticed when it is opened.

Each commit writes ``_<index>_<generation>.manifest`` beside Whoosh's table of
contents (TOC): every file the generation needs (its TOC and its segments'
files) with its size and CRC-32, and when it was committed. The manifest and
the files it lists are flushed to disk (fsync) before the TOC is renamed into
place, so after a power cut a generation is either whole and listed or
detectably not. Opening checks sizes and checksums.

A file's checksum is worked out once, not by every process on every open:
each build folder keeps a record of the checksums already read
(``_verified_checksums.json``, VerifiedChecksums), keyed by the file's inode,
size and modification and change times, which any rewrite of the file
changes. Without it, every indexer run and every server worker read the
whole index (1.7 GB at a million articles). A commit records the files it
wrote as it checksums them.
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
VERIFIED_NAME = "_verified_checksums.json"


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


def _identity(stat: os.stat_result) -> list[int]:
    """What changes whenever a file is written to: its inode, size, modification and
    change times (the change time cannot be set back by hand)."""
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


class VerifiedChecksums:
    """The checksums already read of one folder's files, as recorded in VERIFIED_NAME.

    A record that is missing or unreadable is empty: its checksums are read again.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / VERIFIED_NAME
        try:
            self._entries: dict[str, list[int]] = json.loads(self.path.read_bytes())
            if not isinstance(self._entries, dict):
                self._entries = {}
        except (OSError, ValueError):
            self._entries = {}
        self._changed = False

    def crc(self, name: str, stat: os.stat_result) -> int | None:
        """The recorded CRC-32 of ``name`` if the file is unchanged since, else None."""
        entry = self._entries.get(name)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == _identity(stat):
            return entry[4]
        return None

    def remember(self, name: str, stat: os.stat_result, crc: int) -> None:
        self._entries[name] = [*_identity(stat), crc]
        self._changed = True

    def checksum(self, name: str, stat: os.stat_result | None = None) -> tuple[int, int]:
        """(size, CRC-32) of the folder's file ``name``: recorded, or read and recorded.

        ``stat``: the file's, when the caller has just taken it.
        """
        path = self.path.parent / name
        stat = stat or path.stat()
        crc = self.crc(name, stat)
        if crc is None:
            size, crc = checksum(path)
            # Remembered only if nothing wrote to it while it was read.
            if size == stat.st_size and _identity(path.stat()) == _identity(stat):
                self.remember(name, stat, crc)
            return size, crc
        return stat.st_size, crc

    def save(self) -> None:
        """Write the record if it changed, leaving out files no longer in the folder.

        Not flushed to disk: a record lost in a power cut only means reading again.
        Each process writes its own temporary file, renamed over the record.
        """
        if not self._changed:
            return
        present = set(os.listdir(self.path.parent))
        kept = {name: entry for name, entry in self._entries.items() if name in present}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(kept))
            os.replace(temporary, self.path)
        except OSError:  # a read-only copy of the index: checked again next time
            temporary.unlink(missing_ok=True)
        self._changed = False


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
        verified = VerifiedChecksums(folder)
        for name, (size, crc) in sorted(self.files.items()):
            try:
                stat = (Path(folder) / name).stat()
            except FileNotFoundError:
                found.append(f"{name}: missing")
                continue
            if stat.st_size != size:
                found.append(f"{name}: {stat.st_size:,} bytes, {size:,} when committed")
                continue
            if verified.checksum(name, stat)[1] != crc:
                found.append(f"{name}: contents changed since the commit (checksum differs)")
        verified.save()
        return found
