"""Search analytics: masking, the file's writes and purge, the reports and their threshold,
the recorder's limits, the beacon's answers, and the replicas' files in one report.

Real SQLite files in temporary folders and the real app on the demo index; the
browser and burst tests are in test_analytics_browser.py and test_analytics_burst.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import time
from contextlib import closing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.indexer import index_paths
from index.publish import publish
from search.analytics import storage
from search.analytics.events import ClickEvent, SearchEvent
from search.analytics.privacy import stored_query
from search.analytics.recorder import Recorder, RecorderSettings
from search.analytics.reports import Period, PeriodError, build_report, report_csv
from tests.conftest import cli
from tests.generated_corpus import write_articles

TODAY = dt.date(2026, 12, 7)
NOON = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC).timestamp()
DAY = 86400


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ukraine  War ", "ukraine war"),
        ("write to jane.doe+news@example.co.uk please", "write to [email] please"),
        ("+44 20 7946 0958", "[phone]"),
        ("call (555) 123-4567 now", "call [phone] now"),
        ("account 12345678", "account [number]"),
        ("oil 1986 1987", "oil 1986 1987"),
        ("1987-03-12 storm", "1987-03-12 storm"),
        ("boeing 737", "boeing 737"),
        ("g7 summit 2024", "g7 summit 2024"),
    ],
)
def test_personal_looking_text_is_masked_and_the_rest_kept(typed, stored):
    assert stored_query(typed) == stored


def search(view: str, seq: int, query: str, results: int = 5, **more) -> SearchEvent:
    return SearchEvent(view=view, seq=seq, query=query, searched=query, results=results, **more)


@pytest.fixture()
def db(tmp_path):
    connection = storage.connect(storage.analytics_path(tmp_path))
    yield connection
    connection.close()


def test_a_query_is_shown_from_the_threshold_on_and_rarer_ones_only_counted(tmp_path, db):
    events = [search(f"{n:032x}", 1, "heat pump") for n in range(3)]
    events += [search(f"{n:032x}", 1, "rare neighbour name", results=0) for n in range(10, 12)]
    events += [search(f"{n:032x}", 1, "nothing here", results=0) for n in range(20, 24)]
    storage.write_events(db, events, now=NOON)
    report = build_report(tmp_path, Period(TODAY, TODAY))
    assert [(q.query, q.searches) for q in report.top_queries] == [
        ("nothing here", 4),
        ("heat pump", 3),
    ]
    assert report.rarer["top_queries"] == 1
    assert [(q.query, q.searches) for q in report.no_result_queries] == [("nothing here", 4)]
    assert report.rarer["no_result_queries"] == 1
    assert report.no_result_queries[0].last_seen == "2026-12-07T12:00Z"
    assert "rare neighbour name" not in json.dumps(report.to_json())
    assert (report.searches, report.no_results) == (9, 6)
    # The threshold is a setting: at 5, every query is only counted.
    stricter = build_report(tmp_path, Period(TODAY, TODAY), threshold=5)
    assert stricter.top_queries == [] and stricter.rarer["top_queries"] == 3


def test_clicks_reformulations_and_filters_are_reported(tmp_path, db):
    events = []
    for n in range(4):
        view = f"{n:032x}"
        events += [
            search(view, 1, "brexit vote", filters={"region": ("Europe",)}),
            search(view, 2, "brexit referendum", sort="newest"),
            ClickEvent(view, 2, position=3),
        ]
        events.append(search(f"{n + 100:032x}", 1, "grain prices", results=8))
    events.append(ClickEvent(f"{100:032x}", 1, position=1))
    storage.write_events(db, events, now=NOON)
    report = build_report(tmp_path, Period(TODAY, TODAY))
    assert [(r.query, r.next_query, r.times) for r in report.reformulations] == [
        ("brexit vote", "brexit referendum", 4)
    ]
    assert [(p.position, p.clicks) for p in report.click_positions] == [(1, 1), (3, 4)]
    no_clicks = {r.query: (r.searches, r.clicked, r.no_click_rate) for r in report.no_click_queries}
    assert no_clicks == {
        "brexit vote": (4, 0, 1.0),
        "grain prices": (4, 1, 0.75),
        "brexit referendum": (4, 4, 0.0),
    }
    filters = {(f.filter, f.value): f.searches for f in report.filters}
    assert filters == {
        ("region", "Europe"): 4,
        ("sort", "relevance"): 8,
        ("sort", "newest"): 4,
    }
    assert report.clicked == 5
    assert report_csv(report, "reformulations").splitlines() == [
        "query,next_query,times",
        "brexit vote,brexit referendum,4",
    ]


def test_a_csv_cell_never_starts_a_spreadsheet_formula(tmp_path, db):
    storage.write_events(db, [search(f"{n:032x}", 1, "=cmd|calc") for n in range(3)], now=NOON)
    rows = report_csv(build_report(tmp_path, Period(TODAY, TODAY)), "top_queries").splitlines()
    assert rows[1].startswith("'=cmd|calc,3,")


def test_the_same_event_sent_twice_is_kept_once(tmp_path, db):
    twice = [search("ab" * 16, 1, "tariffs"), ClickEvent("ab" * 16, 1, 2)] * 2
    storage.write_events(db, twice, now=NOON)
    storage.write_events(db, twice, now=NOON)
    assert db.execute("SELECT count(*) FROM searches").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM clicks").fetchone() == (1,)


def test_the_purge_keeps_daily_counts_and_deletes_older_raw_events(tmp_path, db):
    old, kept = NOON - 91 * DAY, NOON - 89 * DAY
    storage.write_events(db, [search(f"{n:032x}", 1, "old query") for n in range(3)], now=old)
    storage.write_events(db, [ClickEvent(f"{0:032x}", 1, 1)], now=old)
    storage.write_events(
        db, [search(f"{n + 50:032x}", 1, "gone", results=0) for n in range(2)], now=old
    )
    storage.write_events(db, [search(f"{n + 9:032x}", 1, "recent") for n in range(3)], now=kept)
    assert storage.purge(db, retention_days=90, today=TODAY) == 6
    assert db.execute("SELECT DISTINCT query FROM searches").fetchall() == [("recent",)]
    assert db.execute("SELECT count(*) FROM clicks").fetchone() == (0,)
    old_day = dt.date.fromtimestamp(old).isoformat()
    assert db.execute("SELECT * FROM daily").fetchall() == [(old_day, "page", 5, 2, 1)]
    assert storage.purge(db, retention_days=90, today=TODAY) == 0  # nothing folded twice
    report = build_report(tmp_path, Period(TODAY - dt.timedelta(days=100), TODAY))
    counts = {day.day: (day.searches, day.no_results, day.clicked) for day in report.per_day}
    assert counts[old_day] == (5, 2, 1)
    assert report.searches == 8
    assert {q.query for q in report.top_queries} == {"recent"}  # old queries are gone
    # The retention is a setting: at 30 days the recent ones go as well.
    assert storage.purge(db, retention_days=30, today=TODAY) == 3


def test_periods_are_read_or_refused():
    assert Period.parse("7d", today=TODAY) == Period(dt.date(2026, 12, 1), TODAY)
    assert Period.parse("2026-11-01", "2026-11-30").end == dt.date(2026, 11, 30)
    for since, until in (("7 days", None), ("2026-12-08", "2026-12-01"), ("1d", "x")):
        with pytest.raises(PeriodError):
            Period.parse(since, until, today=TODAY)


def wait_for(condition, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return condition()


def count_rows(path, table: str) -> int:
    try:
        connection = sqlite3.connect(path)
        try:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.OperationalError:
        return 0


def test_the_recorder_writes_in_the_background_and_counts_what_it_drops(tmp_path):
    path = storage.analytics_path(tmp_path)
    recorder = Recorder(path, RecorderSettings(per_minute=5))
    accepted = [recorder.record(search(f"{n:032x}", 1, "q")) for n in range(8)]
    assert accepted == [True] * 5 + [False] * 3
    assert wait_for(lambda: count_rows(path, "searches") == 5)
    assert wait_for(lambda: storage.dropped_counts(path).get("total") == 3)


def test_a_locked_file_drops_the_batch_and_searches_go_on(tmp_path):
    path = storage.analytics_path(tmp_path)
    storage.connect(path).close()
    recorder = Recorder(path, RecorderSettings(busy_ms=100))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.perf_counter()
        assert recorder.record(search("cd" * 16, 1, "locked out"))
        assert time.perf_counter() - started < 0.05  # recording never waits for the file
        assert wait_for(lambda: recorder.dropped == 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    recorder.record(search("cd" * 16, 2, "after"))
    assert wait_for(lambda: count_rows(path, "searches") == 1)
    assert wait_for(lambda: storage.dropped_counts(path).get("total") == 1)


def test_the_file_stops_growing_at_its_cap(tmp_path):
    path = storage.analytics_path(tmp_path)
    connection = storage.connect(path)
    storage.write_events(connection, [search(f"{n:032x}", 1, "q") for n in range(10)])
    connection.close()
    recorder = Recorder(path, RecorderSettings(max_events=10))
    recorder.record(search("ef" * 16, 1, "first"))  # taken: the thread has not counted yet
    # Once the thread has counted (on start, then every minute), events are dropped.
    assert wait_for(lambda: not recorder.record(search("ef" * 16, 2, "over")))
    recorder.flush()  # what was taken before is written now
    held = count_rows(path, "searches")
    assert [recorder.record(search("ef" * 16, n, "more")) for n in range(3, 8)] == [False] * 5
    recorder.flush()
    assert count_rows(path, "searches") == held
    assert wait_for(lambda: storage.dropped_counts(path).get("total", 0) >= 6)


# --- The beacon, through the app (the demo index) ---


@pytest.fixture()
def recording_app(tmp_path, demo_index):
    """The app on the demo index, recording into a file of this test's own."""
    from web import create_app

    app = create_app({"INDEX_DIR": demo_index, "TESTING": True})
    app.extensions["article_search_analytics"] = Recorder(storage.analytics_path(tmp_path))
    return app


def beacon(client, payload, **headers):
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post("/api/events", data=body, content_type="text/plain", headers=headers)


VIEW = "0123456789abcdef" * 2


def test_the_page_carries_its_search_and_a_beacon_records_it_masked(recording_app, tmp_path):
    client = recording_app.test_client()
    page = client.get("/search?q=rhine+barges&region=Europe")
    assert "data-search-event=" in page.get_data(as_text=True)
    assert 'data-events-url="/api/events"' in page.get_data(as_text=True)
    assert "data-search-event" not in client.get("/").get_data(as_text=True)  # nothing searched
    params = "q=Rhine+barges+call+0612345678&region=Europe&from=2019-01-01"
    answer = beacon(
        client,
        {"type": "search", "view": VIEW, "seq": 1, "params": params, "results": 2, "searched": ""},
    )
    assert answer.status_code == 204
    assert (
        beacon(client, {"type": "click", "view": VIEW, "seq": 1, "position": 2}).status_code == 204
    )
    path = storage.analytics_path(tmp_path)
    assert wait_for(lambda: count_rows(path, "clicks") == 1)
    row = (
        sqlite3.connect(path)
        .execute("SELECT query, filters, date_from, results FROM searches")
        .fetchone()
    )
    assert row == ("rhine barges call [number]", '{"region": ["Europe"]}', "2019-01-01", 2)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"not json", 400),
        ([1, 2], 400),
        ({"type": "search", "view": "short", "seq": 1, "params": "", "results": 1}, 400),
        ({"type": "click", "view": VIEW, "seq": 0, "position": 1}, 400),
        ({"type": "click", "view": VIEW, "seq": 1, "position": True}, 400),
        ({"type": "click", "view": VIEW, "seq": 1}, 400),
        ({"type": "view", "view": VIEW, "seq": 1}, 400),
        ({"type": "search", "view": VIEW, "seq": 1, "params": "page=0", "results": 1}, 400),
        ({"type": "search", "view": VIEW, "seq": 1, "params": "q=x", "results": -1}, 400),
        ({"type": "search", "view": VIEW, "seq": 1, "params": "q=" + "x" * 17000}, 413),
    ],
)
def test_a_malformed_event_is_refused_and_nothing_is_recorded(
    recording_app, tmp_path, payload, status
):
    answer = beacon(recording_app.test_client(), payload)
    assert answer.status_code == status
    assert answer.get_json()["error"]["message"]
    recording_app.extensions["article_search_analytics"].flush()
    assert count_rows(storage.analytics_path(tmp_path), "searches") == 0
    assert count_rows(storage.analytics_path(tmp_path), "clicks") == 0


def test_an_event_from_another_site_is_refused(recording_app):
    client = recording_app.test_client()
    event = {"type": "click", "view": VIEW, "seq": 1, "position": 1}
    assert beacon(client, event, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert beacon(client, event, Origin="https://elsewhere.example").status_code == 403
    assert beacon(client, event, **{"Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert beacon(client, event, Origin="http://localhost").status_code == 204


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.sampled_from(["type", "view", "seq", "params", "results", "searched", "position"]),
            st.one_of(st.integers(), st.text(max_size=40), st.booleans(), st.none(), st.floats()),
        ).map(json.dumps),
    )
)
def test_any_body_gives_204_or_400_never_a_500(recording_app, body):
    assert beacon(recording_app.test_client(), body).status_code in (204, 400)


def test_reader_pages_set_no_cookie(recording_app):
    client = recording_app.test_client()
    for path in (
        "/",
        "/search?q=rhine",
        "/articles/2019-01-22-rhine-low-water-barges.txt",
        "/search.atom?q=rhine",
        "/api/search?q=rhine",
        "/healthz",
    ):
        assert "Set-Cookie" not in client.get(path).headers, path
    event = {"type": "click", "view": VIEW, "seq": 1, "position": 1}
    assert "Set-Cookie" not in beacon(client, event).headers


def test_recording_can_be_turned_off(demo_index, monkeypatch):
    from web import create_app

    monkeypatch.setenv("ARTICLE_SEARCH_ANALYTICS", "0")
    client = create_app({"INDEX_DIR": demo_index}).test_client()
    page = client.get("/search?q=rhine").get_data(as_text=True)
    assert "data-search-event" not in page and "data-events-url" not in page
    assert client.get("/healthz").get_json()["analytics"] == {"recording": False}


# --- Replicas: each records its own; publish brings their files back for one report ---


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync (make test installs it)")
def test_one_report_over_the_primary_and_its_replicas(tmp_path):
    articles, primary = tmp_path / "articles", tmp_path / "primary"
    write_articles(articles, 20, paragraphs=(1, 1))
    index_paths(primary, [articles], procs=1)
    replicas = [tmp_path / "replica-a", tmp_path / "replica-b"]
    for number, replica in enumerate(replicas):
        publish(primary, str(replica))  # nothing recorded there yet: nothing to bring back
        # What the replica's own server records (two searches each, a view of its own).
        with closing(storage.connect(storage.analytics_path(replica))) as db:
            view = f"{number + 1:032x}"
            storage.write_events(db, [search(view, 1, "tariffs"), search(view, 2, "quotas")])
    with closing(storage.connect(storage.analytics_path(primary))) as db:
        storage.write_events(db, [search(f"{9:032x}", 1, "tariffs")])
    for replica in replicas:
        publish(primary, str(replica))
    done = cli(
        *("analytics", "--index", str(primary), "--since", "1d", "--json"),
        env={**os.environ, "ARTICLE_SEARCH_ANALYTICS_MIN_SEARCHES": "2"},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["searches"] == 5
    assert [(q["query"], q["searches"]) for q in report["top_queries"]] == [
        ("tariffs", 3),
        ("quotas", 2),
    ]
    assert [(r["query"], r["next_query"], r["times"]) for r in report["reformulations"]] == [
        ("tariffs", "quotas", 2)
    ]
    assert len(report["files"]) == 3 and report["unreadable"] == []
    # Publishing again replaces a replica's copy; it never adds it twice.
    publish(primary, str(replicas[0]))
    assert build_report(primary, Period.parse("1d")).searches == 5


@pytest.mark.slow
def test_the_command_prints_the_no_result_queries(tmp_path, db):
    storage.write_events(db, [search(f"{n:032x}", 1, "lost cause", results=0) for n in range(3)])
    command = ["analytics", "--index", str(tmp_path), "--no-results"]
    done = cli(*command)
    assert done.returncode == 0, done.stderr
    assert "lost cause" in done.stdout and "Top queries" not in done.stdout
    done = cli(*command, "--since", "soon")
    assert done.returncode == 2 and "7d" in done.stderr
