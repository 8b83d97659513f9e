"""Keep Python's cyclic garbage collector off the objects a worker keeps.

A serving worker keeps its index generation's objects: tens of thousands of
long-lived ones (its readers, its vocabulary, the caches' keys). Each full
collection walks them all: at a million articles it took up to 50 ms, three
times over the typing benchmark's log, each time inside whichever search
happened to allocate. Once a generation is settled (its vocabulary built), its
objects are frozen (``gc.freeze``): the collector leaves them alone, and freed
objects are still freed as their references go. When a later generation
settles, the frozen objects are released and collected once first, so the
replaced generation's cycles do not outlive it.

A serving engine settles this way (``SearchEngine(serving=True)``, the web
app's); other users of the engine (the command line, tests, benchmarks in
process) leave their process's collector as it is.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def settle_long_lived() -> None:
    """Collect once, then freeze every object the process holds now."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
