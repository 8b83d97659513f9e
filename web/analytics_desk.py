"""The editors' reports on readers' searches: /admin/analytics (HTML), its CSV lists, and
/api/admin/analytics (JSON), for signed-in editors only (web/editor_auth.py).

The period comes from ``from`` and ``to`` (YYYY-MM-DD) or ``since`` (``7d``);
the default is the last 7 days. The reports are search.analytics.reports',
over this host's file and the replicas' copies. The searches-per-day chart is
drawn here as SVG (web/timeline.py's bars, no script); each query that found
nothing links to the desk's synonym and best-bet forms, filled in with it
(``DESK_FORMS``: the desk page's parameters that fill its forms in).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)

from search.analytics.reports import (
    TABLES,
    Period,
    PeriodError,
    Report,
    build_report,
    configured_threshold,
    report_csv,
)
from web.editor_auth import add_desk_section, editor_api, editor_page
from web.params import BadRequestParameter
from web.timeline import MONTHS, Chart, place_bars
from web.view import Link

blueprint = Blueprint("analytics", __name__)
blueprint.record_once(lambda state: add_desk_section(state.app, "Analytics", "analytics.page"))

QUICK_PERIODS = (("Last 7 days", "7d"), ("Last 30 days", "30d"), ("Last 90 days", "90d"))
MAX_POSITION_BAR = 20  # positions past it share one bar
# What each no-result query offers: (label, the parameter of the desk's page, web/desk.py,
# that fills in its form, and where on the page that form is). The desk previews the query too.
DESK_FORMS = (
    ("Add a synonym", "synonym_from", "synonyms-heading"),
    ("Add a best bet", "rule_query", "rules-heading"),
)


def requested_period() -> Period:
    """The period the request asks for; BadRequestParameter (a 400) when it cannot be read."""
    args = request.args
    since = args.get("from") or args.get("since")
    try:
        return Period.parse(since, args.get("to") or None)
    except PeriodError as error:
        raise BadRequestParameter("from", str(error)) from None


def requested_report() -> Report:
    return build_report(
        Path(current_app.config["INDEX_DIR"]),
        requested_period(),
        threshold=configured_threshold(),
    )


def _day_name(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def searches_chart(report: Report) -> Chart | None:
    items = [
        (day.day[5:], f"{_day_name(day.day)}: {day.searches:,} searches", day.searches, None)
        for day in report.per_day
    ]
    bars = place_bars(items)
    return (
        Chart(tuple(bars), "Searches per day")
        if any(day.searches for day in report.per_day)
        else None
    )


def positions_chart(report: Report) -> Chart | None:
    counts = [0] * MAX_POSITION_BAR
    for position in report.click_positions:
        counts[min(position.position, MAX_POSITION_BAR) - 1] += position.clicks
    if not any(counts):
        return None
    items = []
    for index, count in enumerate(counts):
        label = f"{index + 1}" if index + 1 < MAX_POSITION_BAR else f"{MAX_POSITION_BAR}+"
        items.append((label, f"Result {label}: opened {count:,} times", count, None))
    return Chart(tuple(place_bars(items)), "Results opened, by position")


def desk_actions(query: str) -> list[Link]:
    """Links to the desk's synonym and best-bet forms, filled in with ``query``."""
    return [
        Link(label, url_for("desk.home", q=query, **{field: query}, _anchor=anchor))
        for label, field, anchor in DESK_FORMS
    ]


def _period_url(**args: str) -> str:
    return url_for("analytics.page", **args)


@blueprint.get("/admin/analytics")
@editor_page
def page() -> Response:
    report = requested_report()
    shown = {"from": report.start, "to": report.end}
    body = render_template(
        "admin/analytics.html",
        title="What readers search for",
        report=report,
        searches_chart=searches_chart(report),
        positions_chart=positions_chart(report),
        no_result_rows=[(row, desk_actions(row.query)) for row in report.no_result_queries],
        quick_periods=[Link(label, _period_url(since=since)) for label, since in QUICK_PERIODS],
        csv_urls={table: url_for("analytics.csv_table", table=table, **shown) for table in TABLES},
        share=lambda part, whole: f"{part / whole:.0%}" if whole else "–",
    )
    return Response(body, mimetype="text/html")


@blueprint.get("/admin/analytics/<table>.csv")
@editor_page
def csv_table(table: str) -> Response:
    if table not in TABLES:
        abort(404)
    report = requested_report()
    filename = f"analytics-{table}-{report.start}-{report.end}.csv"
    return Response(
        report_csv(report, table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.get("/api/admin/analytics")
@editor_api
def report_json() -> Response:
    return jsonify(requested_report().to_json())
