"""The query language, searched over a real index of the demo articles.

What each query should find is worked out from the parsed demo articles with
the index's own analyzer, not from the engine.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.engine import SearchEngine
from search.query import MAX_CLAUSES, QueryBuilder
from search.results import SearchRequest
from search.schema import english_analyzer

ANALYZER = english_analyzer()


def analysed(text: str) -> set[str]:
    return {token.text for token in ANALYZER(text)}


def stem(word: str) -> str:
    (term,) = analysed(word)
    return term


@pytest.fixture(scope="module")
def terms(demo_articles) -> dict[str, set[str]]:
    """Every article's searchable terms (title, body, authors), by id."""
    return {
        article_id: analysed(f"{a.title}\n{a.body}\n{' '.join(a.authors)}")
        for article_id, a in demo_articles.items()
    }


def having(terms: dict[str, set[str]], word: str) -> set[str]:
    return {article_id for article_id, found in terms.items() if stem(word) in found}


def search(engine: SearchEngine, q: str, **options):
    return engine.search(SearchRequest(q=q, per_page=100, **options))


def ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


def found(engine: SearchEngine, q: str) -> set[str]:
    result = search(engine, q)
    assert result.total == len(result.hits)
    return set(ids(result))


# --- plain words ---


def test_articles_with_all_words_rank_before_those_with_most(engine, terms):
    words = ["heat", "pump", "grants"]
    all_words = set.intersection(*(having(terms, w) for w in words))
    any_word = set.union(*(having(terms, w) for w in words))
    assert 0 < len(all_words) < len(any_word)  # the demo has both kinds

    result = search(engine, " ".join(words))

    assert result.total == len(any_word)
    assert set(ids(result)[: len(all_words)]) == all_words
    assert set(ids(result)) == any_word


def test_two_of_three_words_rank_before_one(engine, terms):
    words = ["harbour", "dredging", "sanction"]
    count = {
        article_id: sum(stem(w) in found for w in words) for article_id, found in terms.items()
    }
    result = search(engine, " ".join(words))
    matched = [count[article_id] for article_id in ids(result)]
    assert matched == sorted(matched, reverse=True)
    assert matched[0] == 3 and matched[-1] == 1


def test_a_missing_word_does_not_empty_the_page(engine, terms):
    result = search(engine, "cocoa zqxjvnonexistent")
    assert result.total == len(having(terms, "cocoa")) > 0
    assert set(ids(result)) == having(terms, "cocoa")


def test_stems_match(engine, terms):
    assert found(engine, "sanctions") == found(engine, "sanction") == having(terms, "sanction")
    assert found(engine, "vaccinated") == having(terms, "vaccine")
    assert len(having(terms, "vaccine")) >= 2


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("ÁLVAREZ", "alvarez"),
        ("Álvarez", "ALVAREZ"),
        ("Séverin", "severin"),
        ("SOREN", "Søren"),
        ("conceicao", "Conceição"),
        ("krakow", "Kraków"),
        ("Radoslaw", "Radosław"),
    ],
)
def test_accents_and_case_never_matter(engine, typed, plain):
    assert found(engine, typed) == found(engine, plain) != set()


# --- phrases, exclusion, OR ---


def phrase_in(article, pattern: str) -> bool:
    return re.search(pattern, f"{article.title}\n{article.body}", re.IGNORECASE) is not None


def test_quoted_phrase_needs_the_words_together(engine, demo_articles, terms):
    expected = {i for i, a in demo_articles.items() if phrase_in(a, r"\bheat[\s-]+pumps?\b")}
    assert expected
    assert found(engine, '"heat pump"') == expected
    # Both words, not together: more articles than the phrase.
    both = having(terms, "heat") & having(terms, "pump")
    assert found(engine, '"pump heat"') < both or found(engine, '"pump heat"') == set()


def test_phrase_word_order_matters(engine, demo_articles):
    expected = {i for i, a in demo_articles.items() if phrase_in(a, r"\bwave\s+heat\b")}
    assert found(engine, '"wave heat"') == expected
    assert found(engine, '"heat wave"') != expected


def test_minus_excludes_a_word(engine, terms):
    expected = having(terms, "heat") - having(terms, "pump")
    assert expected
    assert found(engine, "heat -pump") == expected


def test_minus_excludes_a_phrase(engine, demo_articles, terms):
    with_phrase = {i for i, a in demo_articles.items() if phrase_in(a, r"\bheat[\s-]+pumps?\b")}
    assert found(engine, 'heat -"heat pump"') == having(terms, "heat") - with_phrase


def test_exclusion_alone_browses_everything_else(engine, terms, demo_articles):
    expected = set(demo_articles) - having(terms, "heat")
    result = search(engine, "-heat")
    assert set(ids(result)) == expected
    assert result.total == len(expected)
    dates = [hit.date for hit in result.hits]
    assert dates == sorted(dates, reverse=True)  # browsing: newest first


def test_or_between_two_words(engine, terms):
    expected = having(terms, "cocoa") | having(terms, "coffee")
    assert found(engine, "cocoa OR coffee") == expected
    assert found(engine, "cocoa coffee") == expected  # most-words also finds either


def test_or_narrows_with_other_words(engine, terms):
    either = having(terms, "cocoa") | having(terms, "coffee")
    with_price = either & having(terms, "price")
    result = search(engine, "cocoa OR coffee price")
    assert set(ids(result)[: len(with_price)]) == with_price


def test_lower_case_or_is_a_word(engine):
    # "or" is a stop word: "cocoa or coffee" is just "cocoa coffee".
    assert found(engine, "cocoa or coffee") == found(engine, "cocoa coffee")


# --- field prefixes ---


def test_title_prefix_searches_titles_only(engine, demo_articles):
    expected = {i for i, a in demo_articles.items() if stem("heat") in analysed(a.title)}
    assert found(engine, "title:heat") == expected
    assert found(engine, "title:Heat") == expected
    assert found(engine, "title:heat") < found(engine, "heat")


def test_title_phrase(engine, demo_articles):
    expected = {i for i, a in demo_articles.items() if re.search(r"heat pump", a.title, re.I)}
    assert found(engine, 'title:"heat pump"') == expected


def test_author_prefix(engine, demo_articles):
    by_nowak = {i for i, a in demo_articles.items() if "Radosław Nowak" in a.authors}
    assert len(by_nowak) >= 2
    assert found(engine, "author:nowak") == by_nowak
    assert found(engine, "author:radoslaw") == by_nowak
    assert found(engine, 'author:"Radosław Nowak"') == by_nowak
    # The name as a plain word also finds articles that mention it in the text.
    assert found(engine, "nowak") >= by_nowak


@pytest.mark.parametrize(
    ("typed", "field", "value"),
    [
        ("region:europe", "regions", "Europe"),
        ("REGION:Europe", "regions", "Europe"),
        ('region:"latin america & caribbean"', "regions", "Latin America & Caribbean"),
        ('region:"Middle East & North Africa"', "regions", "Middle East & North Africa"),
        ("theme:economy", "themes", "Economy"),
        ('theme:"climate and environment"', "themes", "Climate and Environment"),
    ],
)
def test_region_and_theme_prefixes(engine, demo_articles, typed, field, value):
    expected = {i for i, a in demo_articles.items() if value in getattr(a, field)}
    assert expected
    assert found(engine, typed) == expected


def test_region_prefix_with_words(engine, demo_articles, terms):
    in_europe = {i for i, a in demo_articles.items() if "Europe" in a.regions}
    assert found(engine, "region:europe heat") == in_europe & having(terms, "heat")
    assert found(engine, "heat -region:europe") == having(terms, "heat") - in_europe


def test_unknown_region_finds_nothing(engine):
    result = search(engine, "region:atlantis")
    assert (result.total, result.hits) == (0, ())


def test_unknown_prefix_is_plain_text(engine, terms):
    # Like "U.S.-Japan", words joined by punctuation must all match.
    expected = having(terms, "price") & having(terms, "cocoa")
    assert expected
    assert found(engine, "price:cocoa") == expected


# --- anything typed is a search, never an error ---


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ('"heat pump', "heat pump"),
        ('heat pump"', "heat pump"),
        ('"heat" "pump', "heat pump"),
        ("(heat pump", "heat pump"),
        ("heat pump)", "heat pump"),
        ("[heat {pump]", "heat pump"),
        ("heat -", "heat"),
        ("- heat", "heat"),
        ("heat OR", "heat"),
        ("OR heat", "heat"),
        ("heat AND pump", "heat pump"),
        ("title:", "title"),
        ("title: heat", "title heat"),
        ("region:", "region"),
        ("theme: trade", "theme trade"),
        ("heat*", "heat"),
        ("heat~2", "heat 2"),
        ("heat^3 pump", "heat 3 pump"),
        ("+heat +pump", "heat pump"),
    ],
)
def test_malformed_queries_are_plain_words(engine, typed, same_as):
    # Whole words: "heat" at the end of a query is otherwise still being typed, "heat*" not.
    result = search(engine, typed, prefix=False)
    assert ids(result) == ids(search(engine, same_as, prefix=False))


@pytest.mark.parametrize(
    "typed",
    ["-", '"', '""', "()", "OR", "-OR", "title:-", 'author:""', "*", "**", ":", "- - -", "the"],
)
def test_queries_without_words_browse(engine, demo_articles, typed):
    result = search(engine, typed)
    assert result.total == len(demo_articles)
    dates = [hit.date for hit in result.hits]
    assert dates == sorted(dates, reverse=True)


def test_five_thousand_characters_of_punctuation(engine, demo_articles):
    typed = ("!@#$%^&*()_+-=[]{}|;':\",./<>?`~\\" * 160)[:5000]
    result = search(engine, typed)
    assert result.total == len(demo_articles)


def test_five_thousand_characters_of_words_and_operators(engine):
    typed = ('heat -"pump OR (title: region:" ' * 200)[:5000]
    result = search(engine, typed)
    # No article holds the excluded phrase "pump or title region": every "heat" article is left.
    assert result.total == search(engine, "heat").total > 0


@settings(max_examples=150, deadline=None)
@given(typed=st.text(alphabet=st.sampled_from('ab heat-"():OR title region*~^é'), max_size=40))
def test_any_text_searches_without_error(engine, typed):
    result = engine.search(SearchRequest(q=typed))
    assert result.total >= len(result.hits)


def test_a_pasted_page_is_searched_on_its_first_part():
    builder = QueryBuilder(ANALYZER, lambda field, typed: [])
    numbered = [f"word{n}x" for n in range(MAX_CLAUSES + 40)]
    pasted = "It is about " + " and ".join(numbered) + "."
    parsed = builder.parse(pasted)
    assert parsed.truncated
    searched = pasted[: parsed.searched_characters]
    assert searched.endswith(numbered[MAX_CLAUSES - 1])  # stop words do not count
    assert len(parsed.words) == MAX_CLAUSES
    assert numbered[MAX_CLAUSES] not in " ".join(parsed.words)
    whole = builder.parse(searched)
    assert not whole.truncated and whole.searched_characters == len(searched)
    # Only stop words after the limit: nothing was left out.
    assert not builder.parse(searched + " and the of").truncated


def test_parse_reports_words_and_highlight_terms():
    builder = QueryBuilder(ANALYZER, lambda field, typed: [])
    parsed = builder.parse('Sanctions "heat pumps" -coal title:Harbour')
    assert parsed.words == ["Sanctions", "heat pumps"]
    assert parsed.terms == {"sanction", "heat", "pump", "harbour"}
    assert not parsed.is_browse
    assert builder.parse("").is_browse
    assert builder.parse("   ").is_browse
