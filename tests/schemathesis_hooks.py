"""Schemathesis hooks for tests/test_reliability_api.py (loaded via SCHEMATHESIS_HOOKS).

OpenAPI 3.0 cannot say "``from`` must not be after ``to``": the document says it in
words, and the server answers such a pair with a 400 (tested in test_web_api). Requests
generated as valid must not pair them, or schemathesis reports the documented 400 as
"schema-valid request rejected".

Likewise an analytics event's ``params`` is a search's query string, and one /search
would refuse (``page=0``) gets a 400, which the schema cannot say either.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import schemathesis

from web.params import BadRequestParameter, parse_search_request


@schemathesis.hook
def filter_query(context, query):
    if not query:
        return True
    start, end = query.get("from"), query.get("to")
    return not (isinstance(start, str) and isinstance(end, str) and start and end and start > end)


@schemathesis.hook
def filter_body(context, body):
    params = body.get("params") if isinstance(body, dict) else None
    if not isinstance(params, str):
        return True
    try:
        parse_search_request(dict(parse_qsl(params)))
    except BadRequestParameter:
        return False
    return True
