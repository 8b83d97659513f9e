"""One indexer at a time per index folder: an advisory lock that dies with its process."""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

LOCK_FILE = "indexer.lock"
_PR_SET_PDEATHSIG = 1

# File descriptors of the locks this process holds, and the pid that forks.
_held_locks: set[int] = set()
_forking_pid: int | None = None


class IndexLockedError(RuntimeError):
    """Another indexer holds the index folder."""


def _before_fork() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _after_fork_in_child() -> None:
    """A process forked while the lock is held (Whoosh's indexing subprocesses).

    A forked child shares the lock's open file, and flock belongs to the open
    file: a child outliving a SIGKILLed indexer would keep the folder locked,
    and wait forever for work from the dead parent. So the child lets go of
    the lock (its copy of the descriptor now reads /dev/null) and asks the
    kernel to kill it when the indexer dies.
    """
    if not _held_locks:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    for fd in _held_locks:
        os.dup2(null, fd)
    os.close(null)
    _held_locks.clear()
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if _forking_pid is not None and os.getppid() != _forking_pid:
        os._exit(1)  # the indexer died before the kernel could be asked


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


@contextmanager
def indexer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the folder's indexer lock, or raise IndexLockedError at once.

    flock is released by the kernel when the holder exits, even on SIGKILL,
    so a killed indexer never leaves a stale lock behind (see
    ``_after_fork_in_child`` for the processes it forks).
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
        _held_locks.add(handle.fileno())
        try:
            yield
        finally:
            _held_locks.discard(handle.fileno())
