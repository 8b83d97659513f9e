"""When a piece of a search stops early: one Deadline, from a budget of seconds or never.

Every part of a search that can give up part-way (matching, phrase checks,
facet counts, "did you mean", completions) is handed a Deadline and asks it
``exceeded()``; none keeps a clock of its own. A budget of zero seconds is
exceeded at once, which is how a test makes a search run out of time on any
machine, however idle.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)
class Deadline:
    """A moment on the ``time.perf_counter`` clock (``math.inf``: never).

    Compared by identity: two searches' deadlines are two deadlines, even at the
    same moment.
    """

    at: float

    @classmethod
    def after(cls, seconds: float | None, start: float | None = None) -> Deadline:
        """``seconds`` after ``start`` (a perf_counter time; default now); None: never."""
        if seconds is None:
            return cls.never()
        return cls((time.perf_counter() if start is None else start) + seconds)

    @classmethod
    def never(cls) -> Deadline:
        return cls(math.inf)

    def exceeded(self) -> bool:
        """Whether the moment has come (a budget of zero is exceeded at once)."""
        return time.perf_counter() >= self.at

    def remaining(self) -> float:
        """Seconds left, 0 once exceeded, ``math.inf`` for never."""
        return max(0.0, self.at - time.perf_counter())


NEVER = Deadline.never()
