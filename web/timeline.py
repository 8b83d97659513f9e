"""The results-per-year (or per-month) bar chart, laid out for ``_timeline.html`` (SVG).

Each bar is a link that narrows the search to its period; each has a <title>
tooltip and an aria-label with its count. No inline styles: the look is in
app.css, so the chart works under a strict Content-Security-Policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from search.results import TimelineBucket

WIDTH = 640
HEIGHT = 120
AXIS = 18  # room for the labels under the bars
GAP = 2
MIN_BAR = 2  # a non-empty period never disappears

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    count: int
    href: str | None
    x: float
    y: float
    width: float
    height: float
    show_label: bool


@dataclass(frozen=True)
class Chart:
    """What ``_timeline.html`` draws: the bars and the chart's size."""

    bars: tuple[Bar, ...]
    label: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - AXIS


def period_name(bucket: TimelineBucket) -> str:
    """'2024' or 'March 2024': how a reader says the bucket's period."""
    if bucket.granularity == "month" and bucket.start.day == 1:
        return f"{MONTHS[bucket.start.month - 1]} {bucket.start.year}"
    return bucket.label


def _short_label(bucket: TimelineBucket, monthly: bool) -> str:
    if monthly:
        month = MONTHS[bucket.start.month - 1][:3]
        return f"{month} {bucket.start.year % 100:02d}"
    return bucket.label


def place_bars(items: Sequence[tuple[str, str, int, str | None]]) -> list[Bar]:
    """Bars for ``(label, title, count, href)`` items, left to right, scaled to the largest."""
    if not items:
        return []
    peak = max(count for _, _, count, _ in items) or 1
    slot = WIDTH / len(items)
    label_every = max(1, math.ceil(len(items) / (WIDTH / 64)))
    chart = HEIGHT - AXIS
    bars = []
    for i, (label, title, count, href) in enumerate(items):
        height = chart * count / peak
        if count:
            height = max(height, MIN_BAR)
        bars.append(
            Bar(
                label=label,
                title=title,
                count=count,
                href=href if count else None,
                x=i * slot + GAP / 2,
                y=chart - height,
                width=max(slot - GAP, 1),
                height=height,
                show_label=i % label_every == 0,
            )
        )
    return bars


def layout(
    buckets: Sequence[TimelineBucket], href: Callable[[TimelineBucket], str | None]
) -> list[Bar]:
    monthly = bool(buckets) and buckets[0].granularity == "month"
    return place_bars(
        [
            (
                _short_label(bucket, monthly),
                f"{period_name(bucket)}: {bucket.count:,} "
                + ("article" if bucket.count == 1 else "articles"),
                bucket.count,
                href(bucket) if bucket.count else None,
            )
            for bucket in buckets
        ]
    )


def chart(
    buckets: Sequence[TimelineBucket],
    href: Callable[[TimelineBucket], str | None],
    label: str = "Results over time",
) -> Chart | None:
    """The chart of ``buckets``, None when there is nothing to draw."""
    bars = layout(buckets, href)
    return Chart(tuple(bars), label) if bars else None
