"""The two kinds of event a reader's page reports: a settled search, and a result opened from it.

Both carry the page view's random id (``view``) and the search's number in that
view (``seq``), which is all that joins a click to its search. Nothing is
recorded of who or where the reader is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

PAGE = "page"  # the only source today: the search page's beacon


@dataclass(frozen=True)
class SearchEvent:
    """A search the reader settled on, as typed and as searched, and what it found.

    ``query`` and ``searched`` are already stored_query()'d; ``filters`` maps a
    facet's name to the values selected in it.
    """

    view: str
    seq: int
    query: str
    searched: str
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    results: int = 0
    source: str = PAGE


@dataclass(frozen=True)
class ClickEvent:
    """The reader opened the result at ``position`` (1 is the first of all pages) of a search."""

    view: str
    seq: int
    position: int
    source: str = PAGE


Event = SearchEvent | ClickEvent
