"""The editors' reports over a period: searches per day, top queries, what finds nothing, and more.

A report reads this host's analytics file and the replicas' copies that
publish collected (``<index>/analytics/replicas/*.sqlite``): the period's rows
of each are gathered into one database in memory, where searches from
different hosts never collide (their page views' ids differ). A query, a
pair of queries or a filter value is shown only once it was searched at least
``threshold`` times in the period; each list says how many rarer ones it left
out. Days older than the retention have only their counts (searches, without
results, with a click), so only the per-day chart reaches back beyond it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from search import settings
from search.analytics.storage import FOLDER, SCHEMA, analytics_path

REPLICAS_DIR = f"{FOLDER}/replicas"
DEFAULT_LIMIT = 50
_SINCE = re.compile(r"(\d{1,4})d")
CLICKED = "EXISTS (SELECT 1 FROM clicks c WHERE c.view = s.view AND c.seq = s.seq)"


class PeriodError(ValueError):
    """A period that cannot be read (a bad --since, from after to)."""


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included (UTC)."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, since: str | None, until: str | None = None, today: dt.date | None = None):
        """``since`` as ``7d`` (the last 7 days, today included) or YYYY-MM-DD; ``until``
        YYYY-MM-DD or today."""
        today = today or dt.datetime.now(dt.UTC).date()
        try:
            end = dt.date.fromisoformat(until) if until else today
            if not since:
                start = end - dt.timedelta(days=6)
            elif match := _SINCE.fullmatch(since):
                start = today - dt.timedelta(days=max(int(match.group(1)), 1) - 1)
            else:
                start = dt.date.fromisoformat(since)
        except ValueError:
            raise PeriodError(
                f"a period starts at a number of days (7d) or a date written YYYY-MM-DD, "
                f"not {since!r} to {until!r}"
            ) from None
        if start > end:
            raise PeriodError(f"the period's start ({start}) is after its end ({end})")
        return cls(start, end)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Day:
    day: str
    searches: int
    no_results: int
    clicked: int  # searches from which a result was opened


@dataclass(frozen=True)
class QueryCount:
    query: str
    searches: int
    no_results: int
    clicked: int
    last_seen: str  # the hour, YYYY-MM-DDTHH:00Z


@dataclass(frozen=True)
class NoClick:
    query: str
    searches: int  # with results
    clicked: int
    no_click_rate: float


@dataclass(frozen=True)
class Position:
    position: int
    clicks: int


@dataclass(frozen=True)
class Reformulation:
    query: str
    next_query: str
    times: int


@dataclass(frozen=True)
class FilterUse:
    filter: str  # a facet's name, "date range" or "sort"
    value: str
    searches: int


@dataclass(frozen=True)
class Report:
    start: str
    end: str
    threshold: int
    searches: int
    no_results: int
    clicked: int
    dropped: int  # events that could not be recorded in the period
    per_day: list[Day]
    top_queries: list[QueryCount]
    no_result_queries: list[QueryCount]
    no_click_queries: list[NoClick]
    click_positions: list[Position]
    reformulations: list[Reformulation]
    filters: list[FilterUse]
    # How many queries (pairs, values) each list left out for being searched fewer times.
    rarer: dict[str, int]
    files: list[str]  # the analytics files read
    unreadable: list[str]  # files that could not be read, and why

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# Each list of a report that can be exported as CSV, with the type of its rows.
TABLES = {
    "per_day": Day,
    "top_queries": QueryCount,
    "no_result_queries": QueryCount,
    "no_click_queries": NoClick,
    "click_positions": Position,
    "reformulations": Reformulation,
    "filters": FilterUse,
}


def configured_threshold() -> int:
    """How many times a query must be searched to be shown in a report (search.settings)."""
    return settings.ANALYTICS_MIN_SEARCHES.read()


def analytics_files(index_dir: Path | str) -> list[Path]:
    """This host's analytics file and the replicas' copies, those that exist."""
    own = analytics_path(index_dir)
    replicas = sorted((Path(index_dir) / REPLICAS_DIR).glob("*.sqlite"))
    return [path for path in [own, *replicas] if path.is_file()]


def _gather(files: list[Path], period: Period) -> tuple[sqlite3.Connection, list[str]]:
    """The period's rows of every file in one database in memory; and the files not read."""
    gathered = sqlite3.connect("file::memory:", uri=True)  # uri: ATTACH reads mode=ro URIs
    gathered.executescript(SCHEMA)
    start, end = period.start.isoformat(), period.end.isoformat()
    # A click can come the day after its search (a search at 23:59).
    click_end = (period.end + dt.timedelta(days=1)).isoformat()
    unreadable = []
    for path in files:
        try:
            gathered.execute("ATTACH DATABASE ? AS f", (f"{path.absolute().as_uri()}?mode=ro",))
        except sqlite3.Error as error:
            unreadable.append(f"{path}: {error}")
            continue
        try:
            with gathered:
                _copy_rows(gathered, start, end, click_end)
        except sqlite3.Error as error:
            unreadable.append(f"{path}: {error}")
        finally:
            gathered.execute("DETACH DATABASE f")
    return gathered, unreadable


def _copy_rows(gathered: sqlite3.Connection, start: str, end: str, click_end: str) -> None:
    columns = (
        "hour, day, source, view, seq, query, searched, filters, date_from, date_to, sort, "
        "page, results"
    )
    gathered.execute(
        f"INSERT OR IGNORE INTO searches ({columns}) SELECT {columns} FROM f.searches "
        "WHERE day BETWEEN ? AND ?",
        (start, end),
    )
    columns = "hour, day, source, view, seq, position"
    gathered.execute(
        f"INSERT OR IGNORE INTO clicks ({columns}) SELECT {columns} FROM f.clicks "
        "WHERE day BETWEEN ? AND ?",
        (start, click_end),
    )
    gathered.execute(
        "INSERT INTO daily SELECT * FROM f.daily WHERE day BETWEEN ? AND ? "
        "ON CONFLICT (day, source) DO UPDATE SET searches = searches + excluded.searches, "
        "no_results = no_results + excluded.no_results, clicked = clicked + excluded.clicked",
        (start, end),
    )
    gathered.execute(
        "INSERT INTO dropped SELECT * FROM f.dropped WHERE day BETWEEN ? AND ? "
        "ON CONFLICT (day) DO UPDATE SET events = events + excluded.events",
        (start, end),
    )


def _hour(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:00Z")


def _per_day(db: sqlite3.Connection, period: Period) -> list[Day]:
    counts = {day.isoformat(): [0, 0, 0] for day in period.days()}
    rows = db.execute(
        f"SELECT day, count(*), sum(results = 0), sum({CLICKED}) FROM searches s GROUP BY day"
    ).fetchall()
    rows += db.execute(
        "SELECT day, sum(searches), sum(no_results), sum(clicked) FROM daily GROUP BY day"
    ).fetchall()
    for day, searches, no_results, clicked in rows:
        totals = counts.setdefault(day, [0, 0, 0])
        totals[0] += searches
        totals[1] += no_results or 0
        totals[2] += clicked or 0
    return [Day(day, *totals) for day, totals in sorted(counts.items())]


def _shown_and_rarer(rows: list, threshold: int, count_at: int, limit: int) -> tuple[list, int]:
    shown = [row for row in rows if row[count_at] >= threshold]
    return shown[:limit], len(rows) - len(shown)


def _query_counts(db, where: str, threshold: int, limit: int) -> tuple[list[QueryCount], int]:
    rows = db.execute(
        f"SELECT query, count(*) AS n, sum(results = 0), sum({CLICKED}), max(hour) "
        f"FROM searches s WHERE query != '' AND {where} "
        "GROUP BY query ORDER BY n DESC, query"
    ).fetchall()
    shown, rarer = _shown_and_rarer(rows, threshold, 1, limit)
    return [
        QueryCount(q, n, none, clicked, _hour(hour)) for q, n, none, clicked, hour in shown
    ], rarer


def _no_clicks(db, threshold: int, limit: int) -> tuple[list[NoClick], int]:
    rows = db.execute(
        f"SELECT query, count(*) AS n, sum({CLICKED}) AS clicked FROM searches s "
        "WHERE query != '' AND results > 0 GROUP BY query "
        "ORDER BY n - clicked DESC, n DESC, query"
    ).fetchall()
    shown, rarer = _shown_and_rarer(rows, threshold, 1, limit)
    return [NoClick(q, n, c, round(1 - c / n, 3)) for q, n, c in shown], rarer


def _reformulations(db, threshold: int, limit: int) -> tuple[list[Reformulation], int]:
    rows = db.execute(
        """
        WITH ordered AS (
            SELECT query, lead(query) OVER (PARTITION BY view ORDER BY seq) AS next_query
            FROM searches
        )
        SELECT query, next_query, count(*) AS n FROM ordered
        WHERE next_query IS NOT NULL AND query != '' AND next_query != ''
          AND next_query != query
        GROUP BY query, next_query ORDER BY n DESC, query, next_query
        """
    ).fetchall()
    shown, rarer = _shown_and_rarer(rows, threshold, 2, limit)
    return [Reformulation(*row) for row in shown], rarer


def _filters(db, threshold: int, limit: int) -> tuple[list[FilterUse], int]:
    rows = db.execute(
        """
        SELECT f.key, v.value, count(*) AS n FROM searches s, json_each(s.filters) f,
            json_each(f.value) v
        GROUP BY f.key, v.value
        UNION ALL
        SELECT 'date range', 'any', count(*) FROM searches
            WHERE date_from IS NOT NULL OR date_to IS NOT NULL HAVING count(*) > 0
        UNION ALL
        SELECT 'sort', sort, count(*) FROM searches GROUP BY sort
        ORDER BY n DESC, 1, 2
        """
    ).fetchall()
    shown, rarer = _shown_and_rarer(rows, threshold, 2, limit)
    return [FilterUse(*row) for row in shown], rarer


def build_report(
    index_dir: Path | str,
    period: Period,
    *,
    threshold: int = settings.ANALYTICS_MIN_SEARCHES.default,
    limit: int = DEFAULT_LIMIT,
    files: list[Path] | None = None,
) -> Report:
    """Every report over ``period``, from ``files`` (default: analytics_files(index_dir))."""
    files = analytics_files(index_dir) if files is None else files
    db, unreadable = _gather(files, period)
    try:
        per_day = _per_day(db, period)
        top, rarer_top = _query_counts(db, "1", threshold, limit)
        none, rarer_none = _query_counts(db, "results = 0", threshold, limit)
        no_clicks, rarer_no_clicks = _no_clicks(db, threshold, limit)
        pairs, rarer_pairs = _reformulations(db, threshold, limit)
        filters, rarer_filters = _filters(db, threshold, limit)
        positions = db.execute(
            "SELECT position, count(*) FROM clicks c WHERE EXISTS (SELECT 1 FROM searches s "
            "WHERE s.view = c.view AND s.seq = c.seq) GROUP BY position ORDER BY position"
        ).fetchall()
        (dropped,) = db.execute("SELECT coalesce(sum(events), 0) FROM dropped").fetchone()
    finally:
        db.close()
    return Report(
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        threshold=threshold,
        searches=sum(day.searches for day in per_day),
        no_results=sum(day.no_results for day in per_day),
        clicked=sum(day.clicked for day in per_day),
        dropped=dropped,
        per_day=per_day,
        top_queries=top,
        no_result_queries=none,
        no_click_queries=no_clicks,
        click_positions=[Position(*row) for row in positions],
        reformulations=pairs,
        filters=filters,
        rarer={
            "top_queries": rarer_top,
            "no_result_queries": rarer_none,
            "no_click_queries": rarer_no_clicks,
            "reformulations": rarer_pairs,
            "filters": rarer_filters,
        },
        files=[str(path) for path in files],
        unreadable=unreadable,
    )


def _cell(value):
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: Report, table: str) -> str:
    """One list of ``report`` as CSV, a header row first; KeyError for an unknown ``table``."""
    row_type = TABLES[table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.name for f in dataclasses.fields(row_type)])
    for row in getattr(report, table):
        writer.writerow([_cell(value) for value in dataclasses.astuple(row)])
    return out.getvalue()
