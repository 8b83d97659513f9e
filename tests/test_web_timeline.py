"""The timeline's periods, its server-side chart and the gunicorn settings, without a server."""

import datetime as dt
import importlib
import os
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from search.results import TimelineBucket
from search.timeline import histogram
from web.timeline import chart

SVG = "{http://www.w3.org/2000/svg}"


def year(y, count):
    return TimelineBucket(str(y), dt.date(y, 1, 1), dt.date(y, 12, 31), count, "year")


@pytest.fixture()
def timeline_svg(app):
    """The chart of some buckets as the page's template draws it."""
    template = app.jinja_env.get_template("_timeline.html")
    return lambda buckets, href: template.render(timeline=chart(buckets, href))


def parse(markup):
    return ET.fromstring(
        str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def test_each_non_empty_period_is_a_labelled_link(timeline_svg):
    svg = parse(
        timeline_svg([year(2020, 3), year(2021, 0), year(2022, 1)], lambda b: f"/s?y={b.label}")
    )
    assert svg.get("role") == "group" and svg.get("aria-label")
    links = svg.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/s?y=2020", "/s?y=2022"]
    assert [a.find(f"{SVG}title").text for a in links] == ["2020: 3 articles", "2022: 1 article"]
    assert "show only this period" in links[0].get("aria-label")
    heights = [float(a.findall(f"{SVG}rect")[1].get("height")) for a in links]
    assert heights[0] > heights[1] > 0


def test_labels_and_links_are_escaped(timeline_svg):
    bucket = TimelineBucket("<b>&", dt.date(2020, 1, 1), dt.date(2020, 12, 31), 2, "year")
    markup = str(timeline_svg([bucket], lambda b: '/s?a=1&b="2"'))
    assert "<b>" not in markup and "&lt;b&gt;&amp;" in markup
    assert 'href="/s?a=1&amp;b=&#34;2&#34;"' in markup
    assert " style=" not in markup


def test_the_search_lists_every_period_empty_ones_too():
    months = np.array([2018 * 12, -1, 2021 * 12 + 5, 2021 * 12 + 6])  # -1: undated
    yearly = histogram(months)
    assert [b.label for b in yearly] == ["2018", "2019", "2020", "2021"]
    assert [b.count for b in yearly] == [1, 0, 0, 2]
    assert {b.granularity for b in yearly} == {"year"}
    months = np.array([2023 * 12 + 10, 2024 * 12 + 1])
    monthly = histogram(months)
    assert [b.label for b in monthly] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert [b.count for b in monthly] == [1, 0, 0, 1]
    assert monthly[-1].end == dt.date(2024, 2, 29)
    assert histogram(np.array([-1])) == ()


def test_nothing_to_draw_is_no_chart():
    assert chart([], lambda b: "/") is None


def test_gunicorn_workers_follow_the_machine_or_the_environment(monkeypatch):
    import web.gunicorn_conf as conf

    monkeypatch.delenv("ARTICLE_SEARCH_WORKERS", raising=False)
    conf = importlib.reload(conf)
    assert conf.workers == min(2 * os.cpu_count() + 1, 8)  # 2 x cores + 1, at most 8
    assert conf.preload_app is False and conf.accesslog == "-"
    assert conf.worker_class == "web.gevent_worker.EagerGeventWorker"
    monkeypatch.setenv("ARTICLE_SEARCH_WORKERS", "3")
    assert importlib.reload(conf).workers == 3
    monkeypatch.delenv("ARTICLE_SEARCH_WORKERS")
    importlib.reload(conf)
