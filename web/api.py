"""The JSON API: search, completions, articles, health and the OpenAPI description."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from search.serialize import article_json, result_json, suggestions_json
from web import engine, facet_names, facets, recording
from web.errors import json_error
from web.health import health_report
from web.openapi import openapi_document
from web.pages import is_safe_article_id
from web.params import (
    DEFAULT_SUGGEST_LIMIT,
    MAX_SUGGEST_LIMIT,
    parse_int,
    parse_query_text,
    parse_search_request,
)

blueprint = Blueprint("api", __name__)


@blueprint.route("/api/search")
def search() -> Response:
    result = engine().search(parse_search_request(request.args, facet_names()))
    return jsonify(result_json(result))


@blueprint.route("/api/suggest")
def suggest() -> Response:
    prefix = parse_query_text(request.args)
    limit = parse_int(request.args, "limit", DEFAULT_SUGGEST_LIMIT, MAX_SUGGEST_LIMIT)
    suggestions = engine().suggest(prefix, limit=limit) if prefix else []
    return jsonify(suggestions_json(prefix, suggestions[:limit]))


@blueprint.route("/api/articles/<path:article_id>")
def article(article_id: str) -> Response:
    search_engine = engine()
    found = search_engine.article(article_id) if is_safe_article_id(article_id) else None
    if found is None:
        return json_error(404, f"no article with id {article_id!r}", "id")
    related = search_engine.related(found.id, limit=5)
    return jsonify(article_json(found, related, _article_page_url))


def _article_page_url(article_id: str) -> str:
    return url_for("pages.article", article_id=article_id)


@blueprint.route("/healthz")
def health() -> Response:
    report = health_report(engine().stats(), Path(current_app.config["INDEX_DIR"]))
    report["analytics"] = recording.health()
    return jsonify(report)


@blueprint.route("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(request.host_url.rstrip("/"), facets()))
