"""Expensive queries are bounded: each answers within a time limit (a search cut short
says so) or, past the documented limits, gets a 400. Never a worker stuck on one query.

The index: generated articles over a vocabulary of 20,000 made-up words, so spelling
correction, prefix completion and long OR lists have a big vocabulary to walk.
"""

from __future__ import annotations

import random
import time

import pytest

from index.indexer import index_paths
from search.engine import SEARCH_SECONDS, SearchEngine
from search.query import MAX_CLAUSES
from search.results import MAX_PAGE, MAX_PER_PAGE, SearchRequest
from tests.generated_corpus import vocabulary, write_articles

pytestmark = pytest.mark.slow

# CPU seconds one search may use here, whatever else the machine is doing.
CPU_LIMIT = 2.0
# About the longest query gunicorn's 8,190-byte request line can carry.
LONGEST_QUERY = 8000
WORDS = vocabulary(20_000)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("expensive")
    write_articles(tmp / "articles", 1000, paragraphs=(2, 3))
    index_paths(tmp / "index", [tmp / "articles"], procs=1)
    return SearchEngine(tmp / "index")


def timed(engine: SearchEngine, **request) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    result = engine.search(SearchRequest(**request))
    return result, time.thread_time() - cpu, time.perf_counter() - wall


def words(count: int, seed: int, suffix: str = "") -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(WORDS) + suffix for _ in range(count)]


def cut(text: str, limit: int = LONGEST_QUERY) -> str:
    return text[:limit]


def triples(seed: int, count: int) -> list[tuple[str, str, str]]:
    found = words(3 * count, seed)
    return list(zip(found[::3], found[1::3], found[2::3], strict=True))


PUNCTUATION = "!@#$%^&*()_+-=[]{}|;:,.<>?/~`\"'\\"
EXPENSIVE = {
    "a lone star": "*",
    "leading wildcards": " ".join("*" + w[1:] for w in words(60, 1)),
    "stars only": "*" * LONGEST_QUERY,
    "question marks and tildes": " ".join(w + "~2" for w in words(80, 2)),
    "huge OR list": cut(" OR ".join(words(1000, 3))),
    "huge OR list of unknown words": cut(" OR ".join(w + "qx" for w in words(1000, 4))),
    "every word misspelt (did you mean)": cut(" ".join(w[::-1] for w in words(1000, 5))),
    "an 8,000-letter word": "e" * LONGEST_QUERY,
    "8,000 letters of words run together": cut("".join(words(2000, 6))),
    "many phrases": cut(" ".join(f'"{a} {b} {c}"' for a, b, c in triples(7, 400))),
    "one long phrase": '"' + cut(" ".join(words(1500, 8)), LONGEST_QUERY - 2) + '"',
    "many exclusions": cut(" ".join("-" + w for w in words(1000, 9))),
    "field prefixes": cut(
        " ".join(f"title:{a} author:{b} region:{c}" for a, b, c in triples(10, 200))
    ),
    "punctuation soup": "".join(random.Random(11).choices(PUNCTUATION, k=LONGEST_QUERY)),
}


@pytest.mark.parametrize("q", EXPENSIVE.values(), ids=EXPENSIVE.keys())
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_an_expensive_query_answers_within_the_limit(engine, q, sort):
    assert len(q) <= LONGEST_QUERY
    result, cpu, wall = timed(engine, q=q, sort=sort)
    assert cpu < CPU_LIMIT, f"{cpu:.2f} CPU seconds"
    assert wall < SEARCH_SECONDS + 5
    # A full first page, unless there are fewer results or the search ran out of time.
    assert len(result.hits) == min(10, result.total) or result.partial


def test_the_deepest_page_of_the_biggest_pages_answers_quickly(engine):
    for q, sort in (("", "newest"), (" OR ".join(words(50, 12)), "relevance")):
        result, cpu, _ = timed(engine, q=q, sort=sort, page=MAX_PAGE, per_page=MAX_PER_PAGE)
        assert cpu < CPU_LIMIT
        assert result.hits == ()  # far past the last result: an empty page, not an error


def test_a_10000_character_query_is_bounded(engine):
    # The web layer passes any length on: the engine searches its first part.
    result, cpu, _ = timed(engine, q=" OR ".join(words(3000, 13))[:10_000])
    assert cpu < CPU_LIMIT
    assert result.truncated and 0 < result.searched_characters < 10_000


def test_query_clauses_are_capped(engine):
    q = " ".join(words(MAX_CLAUSES * 4, 14))
    parsed = engine._current.builder.parse(q)
    assert len(parsed.words) <= MAX_CLAUSES


def test_completions_over_a_big_vocabulary_are_quick(engine):
    for prefix in ("ka", "ri", "to", "kari", "e" * 1000, "zz"):
        started = time.thread_time()
        engine.suggest(prefix, limit=20)
        assert time.thread_time() - started < 0.5, prefix


def test_a_search_past_its_time_limit_is_cut_short_and_says_so(engine):
    """With a budget of 0 seconds (a deadline already past, search.deadline), the answer
    comes at once, flagged partial."""
    hurried = SearchEngine(engine.index_dir, search_seconds=0.0)
    result = hurried.search(SearchRequest(q=" OR ".join(words(100, 15))))
    assert result.partial
    assert (result.total, result.hits, result.suggestion) == (0, (), None)
    assert not hurried.search(SearchRequest(q="")).partial  # browsing matches nothing
    # The same search with no time limit is whole.
    patient = SearchEngine(engine.index_dir, search_seconds=None)
    assert not patient.search(SearchRequest(q=" OR ".join(words(100, 15)))).partial


def test_a_cut_short_search_is_flagged_in_json_and_on_the_page(engine):
    from search.serialize import result_json
    from web import create_app

    app = create_app({"INDEX_DIR": engine.index_dir, "TESTING": True})
    holder = app.extensions["article_search"]
    holder._engine = SearchEngine(engine.index_dir, search_seconds=0.0)
    client = app.test_client()
    data = client.get("/api/search", query_string={"q": WORDS[0]}).get_json()
    assert data["partial"] is True and data["total"] == 0
    page = client.get("/search", query_string={"q": WORDS[0]}).get_data(as_text=True)
    assert "cut short" in page
    assert result_json(engine.search(SearchRequest(q=WORDS[0])))["partial"] is False


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"page": "100000"}, "page", f"from 1 to {MAX_PAGE}"),
        ({"per_page": str(MAX_PER_PAGE + 1)}, "per_page", f"from 1 to {MAX_PER_PAGE}"),
        ({"page": "99999999999999999999"}, "page", f"from 1 to {MAX_PAGE}"),
    ],
)
def test_past_the_documented_limits_is_a_400_that_names_the_limit(client, params, parameter, says):
    for path in ("/api/search", "/search", "/search.atom"):
        response = client.get(path, query_string=params)
        assert response.status_code == 400, path
        if path.startswith("/api/"):
            error = response.get_json()["error"]
            assert error["parameter"] == parameter and says in error["message"]
        else:
            assert says in response.get_data(as_text=True)


def test_a_query_of_any_length_is_answered_on_every_route(client):
    pasted = " ".join(words(1500, 16))
    for path in ("/api/search", "/search", "/search.atom", "/api/suggest"):
        assert client.get(path, query_string={"q": pasted}).status_code == 200, path


def test_the_limits_are_documented_in_the_openapi_document(client):
    parameters = client.get("/openapi.json").get_json()["components"]["parameters"]
    assert "maxLength" not in parameters["q"]["schema"]  # searched on its first part
    assert parameters["page"]["schema"]["maximum"] == MAX_PAGE
    assert parameters["per_page"]["schema"]["maximum"] == MAX_PER_PAGE
