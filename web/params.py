"""The shared query parameters of /search, /search.atom and /api/search -> SearchRequest.

Bad input is an expected outcome: every rejection is a ``BadRequestParameter``
naming the parameter and saying, in words a reader understands, what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from werkzeug.datastructures import MultiDict

from search.facets import DEFAULT_FACETS, KNOWN_FACETS
from search.results import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    SORTS,
    SearchRequest,
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"\d{1,9}")
SWITCH_VALUES = {"1": True, "true": True, "0": False, "false": False}
MAX_SUGGEST_LIMIT = 20
DEFAULT_SUGGEST_LIMIT = 8


class BadRequestParameter(ValueError):
    """One query parameter the request cannot be answered with."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _first(args: MultiDict | Mapping, name: str) -> str | None:
    value = args.get(name)
    return None if value is None else str(value)


def _values(args: MultiDict | Mapping, name: str) -> tuple[str, ...]:
    """A repeatable parameter, in order, without blanks and repeats."""
    raw = args.getlist(name) if hasattr(args, "getlist") else [args.get(name)]
    seen: dict[str, None] = {}
    for value in raw:
        if value is not None and str(value).strip():
            seen.setdefault(str(value).strip(), None)
    return tuple(seen)


def parse_int(args: MultiDict | Mapping, name: str, default: int, maximum: int) -> int:
    """A whole number between 1 and ``maximum``; ``default`` when absent."""
    raw = _first(args, name)
    if raw is None:
        return default
    allowed = f"{name} must be a whole number from 1 to {maximum}"
    if not _DIGITS.fullmatch(raw):
        raise BadRequestParameter(name, f"{allowed}, not {raw[:40]!r}")
    value = int(raw)
    if not 1 <= value <= maximum:
        raise BadRequestParameter(name, f"{allowed}, not {value}")
    return value


def parse_date(args: MultiDict | Mapping, name: str) -> dt.date | None:
    """A YYYY-MM-DD date; absent or empty (an untouched date field) means no limit."""
    raw = (_first(args, name) or "").strip()
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequestParameter(
            name, f"{name} must be a date written YYYY-MM-DD, not {raw[:40]!r}"
        ) from None


def parse_query_text(args: MultiDict | Mapping, name: str = "q") -> str:
    """The query text, leading spaces dropped; trailing ones kept as one space.

    A space after the last word says the word is finished: without one it is
    still being typed and also matches the words it begins.
    Any length: a long one is searched on its first part (search.query.MAX_CLAUSES);
    only gunicorn's request-line limit refuses one.
    """
    q = _first(args, name) or ""
    stripped = q.strip()
    return f"{stripped} " if stripped and q[-1].isspace() else stripped


def parse_switch(args: MultiDict | Mapping, name: str, default: bool) -> bool:
    """An on/off parameter: ``1``/``true`` or ``0``/``false``; ``default`` when absent."""
    raw = _first(args, name)
    if raw is None or not raw.strip():
        return default
    value = SWITCH_VALUES.get(raw.strip().lower())
    if value is None:
        raise BadRequestParameter(name, f"{name} must be 1 or 0 (true or false), not {raw[:40]!r}")
    return value


def parse_search_request(
    args: MultiDict | Mapping, facet_names: Iterable[str] = DEFAULT_FACETS
) -> SearchRequest:
    """The SearchRequest the query parameters ask for, or BadRequestParameter.

    Each of ``facet_names`` is a repeatable parameter selecting that facet's values.
    """
    q = parse_query_text(args)
    date_from = parse_date(args, "from")
    date_to = parse_date(args, "to")
    if date_from and date_to and date_from > date_to:
        raise BadRequestParameter(
            "from", f"from ({date_from.isoformat()}) is after to ({date_to.isoformat()})"
        )
    sort = _first(args, "sort")
    if sort is None:
        sort = SearchRequest.sort
    elif sort not in SORTS:
        raise BadRequestParameter(
            "sort", f"sort must be one of {', '.join(SORTS)}, not {sort[:40]!r}"
        )
    filters = {name: values for name in facet_names if (values := _values(args, name))}
    for name, values in filters.items():
        for value in values:
            if refusal := KNOWN_FACETS[name].refusal(value):
                raise BadRequestParameter(name, refusal)
    return SearchRequest(
        q=q,
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=parse_int(args, "page", 1, MAX_PAGE),
        per_page=parse_int(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        prefix=parse_switch(args, "prefix", SearchRequest.prefix),
        typos=parse_switch(args, "typos", SearchRequest.typos),
        synonyms=parse_switch(args, "synonyms", SearchRequest.synonyms),
        semantic=parse_switch(args, "semantic", SearchRequest.semantic),
        counts=parse_switch(args, "counts", SearchRequest.counts),
    )


def request_query(request: SearchRequest) -> list[tuple[str, str]]:
    """The query parameters that ask for ``request``; defaults left out, in a stable order."""
    pairs: list[tuple[str, str]] = []
    if request.q:
        pairs.append(("q", request.q))
    pairs += [(name, value) for name, values in request.filters.items() for value in values]
    if request.date_from:
        pairs.append(("from", request.date_from.isoformat()))
    if request.date_to:
        pairs.append(("to", request.date_to.isoformat()))
    if request.sort != SearchRequest.sort:
        pairs.append(("sort", request.sort))
    if request.per_page != DEFAULT_PER_PAGE:
        pairs.append(("per_page", str(request.per_page)))
    switches = ("prefix", "typos", "synonyms", "semantic")
    pairs += [(name, "0") for name in switches if not getattr(request, name)]
    if request.page != 1:
        pairs.append(("page", str(request.page)))
    return pairs
