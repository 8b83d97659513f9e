"""Whether this server records readers' searches, with which limits, and what the page is given.

On unless ``ARTICLE_SEARCH_ANALYTICS=0`` (or config ``ANALYTICS=False``). The
limits come from config or the environment: ``ARTICLE_SEARCH_ANALYTICS_DAYS``
(raw events kept, 90), ``ARTICLE_SEARCH_ANALYTICS_PER_MINUTE`` (events a
worker takes a minute, 6000), ``ARTICLE_SEARCH_ANALYTICS_MAX_EVENTS`` (raw
events the file holds, 2,000,000). Only the search page's own searches are
recorded, reported by the page itself once the reader settles on one
(web/static/app.js, web/beacon.py): the JSON API, the feeds and the command
line are not recorded at all, so that nothing a program does is counted as
a reader's search, and no keystroke is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Flask, current_app

from search.analytics.recorder import Recorder, RecorderSettings
from search.analytics.storage import analytics_path, dropped_counts
from search.results import SearchResult
from web.params import request_query

RECORDER = "article_search_analytics"
OFF_VALUES = ("0", "false", "off", "no")


def _positive(config: Mapping, key: str, variable: str, default: int) -> int:
    raw = config.get(key) or os.environ.get(variable, "")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def install_recorder(app: Flask) -> Recorder | None:
    """Give ``app`` its Recorder (or None when recording is off); returns it."""
    config = app.config
    enabled = config.get("ANALYTICS")
    if enabled is None:
        enabled = os.environ.get("ARTICLE_SEARCH_ANALYTICS", "1").strip().lower() not in OFF_VALUES
    recorder = None
    if enabled:
        defaults = RecorderSettings()
        settings = RecorderSettings(
            retention_days=_positive(
                config, "ANALYTICS_DAYS", "ARTICLE_SEARCH_ANALYTICS_DAYS", defaults.retention_days
            ),
            per_minute=_positive(
                config,
                "ANALYTICS_PER_MINUTE",
                "ARTICLE_SEARCH_ANALYTICS_PER_MINUTE",
                defaults.per_minute,
            ),
            max_events=_positive(
                config,
                "ANALYTICS_MAX_EVENTS",
                "ARTICLE_SEARCH_ANALYTICS_MAX_EVENTS",
                defaults.max_events,
            ),
        )
        recorder = Recorder(analytics_path(config["INDEX_DIR"]), settings)
    app.extensions[RECORDER] = recorder
    return recorder


def recorder() -> Recorder | None:
    """The current app's Recorder, None when recording is off."""
    return current_app.extensions.get(RECORDER)


def search_event_data(result: SearchResult) -> dict | None:
    """What the page sends back once the reader settles on this search; None for the bare
    page (no words, filters or dates: nothing was searched) or when recording is off."""
    request = result.request
    if recorder() is None or not (
        request.q or request.filters or request.date_from or request.date_to
    ):
        return None
    return {
        "params": urlencode(request_query(request)),
        "results": result.total,
        "searched": result.showing_results_for or "",
    }


def health() -> dict:
    """/healthz's ``analytics``: whether searches are recorded, and events dropped."""
    found = recorder()
    if found is None:
        return {"recording": False}
    counts = dropped_counts(found.path)
    pending = found.pending_drops()
    return {
        "recording": True,
        "dropped_today": counts.get("today", 0) + pending,
        "dropped_total": counts.get("total", 0) + pending,
        "dropped_by_this_worker": found.dropped,
    }
