"""What the search page's script shares with the server, in one place.

The page updates as the reader types with htmx (web/static/, see
THIRD-PARTY-NOTICES.txt); app.js adds what htmx does not do: the completions
list under the box, one history entry per burst of typing, dates applied once
typed. Every number and rule they share with the server is here and is
rendered into the page (attributes of the search form, htmx's configuration in
a meta tag): app.js holds none of them.
"""

from __future__ import annotations

from flask import url_for

from search.suggest import MIN_PREFIX

SEARCH_DELAY_MS = 200  # the results follow the typing this long after the last keystroke
SUGGEST_DELAY_MS = 120  # completions are asked for this long after the last keystroke
TYPING_PAUSE_MS = 1000  # typing after a pause this long starts a new history entry
DATE_SETTLE_MS = 600  # a date typed segment by segment is applied after this pause
# A keystroke's results come without facet counts and the timeline (asked with this
# header): those on screen stay, dimmed, until the reader pauses this long after the
# results are shown, and the same search is asked for with them.
TYPING_HEADER = "X-Typing"
COUNTS_DELAY_MS = 300

# htmx under the Content-Security-Policy (no inline script or style, no eval): no
# eval-based features, no injected indicator style, no history snapshots (Back asks
# the server for the state, app.js), requests to this site only.
HTMX_CONFIG = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "historyCacheSize": 0,
    "selfRequestsOnly": True,
    "scrollIntoViewOnBoost": False,
}


def search_form_settings(events_url: str | None = None) -> dict:
    """The template context the search form's behaviour as the reader types is rendered from.

    ``events_url``: where the page reports the searches it settles on (None: it
    does not); a search counts as settled once shown for TYPING_PAUSE_MS, the
    pause that also ends a burst of typing's history entry.
    """
    events = {"events-url": events_url, "settle-ms": TYPING_PAUSE_MS} if events_url else {}
    return {
        "htmx_config": HTMX_CONFIG,
        "search_trigger": (
            f"submit, input from:#q changed delay:{SEARCH_DELAY_MS}ms, change, apply-dates, counts"
        ),
        "form_data": {
            "suggest-url": url_for("api.suggest"),
            "suggest-min-prefix": MIN_PREFIX,
            "suggest-delay-ms": SUGGEST_DELAY_MS,
            "typing-pause-ms": TYPING_PAUSE_MS,
            "date-settle-ms": DATE_SETTLE_MS,
            "typing-header": TYPING_HEADER,
            "counts-delay-ms": COUNTS_DELAY_MS,
            **events,
        },
    }
