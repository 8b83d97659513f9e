"""The indexer's memory budget: how much its processes may hold, and what each holds now.

A first import keeps each new segment in memory until it is written. With a
budget, each indexing process writes its segment out and starts another one
when its share of the budget is used (see index.segment_writer), so an
import of any size runs in the same memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

from search import settings
from search.settings import SettingError

_PAGE = os.sysconf("SC_PAGE_SIZE")


def budget_mb(given: int | None = None) -> int:
    """The budget in MB: ``given`` (``--memory``), else ARTICLE_SEARCH_INDEX_MEMORY, else 1024.

    Both are checked the same way (search.settings.memory_mb); a bad one raises SettingError.
    """
    if given is None:
        return settings.INDEX_MEMORY.read()
    try:
        return settings.memory_mb(str(given))
    except ValueError as error:
        raise SettingError(f"--memory {given}: {error}") from None


def resident_bytes(pid: int | str = "self") -> int:
    """The memory a process holds now (its resident set), in bytes; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give memory freed by a written segment back to the system (glibc keeps it otherwise)."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
