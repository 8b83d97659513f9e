"""One indexer at a time per index folder: an advisory lock that dies with its process."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "indexer.lock"


class IndexLockedError(RuntimeError):
    """Another indexer holds the index folder."""


@contextmanager
def indexer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the folder's indexer lock, or raise IndexLockedError at once.

    flock is released by the kernel when the holder exits, even on SIGKILL,
    so a killed indexer never leaves a stale lock behind.
    """
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    path = Path(index_dir) / LOCK_FILE
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise IndexLockedError(
                f"another indexer is running on {index_dir} (pid {holder}); "
                "wait for it to finish, then run this again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
