"""The hand-written OpenAPI 3.0 description of every JSON route, served at /openapi.json.

Limits come from search.results and web.params, so the document cannot drift
from what the parameter parser enforces.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence

from search.article import CARD_FIELDS, JSON_FIELDS, Article
from search.facets import FACET_VALUE_LIMIT, FacetDefinition, configured_facets
from search.query import MAX_CLAUSES, TEXT_PREFIXES, VALUE_PREFIXES
from search.results import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, SORTS, Hit
from search.serialize import (
    ARTICLE_EXTRAS,
    FACET_VALUE_FIELDS,
    HIT_EXTRAS,
    RELATED_FIELDS,
    SUGGESTION_LABELS,
)
from web.beacon import MAX_RESULTS, MAX_SEQ
from web.openapi_admin import ADMIN_SCHEMAS, SECURITY_SCHEMES, admin_paths
from web.params import DEFAULT_SUGGEST_LIMIT, MAX_SUGGEST_LIMIT


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema_name: str, description: str) -> dict:
    content = {"application/json": {"schema": _ref(schema_name)}}
    return {"description": description, "content": content}


STRING_LIST = {"type": "array", "items": {"type": "string"}}
NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_DATE = {"type": "string", "format": "date", "nullable": True}
OPTIONAL_DATE = {
    "oneOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "maxLength": 0, "description": "empty: no limit"},
    ]
}

PREFIXES = ", ".join(f"{prefix}:" for prefix in (*TEXT_PREFIXES, *VALUE_PREFIXES))
PARAMETERS = {
    "q": {
        "name": "q",
        "in": "query",
        "required": False,
        "description": (
            'What to search for: words, "quoted phrases", -excluded words, OR, and '
            f"{PREFIXES} prefixes. Empty browses every article "
            "matching the filters, newest first. Any length: a query of more than "
            f"{MAX_CLAUSES} words and clauses is searched on its first part, and the "
            "answer says so (`truncated`, `searched_characters`)."
        ),
        "schema": {"type": "string"},
    },
    "from": {
        "name": "from",
        "in": "query",
        "required": False,
        "description": "Only articles dated on or after this day (YYYY-MM-DD). Must not be "
        "after `to`.",
        "schema": OPTIONAL_DATE,
    },
    "to": {
        "name": "to",
        "in": "query",
        "required": False,
        "description": "Only articles dated on or before this day (YYYY-MM-DD).",
        "schema": OPTIONAL_DATE,
    },
    "sort": {
        "name": "sort",
        "in": "query",
        "required": False,
        "description": "Result order; relevance ranks by match (an empty query sorts newest).",
        "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"},
    },
    "page": {
        "name": "page",
        "in": "query",
        "required": False,
        "description": "Which page of results, from 1.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    "per_page": {
        "name": "per_page",
        "in": "query",
        "required": False,
        "description": "Results per page.",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PER_PAGE,
            "default": DEFAULT_PER_PAGE,
        },
    },
    "prefix": {
        "name": "prefix",
        "in": "query",
        "required": False,
        "description": "1: the last word, with no space after it, also matches the words it "
        "begins (as while typing); 0: whole words only.",
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"},
    },
    "typos": {
        "name": "typos",
        "in": "query",
        "required": False,
        "description": "1: a word the index lacks also matches words one edit away (5+ letters) "
        "or two (9+ letters); 0: words exactly as typed.",
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"},
    },
    "synonyms": {
        "name": "synonyms",
        "in": "query",
        "required": False,
        "description": "1: the editors' synonyms also apply (kiev also finds Kyiv); 0: they "
        "do not. The editors' rules (pinned and hidden articles) apply either way.",
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"},
    },
    "counts": {
        "name": "counts",
        "in": "query",
        "required": False,
        "description": "1: the answer counts each facet's values and the results over time; 0: "
        "it leaves them out (`counted` false), for an answer while the reader types: the "
        "search page asks so at each keystroke and counts once the reader pauses. Facet "
        "selections apply either way.",
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"},
    },
    "semantic": {
        "name": "semantic",
        "in": "query",
        "required": False,
        "description": "1: in relevance order, the first 100 word matches of a query of "
        "more than four words, or of a question, are re-ordered by their likeness in meaning "
        "to the query and to each other (a small embedding model shipped with the service; "
        "under a millisecond more per search), and a search whose words match no article "
        "answers with the articles nearest in meaning (`meaning_only`); 0: words only. A "
        "shorter query, and date order, rank by words either way. Off for the whole service "
        "with ARTICLE_SEARCH_SEMANTIC=0. Totals and facet counts are the word query's either "
        "way.",
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"},
    },
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string", "description": "What went wrong, in words."},
                    "parameter": {
                        "type": "string",
                        "description": "The query or path parameter at fault, if one is.",
                    },
                },
            }
        },
    },
    # "SearchHit", "FacetValue", "Article" and "RelatedArticle": from the declarations of
    # what they hold (below).
    "TimelineBucket": {
        "type": "object",
        "required": ["label", "from", "to", "count", "granularity"],
        "properties": {
            "label": {"type": "string", "description": "A year (2024) or month (2024-03)."},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "count": {"type": "integer", "minimum": 0},
            "granularity": {"type": "string", "enum": ["year", "month"]},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": [
            "query",
            "total",
            "page",
            "per_page",
            "results",
            "counted",
            "facets",
            "suggestion",
            "took_ms",
            "truncated",
            "searched_characters",
        ],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "results": {"type": "array", "items": _ref("SearchHit")},
            # "facets", "facets_timed_out", "facets_unlisted": per the archive's facets
            # (openapi_document).
            "counted": {
                "type": "boolean",
                "description": "Whether the facet counts and the timeline were counted: false "
                "when asked with counts=0 (then `facets`, `facets_unlisted` and `timeline` are "
                "empty; the total and the results are the same either way).",
            },
            "timeline": {"type": "array", "items": _ref("TimelineBucket")},
            "suggestion": {
                **NULLABLE_STRING,
                "description": "A corrected query, when the query looks misspelt.",
            },
            "completions": {
                "type": "array",
                "items": _ref("ReadAs"),
                "description": "The word being typed and the index words it was completed to.",
            },
            "corrections": {
                "type": "array",
                "items": _ref("ReadAs"),
                "description": "Misspelt words and the index words also searched for them.",
            },
            "showing_results_for": {
                **NULLABLE_STRING,
                "description": "The query as read, when every corrected word is absent from the "
                "index as typed (the results come from the corrections); null otherwise.",
            },
            "synonyms_applied": {
                "type": "array",
                "items": _ref("AppliedSynonym"),
                "description": "The editors' synonyms the search used: what was typed (or the "
                "word a word being typed or misspelt was read as) and what it also found.",
            },
            "rules_applied": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The ids of the editors' rules that fired (pinned or hid articles).",
            },
            "meaning_only": {
                "type": "boolean",
                "description": "No article has the query's words: `results` are the articles "
                "nearest to it in meaning (at most 20, each alike enough), `total` their number.",
            },
            "partial": {"type": "boolean"},
            "truncated": {
                "type": "boolean",
                "description": f"The query had more than {MAX_CLAUSES} words and clauses: only "
                "its first part was searched.",
            },
            "searched_characters": {
                "type": "integer",
                "minimum": 0,
                "description": "How many characters of `query` were searched (all of them "
                "unless `truncated`).",
            },
            "took_ms": {"type": "number", "minimum": 0},
        },
    },
    "AppliedSynonym": {
        "type": "object",
        "required": ["id", "word", "read_as"],
        "properties": {
            "id": {"type": "integer"},
            "word": {"type": "string"},
            "read_as": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ReadAs": {
        "type": "object",
        "required": ["word", "read_as"],
        "properties": {
            "word": {"type": "string"},
            "read_as": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Suggestion": {
        "type": "object",
        "required": ["text", "kind", "count", "label", "query"],
        "properties": {
            "text": {"type": "string"},
            "kind": {"type": "string", "enum": list(SUGGESTION_LABELS)},
            "count": {"type": "integer", "minimum": 0},
            "label": {"type": "string", "description": "What the kind is called, e.g. Author."},
            "query": {
                "type": "string",
                "description": "What choosing it puts in the search box: the query completed, "
                'a field search (author:"...") after the words before it, or a title as a phrase.',
            },
        },
    },
    "SuggestResponse": {
        "type": "object",
        "required": ["query", "suggestions"],
        "properties": {
            "query": {"type": "string"},
            "suggestions": {"type": "array", "items": _ref("Suggestion")},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "problems", "documents", "generation", "verified", "damaged"],
        "properties": {
            "status": {
                "type": "string",
                "enum": ["ok", "degraded"],
                "description": "degraded: still answering, but see `problems`.",
            },
            "problems": {"type": "array", "items": {"type": "string"}},
            "documents": {"type": "integer", "minimum": 0},
            "generation": {"type": "string", "description": "Which index build and commit."},
            "committed_at": {"type": "string", "nullable": True, "format": "date-time"},
            "generation_age_seconds": {
                "type": "number",
                "nullable": True,
                "description": "Seconds since the generation served was committed.",
            },
            "verified": {
                "type": "boolean",
                "description": "Its files matched the sizes and checksums of its commit.",
            },
            "damaged": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Newer generations passed over because damaged, and why.",
            },
            "last_index_run": {
                "type": "object",
                "nullable": True,
                "description": "The last `article-search index` run: started_at, finished_at, "
                "finished, running, outcome, generation, documents, rebuild.",
            },
            "analytics": {
                "type": "object",
                "required": ["recording"],
                "description": "Whether readers' searches are recorded, and how many events "
                "could not be (a burst, the file locked or full): today and in all on this "
                "host, and by the worker that answered since it started.",
                "properties": {
                    "recording": {"type": "boolean"},
                    "dropped_today": {"type": "integer", "minimum": 0},
                    "dropped_total": {"type": "integer", "minimum": 0},
                    "dropped_by_this_worker": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}

# What each type of an article's field is in JSON (search.article.fields_json).
_TYPE_SCHEMAS = {
    "str": {"type": "string"},
    "str | None": NULLABLE_STRING,
    "dt.date | None": NULLABLE_DATE,
    "tuple[str, ...]": STRING_LIST,
}
_FIELD_DESCRIPTIONS = {
    "url": "The original article's address, if known.",
    "source": "The publication, if known.",
    "body": "The full text, plain (not HTML).",
}
_HIT_EXTRAS = {
    "snippet": {
        "type": "string",
        "description": "A passage of the text as escaped HTML, matches in <mark>.",
    },
    "score": {
        "type": "number",
        "nullable": True,
        "description": "Relevance score; null when sorted by date, or pinned.",
    },
    "pinned": {
        "type": "boolean",
        "description": "Placed at the top by an editors' rule (relevance order only).",
    },
}
_FACET_VALUE_SCHEMAS = {
    "value": {"type": "string"},
    "count": {
        "type": "integer",
        "minimum": 0,
        "description": "Results if this value were ticked, other facets' selections "
        "applied (disjunctive counts).",
    },
    "selected": {"type": "boolean"},
}
_ARTICLE_EXTRAS = {
    "page_url": {"type": "string", "description": "This article's HTML page."},
    "related": {"type": "array", "items": _ref("RelatedArticle")},
}


def _fields_schemas(declared: type, names: Sequence[str]) -> dict[str, dict]:
    """The JSON schema of each field ``names`` of the dataclass ``declared``, from its type."""
    types = {field.name: field.type for field in dataclasses.fields(declared)}
    schemas = {}
    for name in names:
        about = _FIELD_DESCRIPTIONS.get(name)
        schemas[name] = {**_TYPE_SCHEMAS[types[name]], **({"description": about} if about else {})}
    return schemas


def _object(properties: dict[str, dict]) -> dict:
    """An object schema whose every property is always present."""
    return {"type": "object", "required": list(properties), "properties": properties}


SCHEMAS["SearchHit"] = _object(
    {
        **_fields_schemas(Hit, CARD_FIELDS),
        **{name: _HIT_EXTRAS[name] for name in HIT_EXTRAS},
    }
)
SCHEMAS["FacetValue"] = _object({name: _FACET_VALUE_SCHEMAS[name] for name in FACET_VALUE_FIELDS})
SCHEMAS["RelatedArticle"] = _object(
    {**_fields_schemas(Hit, RELATED_FIELDS), "page_url": {"type": "string"}}
)
SCHEMAS["Article"] = _object(
    {
        **_fields_schemas(Article, JSON_FIELDS),
        **{name: _ARTICLE_EXTRAS[name] for name in ARTICLE_EXTRAS},
    }
)

_VIEW_AND_SEQ = {
    "view": {
        "type": "string",
        "pattern": "^[0-9a-f]{16,64}$",
        "description": "The page view's random id, made by the page and forgotten with it.",
    },
    "seq": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_SEQ,
        "description": "The search's number in the page view.",
    },
}
EVENT_SCHEMA = {
    "description": "A search the page settled on, or a result opened from it. Nothing else "
    "is taken. Sent by navigator.sendBeacon as text/plain; any content type is read as JSON.",
    "oneOf": [
        {
            "type": "object",
            "required": ["type", "view", "seq", "params", "results"],
            "properties": {
                "type": {"type": "string", "enum": ["search"]},
                **_VIEW_AND_SEQ,
                "params": {
                    "type": "string",
                    "maxLength": 600,
                    "description": "The search's query string, as /search takes it (a 400 "
                    "when /search would refuse it).",
                },
                "results": {"type": "integer", "minimum": 0, "maximum": MAX_RESULTS},
                "searched": {
                    "type": "string",
                    "maxLength": 600,
                    "description": "The query as corrected, if it was.",
                },
            },
        },
        {
            "type": "object",
            "required": ["type", "view", "seq", "position"],
            "properties": {
                "type": {"type": "string", "enum": ["click"]},
                **_VIEW_AND_SEQ,
                "position": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE * MAX_PER_PAGE,
                    "description": "The opened result's place, 1 the first of all pages.",
                },
            },
        },
    ],
}

BAD_PARAMETER = _json("Error", "A parameter is out of range or malformed; `parameter` names it.")
NO_INDEX = _json("Error", "No search index is available yet (Retry-After says when to retry).")
URI_TOO_LONG = {
    "description": "The request line is over 8,190 bytes, the server's limit, checked before "
    "the app sees the request (text/html): the only query refused for its length. A query "
    "of 2,730 characters can reach it once percent-encoded (3 bytes a punctuation mark, up "
    "to 9 a non-Latin letter), as can many region or theme values."
}


def _facet_parameter(facet: FacetDefinition) -> dict:
    values = STRING_LIST
    if facet.value_pattern:  # e.g. a year: anything else is a 400
        values = {
            "type": "array",
            "items": {"type": "string", "pattern": f"^{facet.value_pattern}$"},
        }
    return {
        "name": facet.name,
        "in": "query",
        "required": False,
        "description": f"Only articles with one of these {facet.label.lower()} values "
        "(repeatable; values OR together).",
        "style": "form",
        "explode": True,
        "schema": values,
    }


def _facet_schemas(facets: Sequence[FacetDefinition]) -> dict:
    """The search response's "facets", "facets_timed_out" and "facets_unlisted" (per facet)."""
    names = [facet.name for facet in facets]
    return {
        "facets": {
            "type": "object",
            "properties": {name: {"type": "array", "items": _ref("FacetValue")} for name in names},
            "additionalProperties": False,
            "description": "Per facet, its values with results and how many; every facet of "
            "the archive, or none when `counted` is false.",
        },
        "facets_timed_out": {
            "type": "array",
            "items": {"type": "string", "enum": names},
            "description": "Facets whose counting ran out of time (counts incomplete).",
        },
        "facets_unlisted": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": "integer", "minimum": 0} for name in names},
            "description": "Per facet, how many more values have results than are listed: "
            f"a facet lists its {FACET_VALUE_LIMIT} likeliest values (and every selected one); "
            "none when `counted` is false.",
        },
    }


def openapi_document(server_url: str = "", facets: Sequence[FacetDefinition] | None = None) -> dict:
    """The OpenAPI 3.0 document; ``server_url`` is where this app is being served.

    ``facets``: the archive's (default: region and theme), each a search parameter.
    """
    facets = configured_facets("") if facets is None else facets
    parameters = {**PARAMETERS, **{facet.name: _facet_parameter(facet) for facet in facets}}
    schemas = copy.deepcopy(SCHEMAS)
    schemas["SearchResponse"]["properties"].update(_facet_schemas(facets))
    search_parameters = [
        {"$ref": f"#/components/parameters/{name}"}
        for name in (
            "q",
            *(facet.name for facet in facets),
            "from",
            "to",
            "sort",
            "page",
            "per_page",
            "prefix",
            "typos",
            "synonyms",
            "semantic",
            "counts",
        )
    ]
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "article-search",
            "version": "0.1.0",
            "description": "Full-text search over an archive of news and opinion articles.",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search articles: hits, facet counts, timeline, suggestion.",
                    "parameters": search_parameters,
                    "responses": {
                        "200": _json("SearchResponse", "One page of results."),
                        "400": BAD_PARAMETER,
                        "414": URI_TOO_LONG,
                        "503": NO_INDEX,
                    },
                }
            },
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Completions for what is being typed in the search box.",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "description": "The text typed so far; the last word is completed.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "description": "At most this many suggestions.",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_SUGGEST_LIMIT,
                                "default": DEFAULT_SUGGEST_LIMIT,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json("SuggestResponse", "Completions, best first."),
                        "400": BAD_PARAMETER,
                        "414": URI_TOO_LONG,
                        "503": NO_INDEX,
                    },
                }
            },
            "/api/articles/{id}": {
                "get": {
                    "operationId": "article",
                    "summary": "One article with its full text and related articles.",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "description": "The article id; may contain slashes "
                            "(e.g. 00/reuters-1.txt), sent as they are.",
                            "schema": {"type": "string", "minLength": 1},
                        }
                    ],
                    "responses": {
                        "200": _json("Article", "The article."),
                        "404": _json("Error", "No article has this id."),
                        "414": URI_TOO_LONG,
                        "503": NO_INDEX,
                    },
                }
            },
            "/api/events": {
                "post": {
                    "operationId": "event",
                    "summary": "The search page's beacon: a search the reader settled on, or a "
                    "result opened. Only the search page sends these; nothing personal is kept.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": EVENT_SCHEMA}},
                    },
                    "responses": {
                        "204": {"description": "Taken (recorded, or dropped under load)."},
                        "400": _json("Error", "Not an event this endpoint takes."),
                        "403": _json("Error", "Sent from another site's page."),
                        "413": _json("Error", "Larger than 16 KB."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Whether the service can search, and what index it serves.",
                    "responses": {
                        "200": _json("Health", "The index is open."),
                        "503": NO_INDEX,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.0 description of the JSON API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "parameters": parameters,
            "schemas": {**schemas, **copy.deepcopy(ADMIN_SCHEMAS)},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    document["paths"].update(admin_paths())
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
