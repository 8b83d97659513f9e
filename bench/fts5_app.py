"""The FTS5 baseline behind Flask, for the HTTP measurement: ``/api/search`` and ``/healthz``.

Served by the same gunicorn settings as article-search (``web.gunicorn_conf``);
the database is named by ``BENCH_FTS5_DB``.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from fts5_baseline import Fts5Search


def create_app() -> Flask:
    app = Flask(__name__)
    searcher = Fts5Search(os.environ["BENCH_FTS5_DB"])

    @app.route("/api/search")
    def search():
        return jsonify(searcher.search(request.query_string.decode("utf-8")))

    @app.route("/healthz")
    def health():
        return jsonify({"status": "ok"})

    return app
