"""Read a served generation's segment files into the OS page cache, in the background.

A search reads a few parts of many files: each word a reader types is looked
up in every segment's terms table and its postings read, a few pages here and
there. From disk each page costs about 0.1 ms; from the page cache, 2 µs. On a
machine that keeps the files cached this only matters for the first readers
after a start; on one that drops cached pages nobody has read for a while (a
virtual machine's memory reclaim), every worker start meets a cold index. So a
worker asks the kernel to read each new segment file ahead (``readahead(2)``,
no copy into the process: the pages are the page cache's, shared by every
worker), from a thread of its own once the generation is settled
(search.engine), as Elasticsearch's ``index.store.preload`` does; only when
the files fit in PRELOAD_SHARE of the memory available, so that a large
index never pushes everything else out of the cache.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

PRELOAD_SHARE = 0.5
_CHUNK = 16 * 1024 * 1024  # bytes asked for in one readahead call
log = logging.getLogger(__name__)


def _readahead():
    """glibc's readahead(2), or None where there is none (not Linux)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).readahead
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_size_t]
    function.restype = ctypes.c_ssize_t
    return function


def available_memory() -> int | None:
    """The memory the kernel says is available (MemAvailable), in bytes; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Preloader:
    """Reads files ahead once each (thread-safe): called from a thread of its own, it
    keeps only the names of the files asked for and opens descriptors of its own."""

    def __init__(self, enabled: bool = True):
        self._readahead = _readahead() if enabled else None
        self._asked: set[Path] = set()
        self._lock = threading.Lock()

    def preload(self, paths: Iterable[Path]) -> int:
        """Read ahead the files not asked for before; how many (none when disabled, or when
        they are more than PRELOAD_SHARE of the available memory). The kernel reads them
        in the background: the pages arrive after this returns."""
        if self._readahead is None:
            return 0
        with self._lock:
            new = [Path(path) for path in paths if Path(path) not in self._asked]
            self._asked.update(new)
        sizes = {}
        for path in new:
            try:
                sizes[path] = path.stat().st_size
            except OSError:
                continue
        available = available_memory()
        if not sizes or available is None or sum(sizes.values()) > PRELOAD_SHARE * available:
            return 0
        read = 0
        for path, size in sizes.items():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue  # deleted since (a merge): nothing to read
            try:
                for start in range(0, size, _CHUNK):
                    self._readahead(fd, start, _CHUNK)
            finally:
                os.close(fd)
            read += 1
        return read
