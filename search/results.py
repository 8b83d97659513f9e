"""What a search asks for and what it returns: plain data, no Whoosh, no Flask."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from search.article import ArticleCard

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE = 1000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10


@dataclass(frozen=True)
class SearchRequest:
    """A reader's search: query text, facet selections, date range, sort, page."""

    q: str = ""
    # Values selected per facet name ({"region": ("Europe",)}); facets are search.facets'.
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    prefix: bool = True  # the word being typed also matches the words it begins
    typos: bool = True  # misspelt words also match the words near them
    synonyms: bool = True  # the desk's synonyms apply (a reader may turn them off)
    # The desk (synonyms, rules, freshness) applies: off only for the desk's preview,
    # never from a reader's URL (a rule may hide an article for a reason).
    desk: bool = True
    semantic: bool = True  # relevance order by meaning as well as words (search.hybrid)
    # Facet counts and the timeline are counted: the search page asks without them while
    # the reader types, and for them once the reader pauses (web/static/app.js).
    counts: bool = True

    def selected(self, facet: str) -> tuple[str, ...]:
        """The values selected in the facet named ``facet`` (e.g. ``region``)."""
        return self.filters.get(facet, ())

    def with_filter(self, facet: str, values: tuple[str, ...]) -> SearchRequest:
        """This request with ``facet``'s selection replaced, on its first page."""
        filters = {**self.filters, facet: values}
        return dataclasses.replace(
            self, filters={name: v for name, v in filters.items() if v}, page=1
        )


@dataclass(frozen=True)
class Hit(ArticleCard):
    """One result: what a list shows of its article (search.article.ArticleCard), and how it
    matched. ``snippet`` and ``title_html`` are escaped HTML with <mark>s."""

    title_html: str = ""
    snippet: str = ""
    score: float | None = None
    pinned: bool = False  # placed by a desk rule (search.rules), not by its score


@dataclass(frozen=True)
class AppliedSynonym:
    """A desk synonym a search used: its id, what the reader typed (or the source word
    a word being typed or misspelt was read as) and the phrases it also searched."""

    id: int
    word: str
    read_as: tuple[str, ...]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """One facet's values, by count; ``timed_out`` when counting ran out of time."""

    name: str  # the facet's name, e.g. "region" (search.facets)
    values: tuple[FacetValue, ...]
    timed_out: bool = False
    label: str = ""  # how the page titles it, e.g. "Region"
    unlisted: int = 0  # values with results beyond those listed (search.facets.FACET_VALUE_LIMIT)


@dataclass(frozen=True)
class TimelineBucket:
    """How many results fall in one year ("2024") or month ("2024-03")."""

    label: str
    start: dt.date
    end: dt.date
    count: int
    granularity: str  # "year" or "month"


@dataclass(frozen=True)
class SearchResult:
    request: SearchRequest
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, Facet]
    timeline: tuple[TimelineBucket, ...] = ()
    suggestion: str | None = None
    # Typed word -> the index words its results also come from (search.expansion).
    completions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The query as read when every result comes from corrections ("Showing results for").
    showing_results_for: str | None = None
    took_ms: float = 0.0
    partial: bool = False  # a time limit cut the search short
    # The query was longer than the word and clause limit: only its first
    # ``searched_characters`` characters were searched.
    truncated: bool = False
    searched_characters: int = 0
    synonyms_applied: tuple[AppliedSynonym, ...] = ()
    rules_applied: tuple[int, ...] = ()  # the ids of the desk's rules that fired
    # No article holds the words: the hits are the articles nearest in meaning instead.
    meaning_only: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))


@dataclass(frozen=True)
class Suggestion:
    """A completion for the search box: what to type and what kind of thing it is."""

    text: str
    kind: str  # "title", "author", "region", "theme", "term"
    count: int = 0


@dataclass(frozen=True)
class IndexStats:
    documents: int
    generation: str
    committed_at: float | None = None  # when the generation served was committed (epoch s)
    verified: bool = True  # its files matched its manifest (False: written without one)
    damaged: tuple[str, ...] = ()  # newer generations passed over, and why
