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

BUDGET_ENV = "ARTICLE_SEARCH_INDEX_MEMORY"
DEFAULT_BUDGET_MB = 1024
# The smallest budget that still leaves each process room for a useful segment.
MIN_BUDGET_MB = 256
_PAGE = os.sysconf("SC_PAGE_SIZE")


class BudgetError(ValueError):
    """A memory budget that is not a number of megabytes, or too small to index with."""


def budget_mb(given: int | None = None) -> int:
    """The budget in MB: ``given`` (``--memory``), else ARTICLE_SEARCH_INDEX_MEMORY, else 1024."""
    if given is None:
        configured = os.environ.get(BUDGET_ENV, "").strip()
        if not configured:
            return DEFAULT_BUDGET_MB
        if not configured.isdigit():
            raise BudgetError(f"{BUDGET_ENV} must be a number of megabytes, not {configured!r}")
        given = int(configured)
    if given < MIN_BUDGET_MB:
        raise BudgetError(f"a memory budget of {given} MB is too small (at least {MIN_BUDGET_MB})")
    return given


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
