"""Pseudo-relevance feedback: long queries are re-ranked by their first results, nothing else."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search.engine import SearchEngine
from search.feedback import feedback_terms, reranks, with_feedback
from search.matching import ArrayMatcher
from search.query import QueryBuilder
from search.ranking import weighting
from search.results import SearchRequest
from search.schema import english_analyzer
from search.storage.index_folder import IndexFolder

LONG = "How are governments helping rural households replace oil boilers with something cleaner?"


@pytest.fixture()
def searcher(demo_index):
    ix, _ = IndexFolder(demo_index).open_served()
    with ix.searcher(weighting=weighting()) as searcher:
        yield searcher


@pytest.fixture(scope="module")
def builder() -> QueryBuilder:
    return QueryBuilder(english_analyzer(), lambda field, typed: [])


def search(engine: SearchEngine, q: str):
    return engine.search(SearchRequest(q=q, per_page=100))


def test_only_long_queries_get_feedback(builder):
    assert builder.parse(LONG).feedback
    assert not builder.parse("heat pump grants").feedback
    assert not builder.parse("Why did cocoa prices rise?").feedback


def test_feedback_terms_come_from_the_first_results_not_the_query(searcher, builder):
    parsed = builder.parse(LONG)
    results = searcher.search(parsed.query, limit=10)
    docnums = [hit.docnum for hit in results]
    scores = [hit.score for hit in results]
    terms = feedback_terms(searcher, builder.analyzer, parsed, docnums, scores)
    assert terms
    assert not set(terms) & parsed.terms
    assert "heat" in terms or "pump" in terms  # what the grant articles are about


def test_feedback_reorders_without_changing_the_results(engine, searcher, builder):
    with_it = search(engine, LONG)
    # By date, the same search skips feedback (below); the words alone match these.
    by_date = engine.search(SearchRequest(q=LONG, sort="newest", per_page=100))
    words_alone = searcher.search(builder.parse(LONG).query, limit=None)
    matching = {searcher.stored_fields(hit.docnum)["id"] for hit in words_alone}
    assert with_it.total == by_date.total == len(matching) < 40  # of the 40 demo articles
    assert {h.id for h in with_it.hits} == {h.id for h in by_date.hits} == matching
    assert with_it.facets == by_date.facets
    assert with_it.hits[0].id == "2019-10-15-rural-households-heat-pump-grants.txt"


def test_only_relevance_order_is_reranked(builder):
    """A date order has no use for feedback's terms: they would move no article."""
    long, short = builder.parse(LONG), builder.parse("heat pump grants")
    assert reranks(long, SearchRequest(q=LONG))
    assert not reranks(long, SearchRequest(q=LONG, sort="newest"))
    assert not reranks(long, SearchRequest(q=LONG, sort="oldest"))
    assert not reranks(short, SearchRequest(q="heat pump grants"))


def test_array_matcher_scores_and_maybe_as_whoosh_does(searcher, builder):
    parsed = builder.parse("heat pump")
    query = with_feedback(parsed.query, ["grant", "boiler", "oil"])
    assert isinstance(query, wq.AndMaybe)
    expected = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
    found = ArrayMatcher(searcher).evaluate(query)
    assert set(found.docnums.tolist()) == set(expected)
    for docnum, score in zip(found.docnums.tolist(), found.scores.tolist(), strict=True):
        assert score == pytest.approx(expected[docnum])
