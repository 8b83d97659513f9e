"""The index folder read while another process swaps builds under it, as the indexer's
``--rebuild`` does: reading which generation is served, and opening it, never fails.

A rebuild makes its build live, then deletes the build it replaced. A reader that named
the old build a moment before finds it gone: it reads the folder again, it does not fail
(the failure CI met: ``FileNotFoundError`` from ``/healthz`` mid-rebuild); an engine that
chose it and opens it too late keeps answering from the generation it has open.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder

pytestmark = pytest.mark.slow

SWAP_SECONDS = 4.0


def swap_in(folder: IndexFolder, template: Path) -> None:
    """A copy of ``template`` made live, the build it replaces removed (as ``--rebuild`` does)."""
    build = folder.new_build()
    shutil.copytree(template, build, dirs_exist_ok=True)
    folder.make_live(build)
    folder.remove_builds_but(folder.builds_in_use())


def swap_builds(index_dir: str, template: str, stop_at: float, pause: float) -> None:
    """Swap builds in until ``stop_at`` (time.monotonic), ``pause`` seconds apart."""
    while time.monotonic() < stop_at:
        swap_in(IndexFolder(index_dir), Path(template))
        time.sleep(pause)


def read_while_swapping(
    index_dir: Path, template: Path, read: Callable[[], None], pause: float = 0.0
) -> list[str]:
    """``read()`` over and over while another process swaps builds in for SWAP_SECONDS,
    ``pause`` seconds apart; what each failing read raised."""
    swapper = multiprocessing.get_context("spawn").Process(
        target=swap_builds,
        args=(str(index_dir), str(template), time.monotonic() + SWAP_SECONDS, pause),
    )
    errors, reads = [], 0
    swapper.start()
    try:
        while swapper.is_alive() or reads == 0:
            try:
                read()
            except Exception as error:  # every failure is a finding, whatever its type
                errors.append(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
            reads += 1
    finally:
        swapper.join()
    assert swapper.exitcode == 0
    return errors


def test_served_generation_is_read_while_builds_are_swapped(demo_index, tmp_path):
    template = IndexFolder(demo_index).live_build()
    index_dir = tmp_path / "index"
    folder = IndexFolder(index_dir)
    swap_in(folder, template)
    generation = folder.served().generation.number
    builds_seen = set()

    def read() -> None:
        folder.fingerprint()
        served = folder.served()
        builds_seen.add(served.generation.build)
        assert served.generation.number == generation

    errors = read_while_swapping(index_dir, template, read)
    assert errors == [], errors[:5]
    assert len(builds_seen) > 10, "the builds hardly changed under the reader"


def test_engine_answers_while_builds_are_swapped(demo_index, tmp_path):
    template = IndexFolder(demo_index).live_build()
    index_dir = tmp_path / "index"
    swap_in(IndexFolder(index_dir), template)
    engine = SearchEngine(index_dir, refresh_seconds=0.0)
    expected = engine.search(SearchRequest(q="heat")).total
    generations = set()

    def read() -> None:
        generations.add(engine.stats().generation)
        assert engine.search(SearchRequest(q="hea")).total > 0
        assert engine.search(SearchRequest(q="heat")).total == expected

    # A swap every 50 ms: a generation takes longer to open than a swap to make, and an
    # engine keeps its open generation while each one it opens is removed under it.
    errors = read_while_swapping(index_dir, template, read, pause=0.05)
    assert errors == [], errors[:5]
    assert len(generations) > 3, "the engine hardly saw a new generation"
