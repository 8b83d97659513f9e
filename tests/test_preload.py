"""Reading a generation's segment files ahead into the page cache (search.storage.preload)."""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import time
from pathlib import Path

import pytest

from search.engine import SearchEngine
from search.storage import preload
from search.storage.index_folder import IndexFolder
from search.storage.preload import Preloader

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="readahead(2) and mincore(2) are Linux's"
)


def _cached_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache (mincore(2) over a mapping)."""
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    with path.open("rb") as file, mmap.mmap(file.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        start = ctypes.c_char.from_buffer(mapped)  # no page is touched: only its address taken
        libc = ctypes.CDLL(None, use_errno=True)
        status = libc.mincore(
            ctypes.c_void_p(ctypes.addressof(start)), ctypes.c_size_t(size), vector
        )
        del start
    assert status == 0, os.strerror(ctypes.get_errno())
    return sum(byte & 1 for byte in vector)


def _uncached_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes whose pages the page cache has dropped."""
    path.write_bytes(os.urandom(size))
    with path.open("rb") as file:
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return path


def _read_ahead_soon(files: list[Path]) -> None:
    """Wait until every page of ``files`` is cached (readahead(2) only starts the reads)."""
    whole = {path: (path.stat().st_size + mmap.PAGESIZE - 1) // mmap.PAGESIZE for path in files}
    deadline = time.monotonic() + 20
    while any(_cached_pages(path) < pages for path, pages in whole.items()):
        assert time.monotonic() < deadline, "the files were not read ahead"
        time.sleep(0.05)


def test_files_are_read_into_the_page_cache_once(tmp_path):
    files = [_uncached_file(tmp_path / f"segment{n}.seg", 4 << 20) for n in range(2)]
    assert [_cached_pages(path) for path in files] == [0, 0]
    preloader = Preloader()
    assert preloader.preload(files) == 2
    _read_ahead_soon(files)
    assert preloader.preload(files) == 0  # asked for already


def test_nothing_is_read_when_disabled_or_larger_than_its_share(tmp_path, monkeypatch):
    path = _uncached_file(tmp_path / "segment.seg", 1 << 20)
    assert Preloader(enabled=False).preload([path]) == 0
    assert Preloader().preload([tmp_path / "gone.seg"]) == 0  # a file deleted since
    monkeypatch.setattr(preload, "PRELOAD_SHARE", 1e-9)  # as if memory were tiny
    assert Preloader().preload([path]) == 0


def test_the_engine_preloads_the_files_of_the_segments_it_serves(demo_index):
    build = IndexFolder(demo_index).served().generation.build
    for path in build.glob("*.seg"):
        with path.open("rb") as file:
            os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    engine = SearchEngine(demo_index, semantic=False, preload=True)
    files = engine._current.segment_files()
    reader = engine._current.searcher.reader()
    segments = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    assert {path.name.split(".")[0] for path in files} == segments
    assert all(path.parent == build and path.exists() for path in files)
    _read_ahead_soon(files)
