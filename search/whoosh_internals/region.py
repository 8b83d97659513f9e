"""Where a segment's file is on disk, read with ``os.pread`` on a descriptor of its own.

Whoosh's compound storage reads a part of a segment through a file object made
for it: a seek and a read of the shared, buffered compound file, whose 8 KB
buffer is refilled at every jump. A terms-table look-up jumps three times (the
hash slot, the key, the term info): about 60 µs, and a word read from a
million articles' 18 segments is looked up in each of them. A pread is one
system call of the bytes wanted and moves no shared file position. A
segment's files are written once and never changed; a descriptor keeps
reading the one it opened even after a merge deletes it.
"""

from __future__ import annotations

import os
import weakref

import numpy as np
from whoosh.filedb.compound import SubFile


class FileRegion:
    """A file Whoosh opened (a part of a segment's compound file, or a file of its own)."""

    def __init__(self, path: str, start: int):
        self._start = start
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    @classmethod
    def of(cls, file) -> FileRegion | None:
        """The region of a StructFile Whoosh opened; None where it is not on disk."""
        inner = getattr(file, "file", None)
        if isinstance(inner, SubFile):  # a part of the segment's compound file
            outer = inner._file  # the compound file (a StructFile's file, or the file)
            path = getattr(getattr(outer, "file", outer), "name", None)
            start = inner._offset
        else:
            path, start = getattr(inner, "name", None), 0
        if not isinstance(path, str) or not os.path.isfile(path):
            return None
        return cls(path, start)

    def bytes_at(self, at: int, size: int) -> bytes:
        """``size`` bytes from ``at`` (fewer at the end of the file)."""
        return os.pread(self._fd, size, self._start + at)

    def exactly(self, at: int, size: int) -> bytes:
        """``size`` bytes from ``at``; OSError if the file ends before."""
        data = self.bytes_at(at, size)
        if len(data) != size:
            raise OSError(f"read {len(data)} of {size} bytes at {at}")
        return data

    def read(self, at: int, count: int, dtype: np.dtype) -> np.ndarray:
        """``count`` values of ``dtype`` from ``at``."""
        return np.frombuffer(self.exactly(at, count * dtype.itemsize), dtype=dtype)
