"""The shared query parameters -> SearchRequest, and back to a query string."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from search.results import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    SORTS,
    SearchRequest,
)
from web.params import BadRequestParameter, parse_search_request, request_query


def parse(*pairs):
    return parse_search_request(MultiDict(pairs))


def test_no_parameters_is_the_default_request():
    assert parse() == SearchRequest()


def test_every_parameter():
    request = parse(
        ("q", " ukraine troops "),
        ("region", "Europe"),
        ("region", "Russia and FSU"),
        ("theme", "Energy"),
        ("from", "2024-01-01"),
        ("to", "2024-12-31"),
        ("sort", "newest"),
        ("page", "3"),
        ("per_page", "25"),
    )
    assert request == SearchRequest(
        q="ukraine troops ",  # a space after the last word says it is finished
        filters={"region": ("Europe", "Russia and FSU"), "theme": ("Energy",)},
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 12, 31),
        sort="newest",
        page=3,
        per_page=25,
    )


def test_repeated_and_blank_facet_values_are_dropped():
    request = parse(("region", "Europe"), ("region", ""), ("region", "Europe"), ("theme", "  "))
    assert request.filters == {"region": ("Europe",)}


def test_empty_dates_from_an_untouched_form_mean_no_limit():
    request = parse(("from", ""), ("to", ""))
    assert request.date_from is None and request.date_to is None


def test_the_same_day_is_a_valid_range():
    request = parse(("from", "2024-03-11"), ("to", "2024-03-11"))
    assert request.date_from == request.date_to == dt.date(2024, 3, 11)


def test_limits_are_inclusive():
    assert parse(("page", str(MAX_PAGE)), ("per_page", str(MAX_PER_PAGE))).page == MAX_PAGE


def test_a_query_of_any_length_is_accepted():
    pasted = " pasted words" * 1000
    assert parse(("q", pasted)).q == pasted.strip()


@pytest.mark.parametrize(
    ("pairs", "name", "words"),
    [
        ([("page", "0")], "page", "from 1 to"),
        ([("page", str(MAX_PAGE + 1))], "page", "from 1 to"),
        ([("page", "-1")], "page", "whole number"),
        ([("page", "1.5")], "page", "whole number"),
        ([("page", "two")], "page", "whole number"),
        ([("page", "")], "page", "whole number"),
        ([("page", "1_0")], "page", "whole number"),
        ([("per_page", "0")], "per_page", "from 1 to"),
        ([("per_page", "10000")], "per_page", "from 1 to 100"),
        ([("from", "notadate")], "from", "YYYY-MM-DD"),
        ([("from", "2024-02-30")], "from", "YYYY-MM-DD"),
        ([("to", "20240101")], "to", "YYYY-MM-DD"),
        ([("to", "2024-W01-1")], "to", "YYYY-MM-DD"),
        ([("from", "2024-06-01"), ("to", "2024-01-01")], "from", "after"),
        ([("sort", "bogus")], "sort", "relevance, newest, oldest"),
        ([("sort", "")], "sort", "one of"),
    ],
)
def test_bad_parameters_name_the_parameter_and_say_what_is_allowed(pairs, name, words):
    with pytest.raises(BadRequestParameter) as caught:
        parse(*pairs)
    assert caught.value.name == name
    assert words in caught.value.message


def test_request_query_leaves_defaults_out():
    assert request_query(SearchRequest()) == []
    assert request_query(SearchRequest(q="heat", page=2)) == [("q", "heat"), ("page", "2")]


values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20
).filter(lambda value: value.strip() == value)


@given(
    q=st.text(max_size=40).map(str.strip),
    regions=st.lists(values, max_size=3, unique=True).map(tuple),
    themes=st.lists(values, max_size=3, unique=True).map(tuple),
    days=st.lists(st.dates(), min_size=2, max_size=2).map(sorted),
    use_dates=st.booleans(),
    sort=st.sampled_from(SORTS),
    page=st.integers(1, MAX_PAGE),
    per_page=st.integers(1, MAX_PER_PAGE),
)
def test_request_query_round_trips(q, regions, themes, days, use_dates, sort, page, per_page):
    request = SearchRequest(
        q=q,
        filters={name: v for name, v in (("region", regions), ("theme", themes)) if v},
        date_from=days[0] if use_dates else None,
        date_to=days[1] if use_dates else None,
        sort=sort,
        page=page,
        per_page=per_page,
    )
    assert parse_search_request(MultiDict(request_query(request))) == request


def test_default_per_page_matches_the_core():
    assert parse().per_page == DEFAULT_PER_PAGE
