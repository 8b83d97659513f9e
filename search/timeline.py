"""The results over time: how many results fall in each month, or each year.

Per month when the results span two years or less, else per year; every
period from the first result's to the last one's is listed, empty ones too,
so a chart of the buckets has a true axis. web/timeline.py draws them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from search.results import TimelineBucket

MONTHLY_TIMELINE_MAX_MONTHS = 24


def histogram(month: np.ndarray) -> tuple[TimelineBucket, ...]:
    """The buckets of the results whose months (year * 12 + month - 1, -1 when undated) are
    ``month``; none when no result is dated.

    One count per month number (the undated ones in the first, dropped): at a
    million articles, 300,000 results' months take 0.6 ms so, where picking the
    dated ones out first took 2 to 4.
    """
    per_month = np.bincount(month + 1)[1:]
    dated = np.flatnonzero(per_month)
    if not len(dated):
        return ()
    first, last = int(dated[0]), int(dated[-1])
    monthly = last - first < MONTHLY_TIMELINE_MAX_MONTHS
    if monthly:
        counts = per_month[first : last + 1]
    else:
        first, last = first // 12 * 12, last // 12 * 12
        counts = np.zeros(last + 12 - first, dtype=np.int64)
        counts[: len(per_month) - first] = per_month[first : last + 12]
        counts = counts.reshape(-1, 12).sum(axis=1)
    step = 1 if monthly else 12
    buckets = []
    for index, offset in enumerate(range(0, last - first + 1, step)):
        year, month_index = divmod(first + offset, 12)
        start = dt.date(year, month_index + 1, 1)
        following_year, following_index = divmod(first + offset + step, 12)
        end = dt.date(following_year, following_index + 1, 1) - dt.timedelta(days=1)
        label = f"{year}-{month_index + 1:02d}" if monthly else str(year)
        granularity = "month" if monthly else "year"
        buckets.append(TimelineBucket(label, start, end, int(counts[index]), granularity))
    return tuple(buckets)
