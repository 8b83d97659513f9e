"""The editors' analytics pages: /admin/analytics, its CSV lists and /api/admin/analytics, signed
in only; the threshold holds there too, and each no-result query links to the desk's forms."""

from __future__ import annotations

import re
import shutil
from contextlib import closing

import pytest
from bs4 import BeautifulSoup

from search.analytics import storage
from search.analytics.events import ClickEvent, SearchEvent
from search.editors import EditorStore
from tests.conftest import EDITOR_NAME


@pytest.fixture(autouse=True)
def nothing_recorded_yet(desk_index):
    """The desk's index is a copy of the demo index, and other tests record into that one."""
    shutil.rmtree(storage.analytics_path(desk_index).parent, ignore_errors=True)


def record(index_dir, query: str, times: int, results: int = 4, start: int = 0) -> None:
    events = []
    for n in range(start, start + times):
        view = f"{n:032x}"
        events.append(SearchEvent(view, 1, query, query, results=results))
        if results and n % 2 == 0:
            events.append(ClickEvent(view, 1, position=n % 4 + 1))
    with closing(storage.connect(storage.analytics_path(index_dir))) as db:
        db.execute("DELETE FROM searches WHERE query = ?", (query,))
        storage.write_events(db, events)


def test_signed_out_the_reports_show_nothing(desk_app, desk_index):
    record(desk_index, "secret plans <b>", 5, results=0)
    client = desk_app.test_client()
    for path in ("/admin/analytics", "/admin/analytics/top_queries.csv"):
        response = client.get(path)
        assert response.status_code == 303 and "secret" not in response.get_data(as_text=True)
    response = client.get("/api/admin/analytics")
    assert response.status_code == 401 and "secret" not in response.get_data(as_text=True)


def test_the_page_shows_the_reports_escaped_with_a_chart_and_desk_links(desk, desk_index):
    record(desk_index, "solar <script>alert(1)</script>", 4, results=0)
    record(desk_index, "grain corridor", 6, start=100)
    record(desk_index, "one neighbour's name", 2, results=0, start=200)
    desk.sign_in()
    response = desk.client.get("/admin/analytics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in html.split("</head>", 1)[1]  # no inline script at all
    page = BeautifulSoup(html, "html.parser")
    none = page.select("#no-result-queries tbody tr")
    assert [row.td.get_text() for row in none] == ["solar <script>alert(1)</script>"]
    assert "neighbour" not in html
    assert "1 more queries searched fewer than 3 times" in page.get_text(" ")
    chart = page.select_one("svg.timeline-chart")
    assert chart is not None and chart.select("rect.timeline-bar")
    top = [row.td.get_text() for row in page.select("#top-queries tbody tr")]
    assert top[0] == "grain corridor"
    # The period can be chosen; a bad one is a 400, not a 500.
    assert desk.client.get("/admin/analytics?since=30d").status_code == 200
    assert desk.client.get("/admin/analytics?from=2026-13-01").status_code == 400


def test_each_no_result_query_opens_the_desks_forms_filled_in(desk_app, desk, desk_index):
    record(desk_index, "heatpump grants", 3, results=0)
    desk.sign_in()
    page = BeautifulSoup(desk.client.get("/admin/analytics").get_data(as_text=True), "html.parser")
    row = next(
        r
        for r in page.select("#no-result-queries tbody tr")
        if r.td.get_text() == "heatpump grants"
    )
    links = {a.get_text(): a["href"] for a in row.select("a.analytics-action")}
    assert set(links) == {"Add a synonym", "Add a best bet"}
    for label, field in (
        ("Add a synonym", "#new-synonym-from"),
        ("Add a best bet", "#new-rule-query"),
    ):
        answer = desk.client.get(links[label])
        assert answer.status_code == 200, links[label]
        form = BeautifulSoup(answer.get_data(as_text=True), "html.parser")
        assert form.select_one(field)["value"] == "heatpump grants"
        assert form.select_one(field).find_parent("details").has_attr("open")
        assert form.select_one("#preview-q")["value"] == "heatpump grants"
    one_way = BeautifulSoup(
        desk.client.get(links["Add a synonym"]).get_data(as_text=True), "html.parser"
    )
    assert one_way.select_one('input[name="kind"][value="one-way"]').has_attr("checked")


def test_csv_and_json_for_automation(desk_app, desk, desk_index):
    record(desk_index, "=cmd|' /C calc'!A0", 3, results=0)
    record(desk_index, "tariffs", 5, start=50)
    desk.sign_in()
    response = desk.client.get("/admin/analytics/no_result_queries.csv?since=7d")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "query,searches,no_results,clicked,last_seen"
    assert any(line.startswith("'=cmd") for line in lines[1:])
    assert desk.client.get("/admin/analytics/nothing.csv").status_code == 404
    token = EditorStore(desk_index).new_token(EDITOR_NAME)
    client = desk_app.test_client()
    response = client.get(
        "/api/admin/analytics?since=7d", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    report = response.get_json()
    assert {"per_day", "top_queries", "no_result_queries", "rarer", "threshold"} <= set(report)
    assert report["threshold"] == 3
    assert "tariffs" in [q["query"] for q in report["top_queries"]]
    bad = client.get("/api/admin/analytics?from=soon", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and re.search("YYYY-MM-DD", bad.get_json()["error"]["message"])
