"""Which facets an archive has is configuration: six facets through the page, the API and a
real server; the source facet on an index written before the source was indexed."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections import Counter
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from index.indexer import index_paths
from search.engine import SearchEngine
from search.facets import (
    DEFAULT_FACETS,
    FACETS_ENV,
    FacetNotIndexedError,
    configured_facets,
)
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder
from tests.conftest import DEMO_ARTICLES, PROJECT_ROOT, article_search_command, serving
from web import create_app

SIX = "region,theme,author,report,source,year"
# Each facet's values of a demo article, written out here rather than taken from search.facets.
VALUES = {
    "region": lambda a: a.regions,
    "theme": lambda a: a.themes,
    "author": lambda a: a.authors,
    "report": lambda a: a.reports,
    "source": lambda a: (a.source,) if a.source else (),
    "year": lambda a: (str(a.date.year),) if a.date else (),
}


def test_region_and_theme_unless_configured(monkeypatch):
    monkeypatch.delenv(FACETS_ENV, raising=False)
    assert tuple(f.name for f in configured_facets()) == DEFAULT_FACETS
    monkeypatch.setenv(FACETS_ENV, " Author , region,author")
    assert [f.name for f in configured_facets()] == ["author", "region"]
    fields_ = [f.field for f in configured_facets(SIX)]
    assert fields_ == ["regions", "themes", "authors", "reports", "source", "year"]


def test_an_unknown_facet_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match=r"'colour'.*region, theme, author, report, source, year"):
        configured_facets("region,colour")


@pytest.fixture(scope="module")
def six_facets(demo_index):
    return create_app({"INDEX_DIR": demo_index, "TESTING": True, "FACETS": SIX}).test_client()


def expected_counts(articles, selected: dict[str, list[str]], facet: str) -> dict[str, int]:
    """``facet``'s disjunctive counts: over the articles every other facet's selection keeps."""
    others = {name: set(values) for name, values in selected.items() if name != facet}
    kept = [a for a in articles if all(set(VALUES[n](a)) & v for n, v in others.items())]
    return dict(Counter(value for a in kept for value in VALUES[facet](a)))


def test_the_api_counts_six_facets_disjunctively(six_facets, demo_articles):
    articles = list(demo_articles.values())
    selected = {"source": ["Demo Wire"], "year": ["2020", "2023"]}
    by_source_year = [
        a for a in articles if a.source == "Demo Wire" and a.date.year in (2020, 2023)
    ]
    selected["region"] = [
        Counter(r for a in by_source_year for r in a.regions).most_common(1)[0][0]
    ]
    data = six_facets.get("/api/search", query_string=selected).get_json()
    assert list(data["facets"]) == ["region", "theme", "author", "report", "source", "year"]
    expected = [a for a in by_source_year if selected["region"][0] in a.regions]
    assert data["total"] == len(expected) > 0
    for name, values in data["facets"].items():
        assert {v["value"]: v["count"] for v in values} == expected_counts(
            articles, selected, name
        ), name
    # Years newest first (not by count), every other facet by count.
    years = [v["value"] for v in data["facets"]["year"]]
    assert years == sorted(years, reverse=True) and len(years) > 2
    sources = [v["count"] for v in data["facets"]["source"]]
    assert sources == sorted(sources, reverse=True)
    assert {hit["source"] for hit in data["results"]} == {"Demo Wire"}
    assert {hit["date"][:4] for hit in data["results"]} <= {"2020", "2023"}


def test_years_count_within_the_date_range(six_facets, demo_articles):
    articles = list(demo_articles.values())
    params = {"from": "2021-07-01", "to": "2023-06-30", "year": ["2021", "2024"]}
    data = six_facets.get("/api/search", query_string=params).get_json()
    in_range = [a for a in articles if "2021-07-01" <= a.date.isoformat() <= "2023-06-30"]
    assert data["total"] == sum(a.date.year == 2021 for a in in_range) > 0
    years = {v["value"]: (v["count"], v["selected"]) for v in data["facets"]["year"]}
    # The range bounds the counts; a selected year outside it stays listed (in its place), at zero.
    assert years == {
        "2023": (sum(a.date.year == 2023 for a in in_range), False),
        "2022": (sum(a.date.year == 2022 for a in in_range), False),
        "2021": (sum(a.date.year == 2021 for a in in_range), True),
        "2024": (0, True),
    }
    assert [v["value"] for v in data["facets"]["year"]] == ["2024", "2023", "2022", "2021"]


def test_a_year_that_is_not_a_year_is_refused(six_facets):
    response = six_facets.get("/api/search", query_string={"year": "20x1"})
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "message": "year must be a year written YYYY, not '20x1'",
        "parameter": "year",
    }
    assert six_facets.get("/search", query_string={"year": "<b>"}).status_code == 400
    assert six_facets.get("/api/search", query_string={"year": "٢٠٢٤"}).status_code == 400


@settings(max_examples=100, deadline=None)
@given(
    params=st.lists(
        st.tuples(st.sampled_from(["year", "source", "author"]), st.text(max_size=12)),
        max_size=4,
    )
)
def test_any_year_or_source_gives_200_or_a_400_naming_it(six_facets, params):
    response = six_facets.get("/api/search", query_string=params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 400:
        assert response.get_json()["error"]["parameter"] == "year"
    else:
        years = [value.strip() for name, value in params if name == "year" and value.strip()]
        assert all(re.fullmatch("[0-9]{4}", year) for year in years)


def test_the_page_shows_six_facets_and_a_chip_per_selection(six_facets, demo_articles):
    chosen = next(a for a in demo_articles.values() if a.reports and a.source != "Demo Wire")
    report, source, year = chosen.reports[0], chosen.source, str(chosen.date.year)
    params = {"report": report, "source": source, "year": year}
    page = BeautifulSoup(
        six_facets.get("/search", query_string=params).get_data(as_text=True), "html.parser"
    )
    legends = [
        (fieldset["id"], fieldset.legend.get_text(strip=True))
        for fieldset in page.select("fieldset.facet[id^=facet-]")
        if fieldset["id"] != "facet-date"
    ]
    assert legends == [
        ("facet-region", "Region"),
        ("facet-theme", "Theme"),
        ("facet-author", "Author"),
        ("facet-report", "In-depth report"),
        ("facet-source", "Source"),
        ("facet-year", "Year"),
    ]
    text = page.get_text(" ", strip=True)
    for chip in (f"In-depth report: {report}", f"Source: {source}", f"Year: {year}"):
        assert chip in text
    total = sum(
        report in a.reports and a.source == source and str(a.date.year) == year
        for a in demo_articles.values()
    )
    assert page.select_one("[data-total]")["data-total"] == str(total) and total > 0
    years = [box["value"] for box in page.select("#facet-year input[name=year]")]
    assert years == sorted(years, reverse=True) and year in years
    ticked = [box["value"] for box in page.select("#facet-source input[checked]")]
    assert ticked == [source]
    # An article's source selects it in the source facet.
    first = page.select_one("a[href^='/articles/']")["href"]
    article = BeautifulSoup(six_facets.get(first).get_data(as_text=True), "html.parser")
    assert article.select_one("a.source")["href"] == f"/search?{urlencode({'source': source})}"


def test_the_feed_and_openapi_carry_the_configured_facets(six_facets, demo_articles):
    feed = six_facets.get("/search.atom", query_string={"source": "The Civic Ledger"})
    categories = re.findall(r'<category term="[^"]*" label="([^"]*)"', feed.get_data(as_text=True))
    years = {str(a.date.year) for a in demo_articles.values() if a.source == "The Civic Ledger"}
    assert "Source: The Civic Ledger" in categories
    assert {label for label in categories if label.startswith("Year: ")} == {
        f"Year: {year}" for year in years
    }
    document = six_facets.get("/openapi.json").get_json()
    parameters = document["paths"]["/api/search"]["get"]["parameters"]
    names = [p["$ref"].rsplit("/", 1)[1] for p in parameters]
    assert names[:7] == ["q", "region", "theme", "author", "report", "source", "year"]
    year = document["components"]["parameters"]["year"]["schema"]["items"]
    assert re.fullmatch(year["pattern"], "2024") and not re.fullmatch(year["pattern"], "20x1")
    facets = document["components"]["schemas"]["SearchResponse"]["properties"]["facets"]
    # Every configured facet, and none other (none at all in an answer with counts=0).
    assert list(facets["properties"]) == ["region", "theme", "author", "report", "source", "year"]
    assert facets["additionalProperties"] is False


def test_the_default_is_region_and_theme_and_ignores_other_parameters(client):
    data = client.get("/api/search", query_string={"source": "Demo Wire", "year": "x"}).get_json()
    assert list(data["facets"]) == ["region", "theme"] and data["total"] == 40
    article = client.get(f"/articles/{data['results'][0]['id']}").get_data(as_text=True)
    assert '<span class="source">' in article and 'class="source" href' not in article


@pytest.mark.server
def test_a_real_server_serves_the_configured_facets(demo_index, tmp_path, monkeypatch):
    monkeypatch.setenv(FACETS_ENV, "region,theme,source,year")
    with serving(demo_index, tmp_path, workers=1) as server:
        data = server.search(source="Harbour Review", year="2024")
    assert list(data["facets"]) == ["region", "theme", "source", "year"]
    assert {hit["source"] for hit in data["results"]} == {"Harbour Review"}
    assert data["total"] == len(data["results"]) > 0


# --- An index written before the source was indexed (it was only stored) ---

# A real one, written by that code: two demo articles of 2019, both from "Demo Wire".
INDEX_BEFORE_SOURCE = PROJECT_ROOT / "tests" / "fixtures" / "index-written-before-boundary"


@pytest.fixture(scope="module")
def old_index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("old-schema") / "index"
    shutil.copytree(INDEX_BEFORE_SOURCE, index_dir, symlinks=True)
    return index_dir


def test_an_old_index_serves_the_default_facets_and_years(old_index):
    assert (
        not IndexFolder(old_index).open_served()[0].schema["source"].indexed
    )  # really the old schema
    engine = SearchEngine(old_index, facets=configured_facets("region,theme,year"))
    result = engine.search(SearchRequest(filters={"year": ("2019",)}))
    assert result.total == 2
    assert {v.value: v.count for v in result.facets["region"].values} == {"Europe": 1, "Africa": 1}
    assert [(v.value, v.count) for v in result.facets["year"].values] == [("2019", 2)]
    # "source:" finds nothing on it (the source is not in its terms) rather than failing.
    assert engine.search(SearchRequest(q='source:"Demo Wire"')).total == 0


@pytest.mark.slow
def test_the_source_facet_on_an_old_index_says_to_rebuild(old_index, caplog):
    with pytest.raises(FacetNotIndexedError, match=r"article-search index --rebuild"):
        SearchEngine(old_index, facets=configured_facets("region,source"))
    app = create_app({"INDEX_DIR": old_index, "TESTING": True, "FACETS": "region,source"})
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/search")
    assert response.status_code == 503 and str(old_index) not in response.get_data(as_text=True)
    assert "article-search index --rebuild" in caplog.text
    # `article-search serve` refuses at start-up, before gunicorn, with the same advice.
    finished = subprocess.run(
        [article_search_command(), "serve", "--index", str(old_index), "--bind", "127.0.0.1:9"],
        env={**os.environ, FACETS_ENV: "source,region"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert "before the source facet could be counted" in finished.stderr
    assert (
        "article-search index --rebuild" in finished.stderr and "Traceback" not in finished.stderr
    )


def test_a_rebuild_gives_an_old_index_the_source_facet(old_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(old_index, index_dir, symlinks=True)
    index_paths(index_dir, [DEMO_ARTICLES], rebuild=True, procs=1)
    engine = SearchEngine(index_dir, facets=configured_facets("source"))
    counts = {v.value: v.count for v in engine.search(SearchRequest()).facets["source"].values}
    assert counts == {"Demo Wire": 28, "Harbour Review": 6, "The Civic Ledger": 6}
    assert engine.search(SearchRequest(q='source:"harbour review"')).total == 6


def test_the_json_hit_source_matches_the_article(six_facets, demo_articles):
    data = six_facets.get("/api/search", query_string={"per_page": 100}).get_json()
    assert {hit["id"]: hit["source"] for hit in data["results"]} == {
        id_: a.source for id_, a in demo_articles.items()
    }
