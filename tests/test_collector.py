"""The collector leaves a settled worker's objects alone (search.collector)."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from search.collector import settle_long_lived
from search.engine import SearchEngine
from web import create_app
from web import engine as web_engine


class Node:
    pass


def test_a_settled_generation_is_frozen_and_a_later_settling_collects_the_old_cycles():
    kept = [Node() for _ in range(1000)]  # long-lived, as a generation's objects
    try:
        settle_long_lived()
        assert gc.get_freeze_count() >= len(kept)
        cycle = Node()
        cycle.self = cycle
        gone = weakref.ref(cycle)
        settle_long_lived()
        del cycle
        gc.collect()
        assert gone() is not None  # frozen: the collector leaves it alone
        settle_long_lived()  # a later settling collects it before freezing again
        assert gone() is None
    finally:
        gc.unfreeze()


def _settled_soon() -> None:
    deadline = time.monotonic() + 30
    while not gc.get_freeze_count():
        assert time.monotonic() < deadline, "the generation was never settled"
        time.sleep(0.01)


def test_the_engine_settles_its_generation_once_its_vocabulary_is_built(demo_index):
    gc.unfreeze()
    try:
        engine = SearchEngine(demo_index, semantic=False, serving=True)
        assert engine._current.expander.ready(30)
        _settled_soon()
    finally:
        gc.unfreeze()


def test_only_a_serving_engine_freezes_its_process(demo_index):
    for thread in threading.enumerate():  # web apps other tests opened, settling
        if thread.name == "settle":
            thread.join(30)
    gc.unfreeze()
    try:
        engine = SearchEngine(demo_index, semantic=False)
        assert engine._current.expander.ready(30)
        time.sleep(0.2)
        assert not gc.get_freeze_count()  # the command line's, the tests' engines
        app = create_app({"INDEX_DIR": demo_index, "TESTING": True})
        with app.app_context():
            web_engine()  # the web app's engine, as a worker opens it
        _settled_soon()
    finally:
        gc.unfreeze()
