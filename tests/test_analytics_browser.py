"""Search analytics in headless Chromium against a real gunicorn: one event per settled search.

A reader types "ukraine" letter by letter (slowly enough that the page shows
results for "u", "uk", ... on the way), pauses, and opens the third result:
the analytics file then holds exactly one search, "ukraine", and one click at
position 3 joined to it, and nothing that could identify the reader. No page
sets a cookie.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing

import pytest
from playwright.sync_api import expect

from index.indexer import index_paths
from search.analytics.storage import analytics_path
from tests.conftest import DEMO_ARTICLES, serving
from tests.test_browser import DESKTOP, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.server]

UKRAINE_ARTICLES = [
    {
        "id": f"ukraine-{n}",
        "title": f"Ukraine grain corridor, report {n}",
        "date": f"2023-0{n}-15",
        "regions": ["Europe"],
        "themes": ["Trade"],
        "body": f"Ships left Odesa with wheat for the {n}th time this year; Ukraine said so.",
    }
    for n in range(1, 7)
]
# Names of columns that would hold who the reader is; none may exist in the file.
FORBIDDEN_COLUMNS = ("ip", "addr", "agent", "referer", "referrer", "cookie", "session", "user")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server over the demo articles and six about Ukraine, recording into its index."""
    folder = tmp_path_factory.mktemp("analytics-browser")
    extra = folder / "extra.jsonl"
    extra.write_text("\n".join(json.dumps(article) for article in UKRAINE_ARTICLES) + "\n")
    index_dir = folder / "index"
    report = index_paths(index_dir, [DEMO_ARTICLES, extra], procs=1)
    assert not report.problems, report.problems
    with serving(index_dir, folder) as live:
        yield live


@pytest.fixture()
def browser_context(browser, server):
    context = browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def rows(server, sql: str) -> list[tuple]:
    try:
        with closing(sqlite3.connect(analytics_path(server.index_dir))) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the file or its tables are not made yet
        return []


def wait_for_rows(server, sql: str, count: int, seconds: float = 5.0) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(rows(server, sql)) < count:
        time.sleep(0.1)
    return rows(server, sql)


def test_typing_pausing_and_opening_the_third_result_is_one_search_and_one_click(
    server, browser_context
):
    before = rows(server, "SELECT count(*) FROM searches") or [(0,)]
    page = browser_context.new_page()
    set_cookies = []
    page.on(
        "response",
        lambda response: (
            set_cookies.append(response.url) if "set-cookie" in response.headers else None
        ),
    )
    page.goto("/")
    box = page.locator("#q")
    box.click()
    seen = set()
    for letter in "ukraine":
        box.press(letter)
        time.sleep(0.3)  # past the page's 200 ms wait: each prefix is searched and shown
        seen.add(page.locator("#total").get_attribute("data-total"))
    expect(page.locator(".for-query")).to_contain_text("ukraine")
    assert len(seen) > 1, "the page did not search as the letters were typed"
    time.sleep(1.5)  # the reader pauses on it
    third = page.locator("#results > li .hit-title a").nth(2)
    title = third.inner_text()
    third.click()
    page.wait_for_url("**/articles/**")
    expect(page.locator("h1")).to_contain_text(title.split(",")[0])

    clicks = wait_for_rows(server, "SELECT view, seq, position FROM clicks", 1)
    searches = rows(server, "SELECT view, seq, query, searched, results, page FROM searches")
    assert len(searches) - before[0][0] == 1, searches
    (view, seq, query, searched, results, page_number) = searches[-1]
    assert (query, searched, page_number) == ("ukraine", "ukraine", 1)
    assert results >= 6
    assert clicks == [(view, seq, 3)]
    assert set_cookies == [] and browser_context.cookies() == []


def test_the_file_holds_nothing_that_identifies_the_reader(server, browser_context):
    page = browser_context.new_page()
    page.goto("/search?q=grain+corridor&region=Europe")
    page.locator("#results > li .hit-title a").first.click()
    page.wait_for_url("**/articles/**")
    wait_for_rows(server, "SELECT * FROM clicks", 1)
    user_agent = page.evaluate("navigator.userAgent")
    connection = sqlite3.connect(analytics_path(server.index_dir))
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        assert set(tables) == {"searches", "clicks", "daily", "dropped"}
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            assert not [c for c in columns if any(word in c for word in FORBIDDEN_COLUMNS)]
            for row in connection.execute(f"SELECT * FROM {table}"):
                text = " ".join(str(value) for value in row)
                for personal in (user_agent, "127.0.0.1", server.url, "Chrome", "HeadlessChrome"):
                    assert personal not in text, (table, row)
        hours = [hour for (hour,) in connection.execute("SELECT hour FROM searches")]
        assert all(hour % 3600 == 0 for hour in hours)  # times kept to the hour only
    finally:
        connection.close()
    assert browser_context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    # Only htmx's own note of the tab's current URL (for its history), no id of ours.
    stored = page.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))")
    assert set(stored) <= {"htmx-current-path-for-history"}, stored


def test_the_next_page_is_the_same_search_and_a_result_there_keeps_its_place(
    server, browser_context
):
    page = browser_context.new_page()
    page.goto("/search?q=odesa+wheat&per_page=2")
    expect(page.locator("#results > li")).to_have_count(2)
    page.locator(".pagination a[rel=next]").click()
    expect(page.locator("#results")).to_have_attribute("start", "3")
    page.locator("#results > li .hit-title a").first.click()
    page.wait_for_url("**/articles/**")
    searches = wait_for_rows(
        server, "SELECT view, seq, page FROM searches WHERE query = 'odesa wheat'", 1
    )
    assert len(searches) == 1, searches  # page 2 is not another search
    view, seq, first_page = searches[0]
    clicks = wait_for_rows(server, f"SELECT seq, position FROM clicks WHERE view = '{view}'", 1)
    assert first_page == 1 and clicks == [(seq, 3)]
