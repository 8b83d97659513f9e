"""Whether this server records readers' searches, with which limits, and what the page is given.

On unless ``ARTICLE_SEARCH_ANALYTICS=0`` (or config ``ANALYTICS=False``). The
limits come from config or the environment (``search.settings``' ANALYTICS_DAYS,
ANALYTICS_PER_MINUTE, ANALYTICS_MAX_EVENTS). Only the search page's own searches are
recorded, reported by the page itself once the reader settles on one
(web/static/app.js, web/beacon.py): the JSON API, the feeds and the command
line are not recorded at all, so that nothing a program does is counted as
a reader's search, and no keystroke is.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Flask, current_app

from search import settings
from search.analytics.recorder import Recorder, RecorderSettings
from search.analytics.storage import analytics_path, dropped_counts
from search.results import SearchResult
from web.params import request_query

RECORDER = "article_search_analytics"


def _limit(config: Mapping, key: str, setting: settings.Setting) -> int:
    """The app's ``key`` when its config sets it (tests do), else the setting's."""
    return int(config.get(key) or setting.read())


def install_recorder(app: Flask) -> Recorder | None:
    """Give ``app`` its Recorder (or None when recording is off); returns it."""
    config = app.config
    enabled = config.get("ANALYTICS")
    if enabled is None:
        enabled = settings.ANALYTICS.read()
    recorder = None
    if enabled:
        limits = RecorderSettings(
            retention_days=_limit(config, "ANALYTICS_DAYS", settings.ANALYTICS_DAYS),
            per_minute=_limit(config, "ANALYTICS_PER_MINUTE", settings.ANALYTICS_PER_MINUTE),
            max_events=_limit(config, "ANALYTICS_MAX_EVENTS", settings.ANALYTICS_MAX_EVENTS),
        )
        recorder = Recorder(analytics_path(config["INDEX_DIR"]), limits)
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
