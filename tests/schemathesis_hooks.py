"""Schemathesis hooks for tests/test_reliability_api.py (loaded via SCHEMATHESIS_HOOKS).

OpenAPI 3.0 cannot say "``from`` must not be after ``to``": the document says it in
words, and the server answers such a pair with a 400 (tested in test_web_api). Requests
generated as valid must not pair them, or schemathesis reports the documented 400 as
"schema-valid request rejected".
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def filter_query(context, query):
    if not query:
        return True
    start, end = query.get("from"), query.get("to")
    return not (isinstance(start, str) and isinstance(end, str) and start and end and start > end)
