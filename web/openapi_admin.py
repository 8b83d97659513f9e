"""The OpenAPI description of the desk's JSON routes (/api/admin/...) and how they are signed in to.

Merged into /openapi.json by web/openapi.py. Every route here takes either
scheme: ``bearerAuth`` (``Authorization: Bearer TOKEN``, from ``article-search
editors token NAME``) or ``cookieAuth`` (the session cookie of a signed-in
editor, with its CSRF token in ``X-CSRF-Token`` for any method but GET).
"""

from __future__ import annotations

from search.desk import (
    MATCHES,
    MAX_HALF_LIFE_DAYS,
    MAX_IDS,
    MAX_NOTE_CHARS,
    MAX_PHRASE_CHARS,
    MAX_PHRASES,
)
from web.desk_api import MAX_HISTORY

SESSION_COOKIE = "article_search_desk"
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An editor's API token (`article-search editors token NAME`).",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "A signed-in editor's session (sign in at /admin). Changes also need "
        "the session's CSRF token in the X-CSRF-Token header.",
    },
}
SECURITY = [{"bearerAuth": []}, {"cookieAuth": []}]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


UNAUTHORIZED = _error("No valid token or session (missing, revoked, expired).")
FORBIDDEN = _error("A change with the session cookie but without its X-CSRF-Token.")
NO_DESK = _error("This server is a replica: it has no desk.")


TOO_LARGE = _error("A body larger than the server takes (64 KB).")


def _operation(operation_id: str, summary: str, responses: dict, **extra) -> dict:
    """An admin operation: every one may answer 401 and 404, one with a body also 413."""
    sized = {"413": TOO_LARGE} if "requestBody" in extra else {}
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": SECURITY,
        "responses": {"401": UNAUTHORIZED, "404": NO_DESK, **sized, **responses},
        **extra,
    }


PHRASES = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": MAX_PHRASE_CHARS},
    "minItems": 1,
    "maxItems": MAX_PHRASES,
    "description": "Words or phrases (of any length), each with a letter or digit.",
}
IDS = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "maxItems": MAX_IDS,
    "description": "Article ids, each at most once.",
}
MOMENT = {
    "type": "string",
    "format": "date-time",
    "nullable": True,
    "description": "ISO-8601; without a zone, UTC. Answered in UTC with a Z.",
}
ADMIN_SCHEMAS = {
    "Editor": {
        "type": "object",
        "required": ["editor"],
        "properties": {"editor": {"type": "string", "description": "The editor's name."}},
    },
    "SynonymInput": {
        "oneOf": [
            {
                "type": "object",
                "required": ["words"],
                "properties": {"words": {**PHRASES, "minItems": 2}},
                "additionalProperties": False,
                "description": "Multi-way: a search for any of them also finds the others.",
            },
            {
                "type": "object",
                "required": ["from", "to"],
                "properties": {"from": PHRASES, "to": PHRASES},
                "additionalProperties": False,
                "description": "One-way: a search for a `from` phrase also finds the `to` ones.",
            },
        ]
    },
    "Synonym": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer"},
            "words": {"type": "array", "items": {"type": "string"}},
            "from": {"type": "array", "items": {"type": "string"}},
            "to": {"type": "array", "items": {"type": "string"}},
        },
    },
    "RuleInput": {
        "type": "object",
        "required": ["query"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": MAX_PHRASE_CHARS},
            "match": {"type": "string", "enum": list(MATCHES), "default": "exact"},
            "filters": {
                "type": "object",
                "additionalProperties": PHRASES,
                "description": "Facet values that must be selected for the rule to apply "
                '(one of each facet\'s values), e.g. {"theme": ["Elections"]}.',
            },
            "pin": {**IDS, "description": "Articles shown first, in this order."},
            "hide": {**IDS, "description": "Articles not shown."},
            "starts_at": MOMENT,
            "ends_at": MOMENT,
            "note": {"type": "string", "maxLength": MAX_NOTE_CHARS},
        },
        "description": "A best bet: when the query (compared after the same analysis as "
        "search) equals, contains or starts with `query`, pin and/or hide articles. It "
        "pins or hides at least one article.",
    },
    "Rule": {
        "type": "object",
        "required": ["id", "query", "match", "filters", "pin", "hide", "starts_at", "ends_at"],
        "properties": {
            "id": {"type": "integer"},
            "query": {"type": "string"},
            "match": {"type": "string", "enum": list(MATCHES)},
            "filters": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "pin": {"type": "array", "items": {"type": "string"}},
            "hide": {"type": "array", "items": {"type": "string"}},
            "starts_at": MOMENT,
            "ends_at": MOMENT,
            "note": {"type": "string"},
        },
    },
    "Freshness": {
        "type": "object",
        "properties": {
            "half_life_days": {
                "type": "number",
                "minimum": 1 / 24,
                "maximum": MAX_HALF_LIFE_DAYS,
                "description": "Every this many days of age, the share below halves.",
            },
            "weight": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "The share of the score an article's age may take (0: none).",
            },
        },
    },
    "Change": {
        "type": "object",
        "required": ["number", "editor", "at", "action", "kind"],
        "properties": {
            "number": {"type": "integer"},
            "editor": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "action": {"type": "string", "enum": ["add", "update", "remove", "set", "restore"]},
            "kind": {"type": "string", "enum": ["synonym", "rule", "freshness", "desk"]},
            "id": {"type": "integer", "nullable": True},
            "before": {"nullable": True, "description": "What it was (null: nothing)."},
            "after": {"nullable": True, "description": "What it became (null: removed)."},
        },
    },
}


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _list_of(key: str, name: str) -> dict:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": _schema(name)}},
    }


def _body(name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _schema(name)}}}


def _id(description: str) -> dict:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 0},
    }


BAD_BODY = _error("The body is not JSON, or not a valid item (the message says why).")
NOT_FOUND = _error("No such item, or this server is a replica (it has no desk).")
REMOVED = {"description": "Removed (recorded in the history)."}


def _collection(kind: str, name: str, plural: str) -> dict:
    """The list-and-add route and the one-item route of synonyms or rules."""
    one = _id(f"The {kind}'s id.")
    return {
        f"/api/admin/{plural}": {
            "get": _operation(
                f"list{name}s",
                f"Every {kind}.",
                {"200": _answer("The list.", _list_of(plural, name))},
            ),
            "post": _operation(
                f"add{name}",
                f"Add a {kind} (recorded in the history under the editor's name).",
                {
                    "201": _answer(f"The {kind} added, with its id.", _schema(name)),
                    "400": BAD_BODY,
                    "403": FORBIDDEN,
                },
                requestBody=_body(f"{name}Input"),
            ),
        },
        f"/api/admin/{plural}/{{id}}": {
            "get": _operation(
                f"get{name}",
                f"One {kind}.",
                {"200": _answer(f"The {kind}.", _schema(name)), "404": NOT_FOUND},
                parameters=[one],
            ),
            "put": _operation(
                f"update{name}",
                f"Replace a {kind}.",
                {
                    "200": _answer(f"The {kind} as it is now.", _schema(name)),
                    "400": BAD_BODY,
                    "403": FORBIDDEN,
                    "404": NOT_FOUND,
                },
                parameters=[one],
                requestBody=_body(f"{name}Input"),
            ),
            "delete": _operation(
                f"remove{name}",
                f"Remove a {kind}.",
                {"204": REMOVED, "403": FORBIDDEN, "404": NOT_FOUND},
                parameters=[one],
            ),
        },
    }


def admin_paths() -> dict:
    return {
        "/api/admin/me": {
            "get": _operation(
                "adminMe",
                "Whose token or session this is: a check for automation.",
                {"200": _answer("The editor signed in.", _schema("Editor"))},
            )
        },
        **_collection("synonym", "Synonym", "synonyms"),
        **_collection("rule", "Rule", "rules"),
        "/api/admin/freshness": {
            "get": _operation(
                "getFreshness",
                "How much an article's age counts in relevance order.",
                {"200": _answer("The setting.", _schema("Freshness"))},
            ),
            "put": _operation(
                "setFreshness",
                "Change how much an article's age counts (no re-index; date order unchanged).",
                {
                    "200": _answer("The setting now.", _schema("Freshness")),
                    "400": BAD_BODY,
                    "403": FORBIDDEN,
                },
                requestBody=_body("Freshness"),
            ),
        },
        "/api/admin/history": {
            "get": _operation(
                "deskHistory",
                "The desk's changes, newest first: who, when, before and after.",
                {
                    "200": _answer("The changes.", _list_of("changes", "Change")),
                    "400": _error("A bad limit."),
                },
                parameters=[
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "At most this many changes (default 100).",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY},
                    }
                ],
            )
        },
        "/api/admin/history/{number}/restore": {
            "post": _operation(
                "restoreDesk",
                "Bring back the desk as it was right after change `number` (0: empty), "
                "as one more change (itself undoable).",
                {
                    "200": _answer("The change the restore made.", _schema("Change")),
                    "403": FORBIDDEN,
                    "404": NOT_FOUND,
                },
                parameters=[
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "description": "A change's number, from the history.",
                        "schema": {"type": "integer", "minimum": 0},
                    }
                ],
            ),
        },
        "/api/admin/analytics": {
            "get": _operation(
                "analytics",
                "What readers searched for over a period (search.analytics.reports): per day, "
                "top queries, no result, no result opened, positions opened, reformulations, "
                "filters. A query searched fewer times than the threshold is only counted "
                "(`rarer`).",
                {
                    "200": _answer(
                        "The reports.",
                        {
                            "type": "object",
                            "required": ["start", "end", "threshold", "searches", "per_day"],
                            "description": "Each list's rows as in the CSV exports of "
                            "/admin/analytics; `rarer` counts what each list left out.",
                        },
                    ),
                    "400": _error("A period that cannot be read."),
                },
                parameters=[
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                    for name, description in (
                        (
                            "since",
                            "The period's start as a number of days, e.g. `30d` "
                            "(default `7d`), or YYYY-MM-DD.",
                        ),
                        ("from", "The period's first day, YYYY-MM-DD (instead of since)."),
                        ("to", "The period's last day, YYYY-MM-DD (default today)."),
                    )
                ],
            )
        },
    }
