"""Who may use the desk: editors' sessions, API tokens and CSRF tokens under /admin and /api/admin.

The interface for any blueprint that adds to the desk (web/desk.py, analytics)::

    from web.editor_auth import add_desk_section, csrf_token, editor_api, editor_page
    from web.editor_auth import signed_in_editor

    @blueprint.route("/admin/analytics")
    @editor_page
    def analytics_page():            # render_template("admin/....html"), which
        ...                          # extends "admin/base.html"

    @blueprint.route("/api/admin/analytics")
    @editor_api
    def analytics_json():
        ...

    blueprint.record_once(lambda state: add_desk_section(state.app, "Analytics", "x.page"))

- ``editor_page`` guards an HTML route. Signed out (or the session expired):
  303 to the sign-in form, which comes back to the page after. Any method but
  GET/HEAD must carry the session's CSRF token in the form field
  ``csrf_token`` (``<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">``),
  else 403.
- ``editor_api`` guards a JSON route: ``Authorization: Bearer TOKEN``
  (``article-search editors token NAME``), or the session cookie, with the
  CSRF token in the ``X-CSRF-Token`` header for any method but GET/HEAD.
  Otherwise 401 (with ``WWW-Authenticate: Bearer``) or 403, as JSON.
- ``signed_in_editor()``: the name of the editor making the request (inside
  a guarded route). ``csrf_token()``: the token for forms, also a template global.
- ``add_desk_section(app, label, endpoint)``: a link in the desk's navigation.

Routes must live under /admin or /api/admin: only there is a session cookie
read or written (readers' pages never get one), and on a replica
(search.desk.is_replica) everything there answers 404. Desk responses are
never cached (``Cache-Control: no-store``).

The session cookie (Flask's, signed with web/secret_key.py's key) holds a
random session id and the CSRF token; the accounts database holds the
session, so signing out, removing the editor or the session's expiry
(search.editors: 8 hours, or 1 hour idle) ends it on every worker. The cookie
is HttpOnly and SameSite=Strict, Secure when the request came over TLS
(gunicorn believes ``X-Forwarded-Proto`` from ``FORWARDED_ALLOW_IPS``, nginx
on the same host by default) or when ``ARTICLE_SEARCH_SECURE_COOKIE=1``.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from search.desk import is_replica
from search.editors import Editor, EditorStore
from web.errors import json_error, unavailable
from web.secret_key import kept_secret_key

DESK_PREFIXES = ("/admin", "/api/admin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STORE = "article_search_editors"
EXPIRED_FORM = "This form has expired or did not come from the desk. Reload it and try again."
SECTIONS = "article_search_desk_sections"


def is_desk_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in DESK_PREFIXES)


def _index_dir() -> Path:
    return Path(current_app.config["INDEX_DIR"])


def editor_store() -> EditorStore:
    """The app's accounts database (one object per process: it remembers checked tokens)."""
    return current_app.extensions[STORE]


class DeskSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, for desk paths only, Secure whenever the request is."""

    def get_signing_serializer(self, app: Flask):
        if not is_desk_path(request.path) or is_replica(app.config["INDEX_DIR"]):
            return None  # a null session: nothing read, no cookie set
        if app.secret_key is None:
            try:
                app.secret_key = kept_secret_key(Path(app.config["INDEX_DIR"]))
            except OSError as error:  # _desk_gate answers 503
                app.logger.error("the desk cannot keep its secret key: %s", error)
                return None
        return super().get_signing_serializer(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def csrf_token() -> str:
    """The session's CSRF token, for forms that change something (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_matches(given: str | None) -> bool:
    expected = session.get("csrf")
    return (
        isinstance(given, str)
        and isinstance(expected, str)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def signed_in_editor() -> str:
    """The name of the editor making this request (in a route guarded here)."""
    return g.desk_editor.name


def session_editor() -> Editor | None:
    """The editor this request's session cookie is signed in as, if it still is."""
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        return None
    return editor_store().session_editor(session_id)


def start_session(editor: Editor) -> None:
    """Sign ``editor`` in: a fresh session id and CSRF token (none kept from before)."""
    session.clear()
    session["sid"] = editor_store().start_session(editor)
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def end_session() -> None:
    session_id = session.get("sid")
    if isinstance(session_id, str):
        editor_store().end_session(session_id)
    session.clear()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a desk page of this site, else the desk."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        path = target.split("?", 1)[0]
        if is_desk_path(path) and not path.startswith("/api/"):
            return target
    return url_for("desk.home")


def editor_page(view: Callable) -> Callable:
    """Guard an HTML desk route: signed-in editors only; CSRF-checked unless GET/HEAD."""

    @wraps(view)
    def guarded(*args, **kwargs):
        editor = session_editor()
        if editor is None:
            back = request.full_path.rstrip("?") if request.method in SAFE_METHODS else None
            return redirect(url_for("sign_in.form", next=back), 303)
        if request.method not in SAFE_METHODS and not csrf_matches(request.form.get("csrf_token")):
            abort(
                403, "This form has expired or did not come from the desk. Reload it and try again."
            )
        g.desk_editor = editor
        return view(*args, **kwargs)

    return guarded


def _unauthorized(message: str) -> Response:
    response = json_error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="article-search desk"'
    return response


def editor_api(view: Callable) -> Callable:
    """Guard a JSON desk route: a Bearer token, or a session with its CSRF token in a header."""

    @wraps(view)
    def guarded(*args, **kwargs):
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            editor = None
            if scheme.lower() == "bearer" and token.strip():
                editor = editor_store().check_token(token.strip())
            if editor is None:
                return _unauthorized("that API token is not valid (revoked, or never issued)")
        else:
            editor = session_editor()
            if editor is None:
                return _unauthorized("sign in at /admin, or send Authorization: Bearer TOKEN")
            unsafe = request.method not in SAFE_METHODS
            if unsafe and not csrf_matches(request.headers.get("X-CSRF-Token")):
                return json_error(403, "a change with the session cookie needs X-CSRF-Token")
        g.desk_editor = editor
        return view(*args, **kwargs)

    return guarded


def client_address() -> str:
    """The client's address: the last hop of X-Forwarded-For when the peer is a trusted proxy.

    Trusted as gunicorn trusts ``X-Forwarded-Proto``: peers in
    ``FORWARDED_ALLOW_IPS`` (comma-separated addresses or networks, ``*`` for
    any; 127.0.0.1 by default). Used to count failed sign-ins per client.
    """
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if hops and _trusted_proxy(peer, current_app.config["FORWARDED_ALLOW_IPS"]):
        return hops[-1]
    return peer


def _trusted_proxy(peer: str, allowed: str) -> bool:
    entries = [entry.strip() for entry in allowed.split(",") if entry.strip()]
    if "*" in entries:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def add_desk_section(app: Flask, label: str, endpoint: str) -> None:
    """Show ``label`` in the desk's navigation, linking to ``endpoint``."""
    app.extensions.setdefault(SECTIONS, []).append((label, endpoint))


def desk_sections() -> list[tuple[str, str]]:
    return current_app.extensions.get(SECTIONS, [])


def _desk_gate() -> Response | None:
    """No desk on a replica (404), nor without a key to sign its sessions (503)."""
    if not is_desk_path(request.path):
        return None
    if is_replica(_index_dir()):
        abort(404)
    if current_app.secret_key is None:
        return desk_unavailable()
    return None


def desk_unavailable(error: Exception | None = None) -> Response:
    """503: the desk cannot read or write its databases in the index folder."""
    if error is not None:
        current_app.logger.error("the desk's database failed: %s", error)
    return unavailable(
        "The desk is not available",
        "The desk is not available: it cannot write in the index folder (see the log).",
    )


def _never_cache(response: Response) -> Response:
    if is_desk_path(request.path):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_desk_auth(app: Flask) -> None:
    """Set up sessions, the accounts database and the replica check for ``app``."""
    app.session_interface = DeskSessionInterface()
    app.extensions[STORE] = EditorStore(Path(app.config["INDEX_DIR"]))
    app.before_request(_desk_gate)
    app.register_error_handler(sqlite3.Error, desk_unavailable)
    app.after_request(_never_cache)
    app.add_template_global(csrf_token)
    app.add_template_global(desk_sections)
