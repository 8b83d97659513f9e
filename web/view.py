"""Everything the search and article templates print, computed here (Datasette style).

Templates stay dumb: each facet value already carries its ``toggle_url``, each
active filter chip its ``remove_url``, and pagination, sort links and timeline
bars their ``href``. Every URL is the current search with one thing changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for
from markupsafe import Markup

from search.article import NAME_FIELDS, Article, Names
from search.facets import KNOWN_FACETS
from search.query import field_query
from search.results import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    Facet,
    Hit,
    SearchRequest,
    SearchResult,
    TimelineBucket,
)
from web.params import request_query
from web.timeline import MONTHS, chart, period_name

FACET_TOP = 10  # values shown before the "more" control
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "oldest": "Oldest"}
PAGE_WINDOW = 2  # page links either side of the current page


def human_date(day: dt.date | None) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else ""


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def search_url(request: SearchRequest, endpoint: str = "pages.search", **extra: str) -> str:
    """The URL of ``endpoint`` asking for ``request`` (defaults left out)."""
    pairs = request_query(request) + list(extra.items())
    base = url_for(endpoint)
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _changed(request: SearchRequest, **changes) -> SearchRequest:
    """``request`` with ``changes`` applied and the page reset to the first."""
    return dataclasses.replace(request, page=1, **changes)


def safe_external_url(url: str | None) -> str | None:
    """Only http(s) links leave the site; anything else (javascript:, data:) is dropped."""
    if url and url.split(":", 1)[0].lower() in ("http", "https"):
        return url
    return None


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class FacetValueView:
    value: str
    count: int
    selected: bool
    toggle_url: str
    input_id: str


@dataclass(frozen=True)
class FacetView:
    name: str
    label: str
    shown: tuple[FacetValueView, ...]
    more: tuple[FacetValueView, ...]
    timed_out: bool
    unlisted: int  # values with results that the facet does not list
    suggested: bool  # its values are offered as completions in the search box


@dataclass(frozen=True)
class Chip:
    label: str
    remove_url: str


@dataclass(frozen=True)
class Pagination:
    previous: str | None
    next: str | None
    pages: tuple[Link | None, ...]  # None is a gap ("…")


@dataclass(frozen=True)
class Tag:
    """One value of an article shown as a tag: ``kind`` is what one value is called
    (search.article.Names.one, e.g. "region"), ``label`` how it is read out ("Region")."""

    kind: str
    label: str
    value: str


# The fields of names a hit shows as tags, and as its byline (search.article.Names).
HIT_TAG_FIELDS = tuple(names for names in NAME_FIELDS if names.hit_tags)
BYLINE_FIELDS = tuple(names for names in NAME_FIELDS if names.byline)
# How the list of a hit's tags is read out: "Regions and themes".
HIT_TAGS_LABEL = " and ".join(names.heading for names in HIT_TAG_FIELDS).capitalize()


@dataclass(frozen=True)
class HitView:
    id: str
    href: str
    title_html: Markup
    snippet: Markup
    date: str
    date_iso: str
    source: str
    byline: tuple[str, ...]  # the authors
    tags: tuple[Tag, ...]  # the values of HIT_TAG_FIELDS
    pinned: bool = False
    tags_label: str = HIT_TAGS_LABEL


def hit_view(hit: Hit) -> HitView:
    return HitView(
        id=hit.id,
        href=url_for("pages.article", article_id=hit.id),
        # The engine escapes the text and adds only <mark>: safe to print as HTML.
        title_html=Markup(hit.title_html or "") or Markup.escape(hit.title),
        snippet=Markup(hit.snippet or ""),
        date=human_date(hit.date),
        date_iso=hit.date.isoformat() if hit.date else "",
        source=hit.source or "",
        byline=tuple(name for names in BYLINE_FIELDS for name in getattr(hit, names.field)),
        tags=tuple(
            Tag(names.one, names.label, value)
            for names in HIT_TAG_FIELDS
            for value in getattr(hit, names.field)
        ),
        pinned=hit.pinned,
    )


def facet_view(facet: Facet, request: SearchRequest) -> FacetView:
    selected = request.selected(facet.name)
    values = []
    for i, value in enumerate(facet.values):
        if value.value in selected:
            toggled = tuple(v for v in selected if v != value.value)
        else:
            toggled = (*selected, value.value)
        values.append(
            FacetValueView(
                value=value.value,
                count=value.count,
                selected=value.selected or value.value in selected,
                toggle_url=search_url(request.with_filter(facet.name, toggled)),
                input_id=f"facet-{facet.name}-{i}",
            )
        )
    top = {id(v) for v in values[:FACET_TOP]}
    shown = tuple(v for v in values if id(v) in top or v.selected)
    more = tuple(v for v in values if v not in shown)
    return FacetView(
        name=facet.name,
        label=facet.label or facet.name.title(),
        shown=shown,
        more=more,
        timed_out=facet.timed_out,
        unlisted=facet.unlisted,
        suggested=KNOWN_FACETS[facet.name].suggested,
    )


def chips(request: SearchRequest) -> list[Chip]:
    found = []
    for name, selected in request.filters.items():
        label = KNOWN_FACETS[name].label
        for value in selected:
            rest = tuple(v for v in selected if v != value)
            found.append(Chip(f"{label}: {value}", search_url(request.with_filter(name, rest))))
    if request.date_from:
        found.append(
            Chip(
                f"From {human_date(request.date_from)}",
                search_url(_changed(request, date_from=None)),
            )
        )
    if request.date_to:
        found.append(
            Chip(f"To {human_date(request.date_to)}", search_url(_changed(request, date_to=None)))
        )
    return found


def effective_sort(request: SearchRequest) -> str:
    """An empty query browses newest first, whatever ``relevance`` would mean."""
    if not request.q and request.sort == "relevance":
        return "newest"
    return request.sort


def sort_links(request: SearchRequest) -> list[Link]:
    current = effective_sort(request)
    sorts = SORT_LABELS if request.q else {k: v for k, v in SORT_LABELS.items() if k != "relevance"}
    return [
        Link(label, search_url(_changed(request, sort=sort)), sort == current)
        for sort, label in sorts.items()
    ]


def pagination(result: SearchResult) -> Pagination | None:
    request = result.request
    last = min(result.pages, MAX_PAGE)
    if last <= 1 and request.page == 1:
        return None

    def page_url(page: int) -> str:
        return search_url(dataclasses.replace(request, page=page))

    window = range(max(1, request.page - PAGE_WINDOW), min(last, request.page + PAGE_WINDOW) + 1)
    numbers = sorted({1, last, *window})
    pages: list[Link | None] = []
    for number in numbers:
        if pages and pages[-1] is not None and number > int(pages[-1].label) + 1:
            pages.append(None)
        pages.append(Link(str(number), page_url(number), number == request.page))
    return Pagination(
        previous=page_url(request.page - 1) if request.page > 1 else None,
        next=page_url(request.page + 1) if request.page < last else None,
        pages=tuple(pages),
    )


def timeline_href(request: SearchRequest, bucket: TimelineBucket) -> str:
    """The search narrowed to the bucket's period (within any range already chosen)."""
    start = max(bucket.start, request.date_from) if request.date_from else bucket.start
    end = min(bucket.end, request.date_to) if request.date_to else bucket.end
    return search_url(_changed(request, date_from=start, date_to=end))


def suggestion_link(result: SearchResult) -> Link | None:
    if not result.suggestion or result.suggestion == result.request.q:
        return None
    request = _changed(result.request, q=result.suggestion, typos=True)
    return Link(result.suggestion, search_url(request))


@dataclass(frozen=True)
class CorrectedSearch:
    """ "Showing results for *read*. Search instead for *typed*": the typed query's link."""

    read: str
    typed: Link


def corrected_search(result: SearchResult) -> CorrectedSearch | None:
    if not result.showing_results_for:
        return None
    request = _changed(result.request, typos=False)
    return CorrectedSearch(result.showing_results_for, Link(request.q, search_url(request)))


@dataclass(frozen=True)
class SynonymsNote:
    """ "Also searched: kiev → Kyiv. Search without synonyms": what the desk's synonyms added."""

    read_as: tuple[tuple[str, str], ...]  # (typed, what it also searched, joined)
    without: Link


def synonyms_note(result: SearchResult) -> SynonymsNote | None:
    if not result.synonyms_applied:
        return None
    read_as: dict[str, list[str]] = {}
    for applied in result.synonyms_applied:
        read_as.setdefault(applied.word, []).extend(applied.read_as)
    pairs = tuple((word, ", ".join(dict.fromkeys(texts))) for word, texts in read_as.items())
    request = _changed(result.request, synonyms=False)
    return SynonymsNote(pairs, Link("Search without synonyms", search_url(request)))


def truncation_note(result: SearchResult) -> str | None:
    """The line saying a long query was searched on its first part, and up to where."""
    if not result.truncated:
        return None
    last_words = " ".join(result.request.q[: result.searched_characters].split()[-6:])
    return f"Your search was long, so only its first part was searched, up to “…{last_words}”."


def total_label(result: SearchResult) -> str:
    return plural(result.total, "article")


def search_page(result: SearchResult) -> dict:
    """The template context of the search page (and of its partial)."""
    request = result.request
    first = (request.page - 1) * request.per_page + 1
    last = first + len(result.hits) - 1
    timeline = chart(
        result.timeline,
        lambda bucket: timeline_href(request, bucket),
        label="Results over time; choose a period to narrow the search",
    )
    periods = [b for b in result.timeline if b.count]
    return {
        "request": request,
        "result": result,
        "q": request.q,
        "total": result.total,
        "total_label": total_label(result),
        "range_label": f"{first:,}–{last:,}" if result.hits else "",
        "hits": [hit_view(hit) for hit in result.hits],
        "facets": [facet_view(facet, request) for facet in result.facets.values()],
        "chips": chips(request),
        "clear_url": search_url(SearchRequest(q=request.q, sort=request.sort))
        if chips(request)
        else None,
        "sorts": sort_links(request),
        "hidden_fields": _hidden_fields(request),
        "date_from": request.date_from.isoformat() if request.date_from else "",
        "date_to": request.date_to.isoformat() if request.date_to else "",
        "pagination": pagination(result),
        "timeline": timeline,
        "timeline_span": (
            f"{period_name(periods[0])} – {period_name(periods[-1])}" if len(periods) > 1 else ""
        ),
        "suggestion": suggestion_link(result),
        "corrected": corrected_search(result),
        "synonyms_note": synonyms_note(result),
        "beyond_last_page": not result.hits and result.total > 0,
        "first_page_url": search_url(dataclasses.replace(request, page=1)),
        "feed_url": search_url(
            dataclasses.replace(request, page=1, sort="relevance", per_page=DEFAULT_PER_PAGE),
            "pages.feed",
        ),
        "api_url": search_url(request, "api.search"),
        "partial_result": result.partial,
        "truncation_note": truncation_note(result),
        "title": page_title(request),
    }


def _hidden_fields(request: SearchRequest) -> list[tuple[str, str]]:
    """State the form must carry that it has no visible control for."""
    fields = []
    if request.sort != SearchRequest.sort:
        fields.append(("sort", request.sort))
    if request.per_page != DEFAULT_PER_PAGE:
        fields.append(("per_page", str(request.per_page)))
    if not request.prefix:
        fields.append(("prefix", "0"))
    if not request.synonyms:
        fields.append(("synonyms", "0"))
    if not request.semantic:
        fields.append(("semantic", "0"))
    return fields


def page_title(request: SearchRequest) -> str:
    parts = [f"“{request.q}”"] if request.q else []
    parts += [value for values in request.filters.values() for value in values]
    return " · ".join(parts) if parts else "Search the archive"


@dataclass(frozen=True)
class TagList:
    """An article's values of one field of names, each a link to its search."""

    heading: str  # "Regions"
    kind: str  # "region" (search.article.Names.one)
    links: tuple[Link, ...]


def article_page(article: Article, related: list[Hit], facet_names: Sequence[str]) -> dict:
    """The template context of an article page: every metadata value links to its search.

    A byline's names are searched for (``author:"…"``); a tag selects its value in its facet
    when it is one of ``facet_names``, else is searched for (``report:"…"``).
    """

    def filtered(**changes) -> str:
        return search_url(SearchRequest(**changes))

    def value_link(names: Names, value: str) -> Link:
        if names.one in facet_names and not names.byline:
            return Link(value, filtered(filters={names.one: (value,)}))
        return Link(value, filtered(q=field_query(names.one, value)))

    def links(names: Names) -> tuple[Link, ...]:
        return tuple(value_link(names, value) for value in getattr(article, names.field))

    paragraphs = [p.strip() for p in article.body.split("\n\n") if p.strip()]
    return {
        "article": article,
        "title": article.title,
        "paragraphs": paragraphs,
        "date": human_date(article.date),
        "date_iso": article.date.isoformat() if article.date else "",
        "date_url": filtered(date_from=article.date, date_to=article.date)
        if article.date
        else None,
        "source": article.source or "",
        # Only the facet: "source:" finds nothing in an index older than the source facet.
        "source_url": filtered(filters={"source": (article.source,)})
        if article.source and "source" in facet_names
        else None,
        "original_url": safe_external_url(article.url),
        "byline": [link for names in BYLINE_FIELDS for link in links(names)],
        "tag_lists": [
            TagList(names.heading, names.one, links(names))
            for names in NAME_FIELDS
            if not names.byline and getattr(article, names.field)
        ],
        "related": [hit_view(hit) for hit in related],
        "api_url": url_for("api.article", article_id=article.id),
    }
