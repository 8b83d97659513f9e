"""The editors' desk, as pages under /admin: synonyms, rules, freshness, preview, history."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from web.editor_auth import add_desk_section, editor_page

blueprint = Blueprint("desk", __name__)
blueprint.record_once(lambda state: add_desk_section(state.app, "Desk", "desk.home"))


@blueprint.get("/admin")
@editor_page
def home() -> Response:
    return Response(render_template("admin/desk.html", title="The desk"), mimetype="text/html")
