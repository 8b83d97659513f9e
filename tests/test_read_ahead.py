"""A serving engine has its generation's segment files read ahead (search.storage.read_ahead)."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import pytest

from search.engine import SearchEngine
from search.storage import read_ahead as read_ahead_module
from search.storage.read_ahead import STEP_BYTES, read_ahead, segment_files


@pytest.fixture()
def advised(monkeypatch) -> list[tuple[str, int, int, int]]:
    """Every posix_fadvise call, as (path, offset, length, advice), the call itself made."""
    calls = []
    advise = os.posix_fadvise

    def recorded(descriptor, offset, length, advice):
        calls.append((os.readlink(f"/proc/self/fd/{descriptor}"), offset, length, advice))
        advise(descriptor, offset, length, advice)

    monkeypatch.setattr(read_ahead_module.os, "posix_fadvise", recorded)
    return calls


def _ranges(calls, path: Path) -> list[tuple[int, int]]:
    return sorted((offset, length) for name, offset, length, _ in calls if name == str(path))


def test_the_segment_files_are_every_segment_of_the_generation_and_nothing_else(demo_index):
    engine = SearchEngine(demo_index, semantic=False)
    generation = engine._current
    reader = generation.searcher.reader()
    files = segment_files(reader, generation.build)
    ids = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    assert files and all(path.is_file() and path.parent == generation.build for path in files)
    assert {path.name.split(".")[0] for path in files} == ids
    assert not any(path.suffix == ".toc" for path in files)


def test_every_byte_of_every_file_is_asked_for_in_steps(tmp_path, advised):
    big, small, gone = tmp_path / "big.seg", tmp_path / "small.seg", tmp_path / "gone.seg"
    big.write_bytes(b"x" * (2 * STEP_BYTES + 3))
    small.write_bytes(b"y" * 10)
    asked = read_ahead([big, gone, small], available=1 << 40)
    assert asked == 2 * STEP_BYTES + 3 + 10
    assert _ranges(advised, big) == [(0, STEP_BYTES), (STEP_BYTES, STEP_BYTES), (2 * STEP_BYTES, 3)]
    assert _ranges(advised, small) == [(0, 10)]
    assert {advice for *_, advice in advised} == {os.POSIX_FADV_WILLNEED}


def test_nothing_is_read_ahead_where_the_files_would_take_over_half_the_memory(tmp_path, advised):
    path = tmp_path / "segment.seg"
    path.write_bytes(b"z" * 1000)
    assert read_ahead([path], available=1999) == 0
    assert read_ahead([path], available=None) == 0
    assert not advised
    assert read_ahead([path], available=2000) == 1000


def _settled() -> None:
    for thread in threading.enumerate():
        if thread.name == "settle":
            thread.join(30)


def _asked_for(advised, folder: Path, expected: set[Path]) -> set[Path]:
    """The files under ``folder`` advised so far, once they are ``expected`` or after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        asked = {Path(name) for name, *_ in list(advised) if name.startswith(str(folder))}
        if asked == expected or time.monotonic() > deadline:
            return asked
        time.sleep(0.01)


@pytest.mark.parametrize("switch", ["", "0"])
def test_a_serving_engine_reads_its_generation_ahead_unless_switched_off(
    demo_index, advised, monkeypatch, switch
):
    monkeypatch.setenv("ARTICLE_SEARCH_READ_AHEAD", switch)
    _settled()  # engines other tests opened
    advised.clear()
    try:
        engine = SearchEngine(demo_index, semantic=False, serving=True)
        assert engine._current.expander.ready(30)
        _settled()
    finally:
        gc.unfreeze()
    generation = engine._current
    files = set(segment_files(generation.searcher.reader(), generation.build))
    if switch == "0":
        time.sleep(0.5)  # read ahead, a generation this small would be asked for by now
        assert not _asked_for(advised, demo_index, set())
    else:
        assert _asked_for(advised, demo_index, files) == files
