"""search.deadline: one Deadline from a budget of seconds, or never."""

import math
import time

from search.deadline import NEVER, Deadline


def test_a_budget_runs_out_and_never_does_not():
    assert Deadline.after(0).exceeded()  # a budget of nothing is past at once
    assert Deadline.after(-1).remaining() == 0
    started = time.perf_counter()
    later = Deadline.after(60, start=started)
    assert not later.exceeded() and 59 < later.remaining() <= 60
    assert Deadline.after(0, start=started - 1).exceeded()  # counted from ``start``
    assert not NEVER.exceeded() and NEVER.remaining() == math.inf
    assert not Deadline.after(None).exceeded()  # no budget: no limit


def test_two_deadlines_at_one_moment_are_two_deadlines():
    """The matcher keeps the last answer within one search: its deadline is who asked."""
    assert Deadline(5.0) != Deadline(5.0)
    assert Deadline.never() is not NEVER
