"""The Flask application factory of article-search: HTML pages, JSON API, Atom feeds.

``create_app()`` builds the app and does nothing else at import time; the
search engine is opened lazily, once per process, on the first request that
needs it. Configuration comes from the ``config`` mapping, else from the
environment (``search.settings``), else safe defaults. Debug mode is off
unless the operator passes ``DEBUG`` in code: no request or variable turns it on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, current_app, url_for

from search import settings
from search.editors import SESSION_SECONDS
from search.facets import configured_facets
from search.storage.index_folder import IndexNotFoundError

EXTENSION = "article_search"


class EngineHolder:
    """One SearchEngine per process, opened on first use (not per request).

    A missing index is not remembered: the next request tries again, so a
    server started before the first ``article-search index`` recovers by itself.
    """

    def __init__(self, index_dir: Path, facets: tuple):
        self.index_dir = Path(index_dir)
        self.facets = facets
        self._engine = None
        self._lock = threading.Lock()

    def get(self):
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    from search.engine import SearchEngine

                    self._engine = SearchEngine(self.index_dir, facets=self.facets, serving=True)
                engine = self._engine
        return engine


def engine():
    """The current app's SearchEngine; raises IndexNotFoundError when there is no index."""
    return current_app.extensions[EXTENSION].get()


def facets() -> tuple:
    """The current app's facets (search.facets.FacetDefinition), in the order shown."""
    return current_app.extensions[EXTENSION].facets


def facet_names() -> list[str]:
    return [facet.name for facet in facets()]


def static_url(filename: str) -> str:
    """A static file's URL with its modification time, so a new release is never stale."""
    versions = current_app.extensions.setdefault("article_search_static", {})
    if filename not in versions:
        try:
            versions[filename] = int(os.stat(Path(current_app.static_folder) / filename).st_mtime)
        except OSError:
            versions[filename] = 0
    return url_for("static", filename=filename, v=versions[filename])


def template_globals() -> dict:
    return {"site_name": current_app.config["SITE_NAME"], "static_url": static_url}


def create_app(config: Mapping | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        INDEX_DIR=settings.INDEX.read(),
        SITE_NAME=settings.SITE_NAME.read(),
        # Comma-separated facet names (search.facets); None: ARTICLE_SEARCH_FACETS or the default.
        FACETS=None,
        FEED_SIZE=20,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        MAX_CONTENT_LENGTH=64 * 1024,
        # The desk's session cookie (web/editor_auth.py); the signing key is made when first
        # needed unless configured (web/secret_key.py).
        SECRET_KEY=settings.SECRET_KEY.read(),
        SESSION_COOKIE_NAME="article_search_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.SECURE_COOKIE.read(),
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=SESSION_SECONDS,
        FORWARDED_ALLOW_IPS=settings.FORWARDED_ALLOW_IPS.read(),
    )
    if config:
        app.config.update(config)
    # Flask would read FLASK_DEBUG from the environment; only code config may debug.
    app.debug = bool(config and config.get("DEBUG"))
    app.config["DEBUG"] = app.debug
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    app.extensions[EXTENSION] = EngineHolder(
        Path(app.config["INDEX_DIR"]), configured_facets(app.config["FACETS"])
    )
    app.context_processor(template_globals)

    from web import analytics_desk, api, beacon, desk, desk_api, errors, pages, sign_in
    from web.admission import admission_control
    from web.editor_auth import init_desk_auth
    from web.recording import install_recorder

    recorder = install_recorder(app)
    shed_event = recorder.shed if recorder is not None else lambda: None
    app.wsgi_app = admission_control(app.wsgi_app, app.config, {beacon.PATH: shed_event})
    init_desk_auth(app)
    app.url_map.converters[desk_api.ID] = desk_api.DeskIdConverter
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(beacon.blueprint)
    app.register_blueprint(sign_in.blueprint)
    app.register_blueprint(desk.blueprint)
    app.register_blueprint(desk_api.blueprint)
    app.register_blueprint(analytics_desk.blueprint)
    errors.register(app)
    return app


__all__ = ["create_app", "engine", "IndexNotFoundError"]
