"""POST /api/events: the search page's beacon (``navigator.sendBeacon``), one event a request.

The body is one JSON object of at most ``MAX_BYTES``, whatever its content
type (a beacon sends text/plain, which needs no CORS preflight):

- ``{"type": "search", "view", "seq", "params", "results", "searched"}``: a
  search the reader settled on; ``params`` its query string (read back with
  the search page's own parser, so a search that page would refuse is refused
  here too), ``searched`` the query as corrected, if it was;
- ``{"type": "click", "view", "seq", "position"}``: the reader opened the
  result at ``position`` of search ``seq``.

``view`` is the page view's random id (hex, made by the page), ``seq`` the
search's number within it. A malformed event is a 400; an event from another
site's page (``Sec-Fetch-Site`` or ``Origin`` say so) a 403; an accepted one
a 204, whether it is recorded or dropped (web/recording.py, the recorder's
limits). The request waits its turn in web/admission.py like any other, and
is shed at once while a search waits.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from search.analytics.events import ClickEvent, Event, SearchEvent
from search.analytics.privacy import mask_personal, stored_query
from search.results import MAX_PAGE, MAX_PER_PAGE
from web import facet_names
from web.errors import json_error
from web.params import BadRequestParameter, parse_search_request
from web.recording import recorder

PATH = "/api/events"
MAX_BYTES = 16384  # a query string of a few thousand characters fits
MAX_SEQ = 100_000
MAX_RESULTS = 10**9
VIEW = re.compile(r"[0-9a-f]{16,64}")

blueprint = Blueprint("beacon", __name__)


class MalformedEvent(ValueError):
    """The beacon's body is not an event this endpoint takes; the message says why."""


def _number(payload: dict, name: str, low: int, high: int) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MalformedEvent(f"{name} must be a whole number from {low} to {high}")
    return value


def _text(payload: dict, name: str, limit: int) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedEvent(f"{name} must be text of at most {limit} characters")
    return value


def parse_event(body: bytes, facets: list[str]) -> Event:
    """The event a beacon's body holds, or MalformedEvent."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEvent("the body must be a JSON object") from None
    if not isinstance(payload, dict):
        raise MalformedEvent("the body must be a JSON object")
    view = payload.get("view")
    if not isinstance(view, str) or not VIEW.fullmatch(view):
        raise MalformedEvent("view must be 16 to 64 lower-case hex digits")
    seq = _number(payload, "seq", 1, MAX_SEQ)
    kind = payload.get("type")
    if kind == "click":
        return ClickEvent(view, seq, _number(payload, "position", 1, MAX_PAGE * MAX_PER_PAGE))
    if kind != "search":
        raise MalformedEvent('type must be "search" or "click"')
    params = _text(payload, "params", MAX_BYTES)
    try:
        asked = parse_search_request(MultiDict(parse_qsl(params)), facets)
    except BadRequestParameter as error:
        raise MalformedEvent(f"params: {error.message}") from None
    searched = _text(payload, "searched", MAX_BYTES)
    return SearchEvent(
        view=view,
        seq=seq,
        query=stored_query(asked.q),
        searched=stored_query(searched or asked.q),
        filters={
            name: tuple(mask_personal(value) for value in values)
            for name, values in asked.filters.items()
        },
        date_from=asked.date_from,
        date_to=asked.date_to,
        sort=asked.sort,
        page=asked.page,
        results=_number(payload, "results", 0, MAX_RESULTS),
    )


def _from_another_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return True
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc != request.host


@blueprint.route(PATH, methods=["POST"])
def event() -> Response:
    if request.content_length is not None and request.content_length > MAX_BYTES:
        return json_error(413, f"an event is at most {MAX_BYTES} bytes")
    if _from_another_site():
        return json_error(403, "events are taken from this site's own pages only")
    body = request.stream.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        return json_error(413, f"an event is at most {MAX_BYTES} bytes")
    try:
        found = parse_event(body, facet_names())
    except MalformedEvent as error:
        return json_error(400, str(error))
    found_recorder = recorder()
    if found_recorder is not None:
        found_recorder.record(found)
    return Response(status=204)
