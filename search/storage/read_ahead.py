"""The served generation's segment files read ahead into the page cache, in the background.

A search reads posting lists, terms-table slots, field lengths and stored
articles with small reads scattered over the segments' files. On a cold
machine (a boot, a new generation's segments after an import) each first
read of a page waits for the disk: at a million articles, typing the
benchmark's log in process took 49 to 51 ms at p95 from a cold page cache,
35 to 39 ms with the files cached, and 35 to 39 ms from a cold page cache
with the files read ahead first. So a serving engine asks the kernel to read
each segment file ahead as soon as it opens a generation
(``posix_fadvise(WILLNEED)``): the kernel reads asynchronously, with no copy
into the process and nothing added to a worker's memory (the page cache is
shared by the workers and given back under pressure). Asked for a whole file
at once, the kernel read only part of it; asked 2 MB at a time, all of it
(2.5 GB in 0.8 s at a million). Pages already cached cost a look-up, so a
second worker, or the next generation sharing most segments, adds next to
nothing.

Not done when the files would take more than half of the memory available
(they would push each other, and everything else, out), nor with
ARTICLE_SEARCH_READ_AHEAD=0.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from whoosh.reading import IndexReader

log = logging.getLogger(__name__)

STEP_BYTES = 2 * 1024 * 1024
# Asked for at this pace at most, so that the reads the searches wait for are not queued
# behind all of it: at a million articles, unpaced, a new worker's first answer came
# 1.6 s later (5.1 to 5.4 s from a cold page cache, against 3.4 to 4.5 without reading
# ahead); at 400 MB/s, 0.2 s later (4.6 to 4.7 s).
BYTES_PER_SECOND = 400 * 1000 * 1000
# The files are read ahead only when they take at most this share of the memory available.
MEMORY_SHARE = 0.5


def segment_files(reader: IndexReader, folder: Path) -> list[Path]:
    """The files in ``folder`` of the segments ``reader`` reads (a compound file, or each
    of a segment's own files)."""
    files = []
    for leaf, _ in reader.leaf_readers():
        segment = leaf.segment()
        if segment is not None:
            files.extend(sorted(folder.glob(segment.make_filename(".*"))))
    return files


def available_memory() -> int | None:
    """The memory the kernel says is available (``MemAvailable``), in bytes; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def read_ahead(
    files: list[Path], available: int | None, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Ask the kernel to read ``files`` into the page cache, at BYTES_PER_SECOND at most
    (``sleep`` between steps); the bytes asked for.

    Nothing is asked when they would take more than MEMORY_SHARE of ``available``
    (unknown: nothing either). A file gone meanwhile (a merge deleted it) is passed over.
    """
    sizes = {}
    for path in files:
        try:
            sizes[path] = path.stat().st_size
        except OSError:
            continue
    total = sum(sizes.values())
    if available is None or total > available * MEMORY_SHARE:
        log.info("not reading the index ahead: %d MB, %s available", total >> 20, available)
        return 0
    asked = 0
    for path, size in sizes.items():
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            for start in range(0, size, STEP_BYTES):
                step = min(STEP_BYTES, size - start)
                os.posix_fadvise(descriptor, start, step, os.POSIX_FADV_WILLNEED)
                sleep(step / BYTES_PER_SECOND)
            asked += size
        finally:
            os.close(descriptor)
    return asked


def read_ahead_in_background(reader: IndexReader, folder: Path) -> None:
    """``read_ahead`` of the segments of ``reader`` (files in ``folder``), from an operating
    system thread of its own, beside the searches (the calls leave the interpreter's lock).

    A gevent worker's ``threading`` makes greenlets, and its ``time.sleep`` yields to the
    worker's loop: a greenlet reading ahead would take turns with the searches (2 MB
    between two requests), so there the functions gevent replaced are used.
    """
    start, sleep = _unpatched("_thread", "start_new_thread"), _unpatched("time", "sleep")
    start(read_ahead, (segment_files(reader, folder), available_memory(), sleep))


def _unpatched(module: str, name: str):
    """``module.name`` as the standard library has it, even where gevent patched it."""
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched(module):
        return gevent_monkey.get_original(module, name)
    return getattr(importlib.import_module(module), name)
