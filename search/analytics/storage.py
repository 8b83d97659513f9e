"""The analytics file: SQLite in WAL mode beside the index, its tables, writes and purge.

``<index>/analytics/searches.sqlite`` holds raw events (``searches``, ``clicks``) for
``retention_days``, then only per-day counts (``daily``); ``dropped`` counts
events that could not be recorded, per day. Times are kept to the hour
(``hour``, seconds since the epoch rounded down): a search's exact time would
let it be matched with a web server's access log. Each serving process writes
its own batches (SQLite serialises writers; a batch waits at most
``BUSY_MS`` for the lock); readers never block writers in WAL mode.
``synchronous=NORMAL``: a process that crashes loses nothing it committed.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from search.analytics.events import ClickEvent, Event, SearchEvent

# A folder of its own, so that a server whose index folder is read-only (a replica's
# systemd unit) can be given this one to write (deploy/article-search.service).
FOLDER = "analytics"
FILENAME = "searches.sqlite"
BUSY_MS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    hour INTEGER NOT NULL,
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    view TEXT NOT NULL,
    seq INTEGER NOT NULL,
    query TEXT NOT NULL,
    searched TEXT NOT NULL,
    filters TEXT NOT NULL,
    date_from TEXT,
    date_to TEXT,
    sort TEXT NOT NULL,
    page INTEGER NOT NULL,
    results INTEGER NOT NULL,
    UNIQUE (view, seq)
);
CREATE INDEX IF NOT EXISTS searches_day ON searches (day, source);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY,
    hour INTEGER NOT NULL,
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    view TEXT NOT NULL,
    seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (view, seq, position)
);
CREATE INDEX IF NOT EXISTS clicks_day ON clicks (day, source);
CREATE TABLE IF NOT EXISTS daily (
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    searches INTEGER NOT NULL,
    no_results INTEGER NOT NULL,
    clicked INTEGER NOT NULL,
    PRIMARY KEY (day, source)
);
CREATE TABLE IF NOT EXISTS dropped (
    day TEXT PRIMARY KEY,
    events INTEGER NOT NULL
);
"""


def analytics_path(index_dir: Path | str) -> Path:
    """This host's analytics file: ``<index>/analytics/searches.sqlite``."""
    return Path(index_dir) / FOLDER / FILENAME


def connect(path: Path, *, busy_ms: int = BUSY_MS) -> sqlite3.Connection:
    """The file opened for writing (created with its folder and tables if new), in WAL mode."""
    path.parent.mkdir(exist_ok=True)
    connection = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    return connection


def connect_read_only(path: Path, *, busy_ms: int = 200) -> sqlite3.Connection:
    """The file opened for reading only; sqlite3.OperationalError when it is absent."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=busy_ms / 1000)


def _hour_and_day(now: float) -> tuple[int, str]:
    hour = int(now) // 3600 * 3600
    return hour, dt.datetime.fromtimestamp(hour, dt.UTC).date().isoformat()


def _search_row(event: SearchEvent, hour: int, day: str) -> tuple:
    return (
        hour,
        day,
        event.source,
        event.view,
        event.seq,
        event.query,
        event.searched,
        json.dumps({name: list(values) for name, values in event.filters.items()}),
        event.date_from.isoformat() if event.date_from else None,
        event.date_to.isoformat() if event.date_to else None,
        event.sort,
        event.page,
        event.results,
    )


def write_events(
    connection: sqlite3.Connection, events: Iterable[Event], dropped: int = 0, now=None
) -> None:
    """Write one batch (and a count of events dropped since the last batch) in one transaction.

    A search or click sent twice (the same view and number) is kept once.
    """
    hour, day = _hour_and_day(time.time() if now is None else now)
    searches = [_search_row(e, hour, day) for e in events if isinstance(e, SearchEvent)]
    clicks = [
        (hour, day, e.source, e.view, e.seq, e.position)
        for e in events
        if isinstance(e, ClickEvent)
    ]
    with transaction(connection):
        connection.executemany(
            "INSERT OR IGNORE INTO searches (hour, day, source, view, seq, query, searched, "
            "filters, date_from, date_to, sort, page, results) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            searches,
        )
        connection.executemany(
            "INSERT OR IGNORE INTO clicks (hour, day, source, view, seq, position) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            clicks,
        )
        if dropped:
            add_dropped(connection, dropped, day)


def add_dropped(connection: sqlite3.Connection, count: int, day: str) -> None:
    connection.execute(
        "INSERT INTO dropped (day, events) VALUES (?, ?) "
        "ON CONFLICT (day) DO UPDATE SET events = events + excluded.events",
        (day, count),
    )


class transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind, value, traceback) -> None:
        self.connection.execute("ROLLBACK" if kind else "COMMIT")


def raw_events(connection: sqlite3.Connection) -> int:
    """How many raw events (searches and clicks) the file holds."""
    (searches,) = connection.execute("SELECT count(*) FROM searches").fetchone()
    (clicks,) = connection.execute("SELECT count(*) FROM clicks").fetchone()
    return searches + clicks


def purge(connection: sqlite3.Connection, retention_days: int, today: dt.date | None = None) -> int:
    """Fold the raw events older than ``retention_days`` into per-day counts and delete them.

    Returns how many raw events were deleted. Whole days only, so a day's
    counts are folded once: the same day's later events are never older.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    cutoff = (today - dt.timedelta(days=retention_days)).isoformat()
    with transaction(connection):
        connection.execute(
            """
            INSERT INTO daily (day, source, searches, no_results, clicked)
            SELECT s.day, s.source, count(*), sum(s.results = 0),
                   sum(EXISTS (SELECT 1 FROM clicks c WHERE c.view = s.view AND c.seq = s.seq))
            FROM searches s WHERE s.day < ? GROUP BY s.day, s.source
            ON CONFLICT (day, source) DO UPDATE SET
                searches = searches + excluded.searches,
                no_results = no_results + excluded.no_results,
                clicked = clicked + excluded.clicked
            """,
            (cutoff,),
        )
        deleted = connection.execute("DELETE FROM searches WHERE day < ?", (cutoff,)).rowcount
        deleted += connection.execute("DELETE FROM clicks WHERE day < ?", (cutoff,)).rowcount
    return deleted


def dropped_counts(path: Path, today: dt.date | None = None) -> dict:
    """Events dropped today and in all, as the file says ({} when it cannot be read)."""
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        connection = connect_read_only(path)
        try:
            total, day = connection.execute(
                "SELECT coalesce(sum(events), 0), coalesce(sum(events * (day = ?)), 0) "
                "FROM dropped",
                (today.isoformat(),),
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return {}
    return {"today": day, "total": total}
