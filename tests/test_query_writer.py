"""What the query writer (search.query) puts in the box, the parser reads back as written.

The pages link an article's author, region or report as ``author:"…"``,
``region:"…"`` searches, and a chosen completion replaces the word being typed
with one (or a title with its phrase). Whatever the names hold (quotes,
colons, dashes, "OR", any script) and whatever was typed before, the parsed
search must be exactly that value in that field.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.facets import ValueSets
from search.query import (
    TEXT_FIELDS,
    TEXT_PREFIXES,
    VALUE_PREFIXES,
    QueryBuilder,
    completed_query,
    field_query,
    phrase_query,
)
from search.results import Suggestion
from search.schema import english_analyzer
from search.serialize import suggestion_json

ANALYZER = english_analyzer()
# What a name in an archive may hold: any printable text, one line or several.
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    str.strip
)
TYPED = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
# The text fields a text prefix searches (search.query._clause).
TEXT_PREFIX_FIELDS = {"title": "title", "author": "author_text"}


def _builder(field: str, value: str) -> QueryBuilder:
    """A parser over an index whose ``field`` holds ``value`` and one other name."""
    names = sorted({value, "Elsewhere"})
    values = {field: ValueSets(field, names, np.ones(len(names), dtype=np.int64))}
    return QueryBuilder(ANALYZER, lambda name, typed: values[name].lookup(typed))


def _terms(text: str) -> list[str]:
    return [token.text for token in ANALYZER(text)]


def _text_query(field: str, terms: list[str]) -> wq.Query:
    return wq.Phrase(field, terms) if len(terms) > 1 else wq.Term(field, terms[0])


def test_every_prefix_of_the_parser_is_written_by_the_writer():
    assert set(TEXT_PREFIX_FIELDS) == set(TEXT_PREFIXES)
    assert VALUE_PREFIXES  # region, theme, report, source: each checked below


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(sorted(VALUE_PREFIXES)), value=NAMES)
def test_a_value_written_for_its_field_is_searched_as_that_value(prefix, value):
    field = VALUE_PREFIXES[prefix]
    parsed = _builder(field, value).parse(field_query(prefix, value))
    assert parsed.query == wq.Or([wq.Term(field, value)])


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(sorted(TEXT_PREFIXES)), value=NAMES)
def test_a_name_written_for_a_text_field_is_searched_as_its_phrase(prefix, value):
    terms = _terms(value)
    assume(terms)  # a name of stop words only ("The Who") searches nothing as text
    parsed = QueryBuilder(ANALYZER, lambda *_: []).parse(field_query(prefix, value))
    assert parsed.query == _text_query(TEXT_PREFIX_FIELDS[prefix], terms)
    assert parsed.terms == set(terms)


@settings(max_examples=300, deadline=None)
@given(title=NAMES)
def test_a_title_written_as_a_phrase_is_searched_as_that_phrase(title):
    terms = _terms(title)
    assume(terms)
    parsed = QueryBuilder(ANALYZER, lambda *_: []).parse(phrase_query(title))
    assert parsed.query == wq.Or([wq.Or([_text_query(f, terms) for f in TEXT_FIELDS])])
    assert parsed.words == [title.replace('"', " ")]


@settings(max_examples=300, deadline=None)
@given(typed=TYPED, prefix=st.sampled_from(sorted(VALUE_PREFIXES)), value=NAMES)
def test_a_completion_chosen_after_any_typing_searches_its_value(typed, prefix, value):
    field = VALUE_PREFIXES[prefix]
    text = completed_query(typed, field_query(prefix, value))
    assert text.endswith(field_query(prefix, value))
    query = _builder(field, value).parse(text).query
    searched = query.a if isinstance(query, wq.AndNot) else query  # not what is excluded
    assert wq.Term(field, value) in list(searched.leaves())


@pytest.mark.parametrize(
    ("typed", "suggestion", "query"),
    [
        ("heat pu", Suggestion("pump", "term"), "pump"),
        ("nor", Suggestion("Norway's oil", "title"), '"Norway\'s oil"'),
        ("crude eur", Suggestion("Europe", "region"), 'crude region:"Europe"'),
        ('crude "oil eur', Suggestion("Europe", "region"), 'crude  oil region:"Europe"'),
        ("by ahm ", Suggestion('Ahmed "Al" Adel', "author"), 'by author:"Ahmed  Al  Adel"'),
    ],
)
def test_a_completion_says_what_choosing_it_puts_in_the_box(typed, suggestion, query):
    answer = suggestion_json(typed, suggestion)
    assert answer["query"] == query
    assert answer["text"] == suggestion.text and answer["kind"] == suggestion.kind
