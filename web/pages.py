"""The HTML pages: the search page (and its results-only partial), article pages, Atom feeds."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from web import engine, facet_names, facets
from web.errors import is_partial
from web.feed import atom_feed
from web.params import parse_int, parse_search_request, request_query
from web.recording import recorder, search_event_data
from web.search_form import TYPING_HEADER, search_form_settings
from web.view import article_page, page_title, search_page, search_url

blueprint = Blueprint("pages", __name__)


@blueprint.route("/")
@blueprint.route("/search")
def search() -> Response:
    search_request = parse_search_request(request.args, facet_names())
    if is_partial() and request.headers.get(TYPING_HEADER) == "1":
        # A keystroke's results: the counts follow once the reader pauses (web/static/app.js).
        search_request = dataclasses.replace(search_request, counts=False)
    result = engine().search(search_request)
    context = search_page(result)
    context["deferred_facets"] = () if search_request.counts else facets()
    context["search_event"] = search_event_data(result)
    if is_partial():
        body = render_template("_partial.html", **context)
    else:
        events_url = url_for("beacon.event") if recorder() is not None else None
        body = render_template("search.html", **context, **search_form_settings(events_url))
    return Response(body, mimetype="text/html")


def is_safe_article_id(article_id: str) -> bool:
    """Ids are relative paths; refuse ones that climb out or are not ids at all."""
    parts = article_id.split("/")
    return bool(article_id) and "\x00" not in article_id and ".." not in parts


@blueprint.route("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    if not is_safe_article_id(article_id):
        abort(404)
    search_engine = engine()
    found = search_engine.article(article_id)
    if found is None:
        abort(404)
    context = article_page(found, search_engine.related(article_id, limit=5), facet_names())
    return Response(render_template("article.html", **context), mimetype="text/html")


@blueprint.route("/search.atom")
def feed() -> Response:
    size = parse_int(request.args, "per_page", current_app.config["FEED_SIZE"], 100)
    asked = parse_search_request(request.args, facet_names())
    search_request = dataclasses.replace(asked, sort="newest", page=1, per_page=size)
    result = engine().search(search_request)
    feed_request = dataclasses.replace(search_request, sort="relevance")
    pairs = request_query(dataclasses.replace(feed_request, per_page=asked.per_page))
    self_url = url_for("pages.feed", _external=True) + (f"?{urlencode(pairs)}" if pairs else "")
    html_url = url_for("pages.search", _external=True)
    html_pairs = request_query(dataclasses.replace(search_request, per_page=10, sort="newest"))
    if html_pairs:
        html_url += f"?{urlencode(html_pairs)}"
    body = atom_feed(
        result,
        title=f"{current_app.config['SITE_NAME']}: {page_title(search_request)}",
        self_url=self_url,
        html_url=html_url,
        article_url=lambda article_id: url_for(
            "pages.article", article_id=article_id, _external=True
        ),
    )
    return Response(body, mimetype="application/atom+xml")


__all__ = ["blueprint", "search_url"]
