"""Which facets an archive has is configuration: four facets through the page and the API."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from search.facets import DEFAULT_FACETS, FACETS_ENV, configured_facets

FOUR = "region,theme,author,report"


def test_region_and_theme_unless_configured(monkeypatch):
    monkeypatch.delenv(FACETS_ENV, raising=False)
    assert tuple(f.name for f in configured_facets()) == DEFAULT_FACETS
    monkeypatch.setenv(FACETS_ENV, " Author , region,author")
    assert [f.name for f in configured_facets()] == ["author", "region"]
    assert [f.field for f in configured_facets(FOUR)] == ["regions", "themes", "authors", "reports"]


def test_an_unknown_facet_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match=r"'colour'.*region, theme, author, report"):
        configured_facets("region,colour")


@pytest.fixture()
def four_facets(demo_index):
    from web import create_app

    return create_app({"INDEX_DIR": demo_index, "TESTING": True, "FACETS": FOUR}).test_client()


def counts(articles, field: str) -> dict[str, int]:
    return dict(Counter(value for article in articles for value in getattr(article, field)))


def test_the_api_counts_four_facets_disjunctively(four_facets, demo_articles):
    articles = list(demo_articles.values())
    author = Counter(a for article in articles for a in article.authors).most_common(1)[0][0]
    data = four_facets.get("/api/search", query_string={"author": author}).get_json()
    assert list(data["facets"]) == ["region", "theme", "author", "report"]
    by_author = [a for a in articles if author in a.authors]
    assert data["total"] == len(by_author)
    # The author facet counts every article (its own selection aside), the others the author's.
    assert {v["value"]: v["count"] for v in data["facets"]["author"]} == counts(articles, "authors")
    for name, field in (("region", "regions"), ("theme", "themes"), ("report", "reports")):
        assert {v["value"]: v["count"] for v in data["facets"][name]} == counts(by_author, field)
    report = next(iter(counts(articles, "reports")))
    both = four_facets.get("/api/search", query_string={"author": author, "report": report})
    expected = [a for a in by_author if report in a.reports]
    assert both.get_json()["total"] == len(expected)


def test_the_page_shows_four_facets_and_a_chip_per_selection(four_facets, demo_articles):
    report = next(iter(counts(demo_articles.values(), "reports")))
    html = four_facets.get("/search", query_string={"report": report}).get_data(as_text=True)
    legends = re.findall(r'<fieldset class="facet" id="facet-(\w+)">\s*<legend>([^<]+)<', html)
    assert legends == [
        ("region", "Region"),
        ("theme", "Theme"),
        ("author", "Author"),
        ("report", "In-depth report"),
    ]
    assert f"In-depth report: {report}" in html
    total = sum(report in a.reports for a in demo_articles.values())
    assert f'data-total="{total}"' in html and total > 0


def test_the_openapi_document_lists_the_configured_facets(four_facets):
    document = four_facets.get("/openapi.json").get_json()
    parameters = document["paths"]["/api/search"]["get"]["parameters"]
    names = [p["$ref"].rsplit("/", 1)[1] for p in parameters]
    assert names[:5] == ["q", "region", "theme", "author", "report"]
    facets = document["components"]["schemas"]["SearchResponse"]["properties"]["facets"]
    assert facets["required"] == ["region", "theme", "author", "report"]
