"""Signing in to the desk and out again: /admin/sign-in and /admin/sign-out.

A wrong name or password gets one answer for both (as slow for an unknown
name: search.editors), is logged with the client's address and the name only
when it is an editor's (a password typed into the name box stays out of the
log), and counts towards the lock (search.editors: per name and per client).
A locked sign-in answers 429 with Retry-After, without checking the password.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from search.editors import ACCOUNT_FAILURES, CLIENT_FAILURES, NAME_PATTERN
from web.editor_auth import (
    client_address,
    csrf_matches,
    editor_page,
    editor_store,
    end_session,
    safe_next,
    session_editor,
    signed_in_editor,
    start_session,
)

blueprint = Blueprint("sign_in", __name__)
MAX_NAME_LENGTH = 64


def _form(status: int = 200, message: str | None = None, name: str = "") -> Response:
    body = render_template(
        "admin/sign_in.html",
        title="Sign in to the desk",
        message=message,
        name=name,
        next=safe_next(request.values.get("next")),
        signed_out=request.args.get("signed_out") == "1",
    )
    return Response(body, status=status, mimetype="text/html")


@blueprint.get("/admin/sign-in")
def form() -> Response:
    if session_editor() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    return _form()


@blueprint.post("/admin/sign-in")
def sign_in() -> Response:
    if not csrf_matches(request.form.get("csrf_token")):
        return _form(400, "The form had expired. Please sign in again.")
    name = request.form.get("name", "").strip()[:MAX_NAME_LENGTH]
    password = request.form.get("password", "")
    client = client_address()
    store = editor_store()
    wait = store.sign_in_locked_for(name, client)
    if wait > 0:
        current_app.logger.warning("sign-in refused from %s: locked after failed sign-ins", client)
        minutes = math.ceil(wait / 60)
        response = _form(
            429,
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            name,
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    editor = store.check_password(name, password) if name and password else None
    if editor is None:
        for_name, from_client = store.record_failure(name, client)
        known = any(e.name.lower() == name.lower() for e in store.editors()) if name else False
        current_app.logger.warning(
            "sign-in failed for %s from %s (%d of %d for the name, %d of %d from the client)",
            repr(name) if known and NAME_PATTERN.fullmatch(name) else "a name that is no editor's",
            client,
            for_name,
            ACCOUNT_FAILURES,
            from_client,
            CLIENT_FAILURES,
        )
        return _form(401, "That name and password do not match an editor's.", name)
    store.clear_failures(editor.name)
    start_session(editor)
    current_app.logger.warning("editor %r signed in from %s", editor.name, client)
    return redirect(safe_next(request.form.get("next")), 303)


@blueprint.post("/admin/sign-out")
@editor_page
def sign_out() -> Response:
    current_app.logger.warning("editor %r signed out", signed_in_editor())
    end_session()
    return redirect(url_for("sign_in.form", signed_out=1), 303)
