"""The editors' desk as JSON under /api/admin, for automation (``Authorization: Bearer TOKEN``).

Shapes are search.desk's (its docstring); this module only reads the body,
names the editor and maps errors: a body that is not JSON, or a synonym,
rule or freshness that search.desk refuses, is a 400 naming what is wrong; an
unknown id or change number a 404. Every change is recorded in the desk's
log under the signed-in editor's name.

| route | what |
|---|---|
| ``GET /api/admin/me`` | whose token or session this is |
| ``GET, POST /api/admin/synonyms`` | list; add (201 with its ``id``) |
| ``GET, PUT, DELETE /api/admin/synonyms/ID`` | one synonym; replace it; remove it (204) |
| ``GET, POST /api/admin/rules`` | list; add (201 with its ``id``) |
| ``GET, PUT, DELETE /api/admin/rules/ID`` | one rule; replace it; remove it (204) |
| ``GET, PUT /api/admin/freshness`` | the freshness setting; change it |
| ``GET /api/admin/history?limit=N`` | the change log, newest first |
| ``POST /api/admin/history/N/restore`` | the desk as it was right after change N (0: empty) |
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.routing import IntegerConverter

from search.desk import Desk, DeskError, DeskNotFoundError
from web.editor_auth import editor_api, signed_in_editor
from web.errors import json_error
from web.params import parse_int

blueprint = Blueprint("desk_api", __name__)
DESK = "article_search_desk_store"
ID = "desk_id"  # the URL converter of a synonym's, rule's or change's number


class DeskIdConverter(IntegerConverter):
    """A number of at most 18 digits (SQLite's integers stop at 19): any longer matches no
    route, so it is a 404 for every method, not a 405 for some."""

    regex = r"\d{1,18}"


MAX_HISTORY = 1000


class BadBody(ValueError):
    """The request's body is not JSON."""


def editors_desk() -> Desk:
    """The app's desk (one per process; search.desk.Desk serialises its own use)."""
    desk = current_app.extensions.get(DESK)
    if desk is None:
        desk = current_app.extensions.setdefault(DESK, Desk(Path(current_app.config["INDEX_DIR"])))
    return desk


def _body() -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadBody("the request's body must be JSON (Content-Type: application/json)") from None


@blueprint.errorhandler(BadBody)
def bad_body(error: BadBody) -> Response:
    return json_error(400, str(error))


@blueprint.errorhandler(DeskError)
def desk_error(error: DeskError) -> Response:
    return json_error(404 if isinstance(error, DeskNotFoundError) else 400, str(error))


def _created(item, endpoint: str) -> Response:
    response = jsonify(item.to_json())
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, id=item.id)
    return response


def _no_content() -> Response:
    return Response(status=204)


@blueprint.get("/api/admin/me")
@editor_api
def me() -> Response:
    """Who the token (or session) belongs to: a way for automation to check its token."""
    return jsonify({"editor": signed_in_editor()})


@blueprint.get("/api/admin/synonyms")
@editor_api
def synonyms() -> Response:
    return jsonify({"synonyms": [s.to_json() for s in editors_desk().state().synonyms]})


@blueprint.post("/api/admin/synonyms")
@editor_api
def add_synonym() -> Response:
    return _created(editors_desk().add_synonym(_body(), signed_in_editor()), "desk_api.synonym")


@blueprint.get(f"/api/admin/synonyms/<{ID}:id>")
@editor_api
def synonym(id: int) -> Response:
    return jsonify(editors_desk().synonym(id).to_json())


@blueprint.put(f"/api/admin/synonyms/<{ID}:id>")
@editor_api
def update_synonym(id: int) -> Response:
    return jsonify(editors_desk().update_synonym(id, _body(), signed_in_editor()).to_json())


@blueprint.delete(f"/api/admin/synonyms/<{ID}:id>")
@editor_api
def remove_synonym(id: int) -> Response:
    editors_desk().remove_synonym(id, signed_in_editor())
    return _no_content()


@blueprint.get("/api/admin/rules")
@editor_api
def rules() -> Response:
    return jsonify({"rules": [r.to_json() for r in editors_desk().state().rules]})


@blueprint.post("/api/admin/rules")
@editor_api
def add_rule() -> Response:
    return _created(editors_desk().add_rule(_body(), signed_in_editor()), "desk_api.rule")


@blueprint.get(f"/api/admin/rules/<{ID}:id>")
@editor_api
def rule(id: int) -> Response:
    return jsonify(editors_desk().rule(id).to_json())


@blueprint.put(f"/api/admin/rules/<{ID}:id>")
@editor_api
def update_rule(id: int) -> Response:
    return jsonify(editors_desk().update_rule(id, _body(), signed_in_editor()).to_json())


@blueprint.delete(f"/api/admin/rules/<{ID}:id>")
@editor_api
def remove_rule(id: int) -> Response:
    editors_desk().remove_rule(id, signed_in_editor())
    return _no_content()


@blueprint.get("/api/admin/freshness")
@editor_api
def freshness() -> Response:
    return jsonify(editors_desk().state().freshness.to_json())


@blueprint.put("/api/admin/freshness")
@editor_api
def set_freshness() -> Response:
    return jsonify(editors_desk().set_freshness(_body(), signed_in_editor()).to_json())


@blueprint.get("/api/admin/history")
@editor_api
def history() -> Response:
    limit = parse_int(request.args, "limit", 100, MAX_HISTORY)
    return jsonify({"changes": [c.to_json() for c in editors_desk().history(limit)]})


@blueprint.post(f"/api/admin/history/<{ID}:number>/restore")
@editor_api
def restore(number: int) -> Response:
    return jsonify(editors_desk().restore(number, signed_in_editor()).to_json())
