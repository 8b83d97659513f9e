"""A facet with more values than a page can use lists its likeliest ones and says how many more."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from index.indexer import index_paths
from search.engine import SearchEngine
from search.facets import FACET_VALUE_LIMIT, configured_facets
from search.results import SearchRequest
from web import create_app

AUTHORS = FACET_VALUE_LIMIT + 30
# Author i writes (i % 4) + 1 articles, so counts tie in fours and ties are broken by name.
BYLINES = [f"Writer {i:03d}" for i in range(AUTHORS)]


@pytest.fixture(scope="module")
def many_authors(tmp_path_factory):
    folder = tmp_path_factory.mktemp("many-authors")
    lines = []
    for i, author in enumerate(BYLINES):
        for copy in range(i % 4 + 1):
            article = {
                "id": f"a{i}-{copy}",
                "title": f"Harbour report {i} part {copy}",
                "authors": [author],
                "source": "Demo Wire",
                "date": "2024-03-01",
                "regions": ["Europe"],
                "themes": [],
                "reports": [],
                "body": f"The harbour reopened after the storm, said {author}.",
            }
            lines.append(json.dumps(article))
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    index_dir = folder / "index"
    index_paths(index_dir, [folder / "articles.jsonl"])
    return index_dir


def expected_order() -> list[tuple[str, int]]:
    counted = [(author, i % 4 + 1) for i, author in enumerate(BYLINES)]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0].casefold()))


def test_the_likeliest_values_are_listed_and_the_rest_counted(many_authors):
    engine = SearchEngine(many_authors, facets=configured_facets("region,author"))
    facet = engine.search(SearchRequest(q="harbour")).facets["author"]
    listed = [(v.value, v.count) for v in facet.values]
    assert listed == expected_order()[:FACET_VALUE_LIMIT]
    assert facet.unlisted == AUTHORS - FACET_VALUE_LIMIT
    # A facet with fewer values lists them all.
    assert engine.search(SearchRequest(q="harbour")).facets["region"].unlisted == 0


def test_a_selected_value_is_listed_however_rare(many_authors):
    engine = SearchEngine(many_authors, facets=configured_facets("region,author"))
    rarest = expected_order()[-1][0]
    facet = engine.search(SearchRequest(q="harbour", filters={"author": (rarest,)})).facets[
        "author"
    ]
    assert [v.value for v in facet.values if v.selected] == [rarest]
    assert len(facet.values) == FACET_VALUE_LIMIT + 1
    assert facet.unlisted == AUTHORS - FACET_VALUE_LIMIT - 1


def test_the_api_and_the_page_say_how_many_more(many_authors):
    app = create_app(
        {"INDEX_DIR": many_authors, "TESTING": True, "FACETS": "region,author"}
    ).test_client()
    data = app.get("/api/search", query_string={"q": "harbour"}).get_json()
    assert len(data["facets"]["author"]) == FACET_VALUE_LIMIT
    assert data["facets_unlisted"] == {"region": 0, "author": AUTHORS - FACET_VALUE_LIMIT}
    page = BeautifulSoup(app.get("/search", query_string={"q": "harbour"}).text, "html.parser")
    note = page.select_one("#facet-author .facet-unlisted").get_text(" ", strip=True)
    assert note.startswith(f"{AUTHORS - FACET_VALUE_LIMIT} more with fewer results")
    assert page.select_one("#facet-region .facet-unlisted") is None
