"""``article-search analytics [--since 7d] [--until DATE] [--no-results] [--json]``: the reports.

The same reports as /admin/analytics (search.analytics.reports), over this
host's analytics file and the replicas' copies that publish brought back,
printed as text tables or as JSON. Queries searched fewer than
ARTICLE_SEARCH_ANALYTICS_MIN_SEARCHES times (3) are counted, not shown.
"""

from __future__ import annotations

import argparse
import json
import sys

from index.commands.common import EXIT_ERROR, EXIT_OK, index_folder
from search.analytics.reports import (
    Period,
    PeriodError,
    QueryCount,
    Report,
    build_report,
    configured_threshold,
)

BAR_WIDTH = 40


def _rarer(report: Report, table: str, what: str) -> str:
    rarer = report.rarer.get(table, 0)
    if not rarer:
        return ""
    return f" ({rarer:,} {what} searched fewer than {report.threshold} times not shown)"


def _queries(title: str, rows: list[QueryCount], note: str) -> list[str]:
    lines = [f"{title}{note}:"]
    if not rows:
        return [*lines, "  none"]
    lines.append(f"  {'searches':>8}  {'no result':>9}  {'opened':>6}  {'last seen':<17}  query")
    lines += [
        f"  {r.searches:>8,}  {r.no_results:>9,}  {r.clicked:>6,}  {r.last_seen:<17}  {r.query}"
        for r in rows
    ]
    return lines


def report_text(report: Report, no_results_only: bool = False) -> str:
    """The report as text for a terminal."""
    lines = [
        f"Searches from {report.start} to {report.end}: {report.searches:,} "
        f"({report.no_results:,} with no result, {report.clicked:,} with a result opened); "
        f"{report.dropped:,} events dropped",
    ]
    lines += [f"  could not read {problem}" for problem in report.unreadable]
    none_note = _rarer(report, "no_result_queries", "queries")
    if no_results_only:
        return "\n".join(
            lines + _queries("Queries with no result", report.no_result_queries, none_note)
        )
    most = max([day.searches for day in report.per_day] + [1])
    lines.append("Per day:")
    lines += [
        f"  {d.day}  {d.searches:>7,}  {'#' * round(BAR_WIDTH * d.searches / most)}"
        for d in report.per_day
    ]
    lines += _queries("Top queries", report.top_queries, _rarer(report, "top_queries", "queries"))
    lines += _queries("Queries with no result", report.no_result_queries, none_note)
    note = _rarer(report, "no_click_queries", "queries")
    lines.append(f"Queries with results nobody opened{note}:")
    lines += [
        f"  {r.no_click_rate:>6.0%} of {r.searches:,} not opened  {r.query}"
        for r in report.no_click_queries
    ] or ["  none"]
    lines.append("Results opened, by position:")
    lines += [f"  {p.position:>4}  {p.clicks:>7,}" for p in report.click_positions] or ["  none"]
    note = _rarer(report, "reformulations", "pairs")
    lines.append(f"Searched again as (within one page view){note}:")
    lines += [f"  {r.times:>7,}  {r.query} -> {r.next_query}" for r in report.reformulations] or [
        "  none"
    ]
    lines.append(f"Filters used{_rarer(report, 'filters', 'values')}:")
    lines += [f"  {f.searches:>7,}  {f.filter}: {f.value}" for f in report.filters] or ["  none"]
    return "\n".join(lines)


def run_analytics(args: argparse.Namespace) -> int:
    try:
        period = Period.parse(args.since, args.until)
    except PeriodError as error:
        print(f"article-search: {error}", file=sys.stderr)
        return EXIT_ERROR
    report = build_report(index_folder(args), period, threshold=configured_threshold())
    if args.json:
        data = report.to_json()
        if args.no_results:
            data = {k: data[k] for k in ("start", "end", "threshold", "no_result_queries")}
            data["rarer"] = report.rarer["no_result_queries"]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(report_text(report, args.no_results))
    return EXIT_OK


def add_command(commands, common: argparse.ArgumentParser) -> None:
    """The ``analytics`` subcommand, added to ``commands`` (index/cli.py's subparsers)."""
    command = commands.add_parser(
        "analytics", parents=[common], help="what readers search for and do not find"
    )
    command.add_argument(
        "--since",
        default="7d",
        help="the period's start: a number of days (7d, today included) or YYYY-MM-DD (default 7d)",
    )
    command.add_argument("--until", help="the period's last day, YYYY-MM-DD (default today)")
    command.add_argument(
        "--no-results", action="store_true", help="only the queries that found nothing"
    )
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=run_analytics)
