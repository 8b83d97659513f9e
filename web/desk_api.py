"""The editors' desk as JSON under /api/admin, for automation (``Authorization: Bearer TOKEN``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from web.editor_auth import editor_api, signed_in_editor

blueprint = Blueprint("desk_api", __name__)


@blueprint.get("/api/admin/me")
@editor_api
def me() -> Response:
    """Who the token (or session) belongs to: a way for automation to check its token."""
    return jsonify({"editor": signed_in_editor()})
