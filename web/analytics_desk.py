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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Section:
    """One report on the page: its chart or its table (cells are text, or links), its CSV."""

    id: str
    heading: str
    csv_url: str
    rarer: str  # how many the threshold left out, "" when none
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str | tuple[Link, ...], ...], ...] = ()
    chart: Chart | None = None
    empty: str = "None shown."


def _count(number: int) -> str:
    return f"{number:,}"


def sections(report: Report) -> list[Section]:
    """The page's reports, in the order an editor acts on them: what found nothing first."""
    shown = {"from": report.start, "to": report.end}

    def section(table: str, heading: str, what: str = "queries", **rest) -> Section:
        rarer = report.rarer.get(table, 0)
        return Section(
            id=table.replace("_", "-"),
            heading=heading,
            csv_url=url_for("analytics.csv_table", table=table, **shown),
            rarer=f"{rarer:,} more {what} searched fewer than {report.threshold} times in "
            "this period not shown."
            if rarer
            else "",
            **rest,
        )

    return [
        section(
            "per_day",
            "Searches per day",
            chart=searches_chart(report),
            empty="No searches in this period.",
        ),
        section(
            "no_result_queries",
            "Queries with no result",
            columns=("Query", "Searches", "Last seen", "Fix it"),
            rows=tuple(
                (r.query, _count(r.searches), r.last_seen, tuple(desk_actions(r.query)))
                for r in report.no_result_queries
            ),
        ),
        section(
            "top_queries",
            "Top queries",
            columns=("Query", "Searches", "No result", "Result opened", "Last seen"),
            rows=tuple(
                (r.query, _count(r.searches), _count(r.no_results), _count(r.clicked), r.last_seen)
                for r in report.top_queries
            ),
        ),
        section(
            "no_click_queries",
            "Results nobody opened",
            columns=("Query", "Searches with results", "With a result opened", "Not opened"),
            rows=tuple(
                (r.query, _count(r.searches), _count(r.clicked), f"{r.no_click_rate:.0%}")
                for r in report.no_click_queries
            ),
        ),
        section(
            "click_positions",
            "Where readers open results",
            chart=positions_chart(report),
            empty="No result was opened in this period.",
        ),
        section(
            "reformulations",
            "Searched again as",
            "pairs",
            columns=("First", "Then", "Times"),
            rows=tuple((r.query, r.next_query, _count(r.times)) for r in report.reformulations),
        ),
        section(
            "filters",
            "Filters used",
            "values",
            columns=("Filter", "Value", "Searches"),
            rows=tuple((r.filter, r.value, _count(r.searches)) for r in report.filters),
        ),
    ]


@blueprint.get("/admin/analytics")
@editor_page
def page() -> Response:
    report = requested_report()
    body = render_template(
        "admin/analytics.html",
        title="What readers search for",
        report=report,
        sections=sections(report),
        quick_periods=[Link(label, _period_url(since=since)) for label, since in QUICK_PERIODS],
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
