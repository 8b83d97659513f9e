"""Typed questions and prose are plain words: operators in them never change the query.

A query that reads as a sentence or a question (ends in ".", "?" or "!", or
opens with a question word) keeps every word: a leading "-" is a dash, "OR",
"AND" and "NOT" are words. Search syntax still works in ordinary searches.
Also: which words count towards "all words first", and the proximity bonus.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.engine import SearchEngine
from search.query import QueryBuilder, reads_as_prose
from search.ranking import STRICT_COORDINATION_WORDS
from search.results import SearchRequest
from search.schema import english_analyzer

ANALYZER = english_analyzer()


@pytest.fixture(scope="module")
def builder() -> QueryBuilder:
    return QueryBuilder(ANALYZER, lambda field, typed: [])


def ids(engine: SearchEngine, q: str) -> list[str]:
    return [hit.id for hit in engine.search(SearchRequest(q=q, per_page=100)).hits]


def has_kind(query: wq.Query, kind: type) -> bool:
    stack = [query]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            return True
        stack.extend(current.children())
    return False


@pytest.mark.parametrize(
    ("typed", "prose"),
    [
        ("What similarity laws must be obeyed when constructing aeroelastic models?", True),
        ("what is the 'shear-flow'?", True),
        ("material properties of photoelastic materials .", True),
        ("thrust vector control by fluid injection -dash papers .", True),
        ("How do heat pumps work", True),
        ('"Is the port open?"', True),
        ("Stop!", True),
        ("heat pump", False),
        ("heat-transfer: laminar", False),
        ("heat -pump", False),
        ("cocoa OR coffee", False),
        ("sanctions -russia U.S.", False),  # an abbreviation, not a full stop
        ("how pumps", False),  # too short to be a question
        ("", False),
    ],
)
def test_what_reads_as_prose(typed, prose):
    assert reads_as_prose(typed) is prose


def test_a_typed_question_is_its_words(engine):
    question = "What similarity laws must be obeyed by heat pumps and cocoa farmers?"
    words = "similarity laws must obeyed heat pumps cocoa farmers"
    assert ids(engine, question) == ids(engine, words)


def test_a_leading_dash_in_prose_is_not_an_exclusion(builder, engine):
    parsed = builder.parse("heat pumps -dash grants for rural households .")
    assert not has_kind(parsed.query, wq.AndNot)
    assert "dash" in parsed.words
    assert ids(engine, "Why did heat pump sales -not grants- stall?") == ids(
        engine,
        "heat pump sales not grants stall ",  # a finished word: no completions
    )
    # In an ordinary search "-word" still excludes.
    assert has_kind(builder.parse("heat -pump").query, wq.AndNot)


@pytest.mark.parametrize("operator", ["OR", "AND", "NOT"])
def test_boolean_words_in_prose_are_words(engine, operator):
    typed = f"Did cocoa {operator} coffee prices rise?"
    assert ids(engine, typed) == ids(engine, "cocoa coffee prices rise ")  # "rise" is finished


def test_or_between_words_is_still_an_operator_in_a_search(builder):
    parsed = builder.parse("cocoa OR coffee price")
    assert len(parsed.words) == 3
    assert builder.parse("cocoa coffee price").query != parsed.query


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("what is the 'shear-flow'?", "shear-flow"),
        ("heat-transfer: laminar", "heat-transfer laminar"),
        ("(heat pump) grants?", "heat pump grants"),
        ("What about cocoa: prices, harvests & farmers?", "cocoa prices harvests farmers"),
        ("Where are night trains returning???", "night trains returning"),
    ],
)
def test_punctuation_in_questions_is_not_syntax(engine, typed, same_as):
    assert ids(engine, typed) == ids(engine, same_as)


def test_quotes_in_a_question_still_make_a_phrase(builder):
    parsed = builder.parse('what is a "heat pump" worth?')
    assert has_kind(parsed.query, wq.Phrase)
    assert parsed.words == ["heat pump", "worth?"]


def test_question_words_do_not_count_as_words(builder):
    parsed = builder.parse("Why did cocoa prices rise so very much?")
    assert [w.strip("?").lower() for w in parsed.words] == ["cocoa", "prices", "rise", "much"]


def test_a_query_of_nothing_but_stop_words_still_searches_them(builder, engine):
    parsed = builder.parse("What is it about?")
    assert not parsed.is_browse
    assert parsed.words  # "what", "about"


def test_short_searches_rank_all_words_first_long_ones_by_bm25f(builder):
    short = builder.parse("Why did cocoa prices rise?")  # 3 words after stop words
    assert has_kind(short.query, wq.ConstantScoreQuery)
    long_words = " ".join(["cocoa", "prices", "rise", "harvest", "farmers", "ghana"])
    assert len(long_words.split()) > STRICT_COORDINATION_WORDS
    assert not has_kind(builder.parse(long_words).query, wq.ConstantScoreQuery)


def test_a_short_question_ranks_articles_with_all_its_words_first(builder, engine, demo_articles):
    question = "Why did cocoa prices hit a record?"
    stems = [{t.text for t in ANALYZER(word)} for word in builder.parse(question).words]
    assert len(stems) == 4  # cocoa, prices, hit, record
    terms = {
        article_id: {t.text for t in ANALYZER(f"{a.title}\n{a.body}\n{' '.join(a.authors)}")}
        for article_id, a in demo_articles.items()
    }
    with_all = {i for i, found in terms.items() if all(s <= found for s in stems)}
    found = ids(engine, question)
    assert 0 < len(with_all) < len(found)
    assert set(found[: len(with_all)]) == with_all


def test_proximity_only_reorders(builder, engine):
    # Neighbouring words add a phrase bonus; the articles found are the same.
    parsed = builder.parse("heat wave hospitals")
    assert has_kind(parsed.query, wq.Phrase)
    assert set(ids(engine, "heat wave hospitals")) == set(ids(engine, "hospitals wave heat"))
    assert not has_kind(builder.parse("heat -wave").query, wq.Phrase)


def test_neighbouring_words_rank_before_scattered_ones(engine):
    found = ids(engine, "heat wave")
    assert set(found[:2]) == {
        "2021-07-06-record-heat-wave-northwest-hospitals.txt",
        "2023-07-18-heat-wave-halts-outdoor-work.txt",
    }


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "what",
                "is",
                "the",
                "heat",
                "pump",
                "OR",
                "AND",
                "NOT",
                "-dash",
                "'shear-flow'",
                "(large-deflection)",
                "title:",
                "region:",
                '"',
                "?",
                ":",
                "-",
                "cocoa",
                "U.S.",
                "é",
            ]
        ),
        max_size=12,
    ),
    end=st.sampled_from(["", "?", ".", "!", " ."]),
)
def test_any_question_searches_without_error(engine, words, end):
    result = engine.search(SearchRequest(q=" ".join(words) + end))
    assert result.total >= len(result.hits)
