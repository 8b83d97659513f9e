"""The word being typed read with the words before it, on real indexes.

Invented words keep the counts under the test's control: "varkon" is in more
articles than "varkite", but only "varkite" goes with "quelp"; "mabe" is a
word of many articles, rarely with "quelp", where "mabeline" often is.
Every article also holds the words of FILLER, so a filler word goes with every
completion alike.
"""

import json

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import SearchRequest

FILLER = "The council met on Tuesday to discuss the harbour budget."

ARTICLES = [
    *["varkon"] * 30,
    *["quelp varkite"] * 5,
    *["quelp"] * 3,
    *["mabe"] * 40,
    "quelp mabe",
    *["quelp mabeline"] * 6,
    *["harbour zorb"] * 3,
    *["zorbax"] * 20,
]


def _lines(texts: list[str], first: int = 1) -> str:
    articles = (
        {"id": f"c{number:03d}", "title": f"Report {number}", "body": f"{FILLER} {text}"}
        for number, text in enumerate(texts, first)
    )
    return "".join(json.dumps(article) + "\n" for article in articles)


def _index(folder, texts: list[str]):
    corpus = folder / "articles.jsonl"
    corpus.write_text(_lines(texts), encoding="utf-8")
    report = index_paths(folder / "index", [corpus])
    assert not report.problems
    return corpus


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("typing-context")
    _index(folder, ARTICLES)
    return SearchEngine(folder / "index", vocabulary_seconds=None)


def _bodies(engine: SearchEngine, q: str, count: int) -> list[str]:
    result = engine.search(SearchRequest(q=q, per_page=count))
    return [engine.article(hit.id).body.removeprefix(FILLER + " ") for hit in result.hits]


def test_the_word_being_typed_is_read_with_the_words_before_it(engine):
    alone = engine.search(SearchRequest(q="vark"))
    assert alone.completions["vark"][:2] == ("varkon", "varkite")  # the more frequent first
    after = engine.search(SearchRequest(q="quelp vark"))
    assert after.completions["vark"][:2] == ("varkite", "varkon")  # the one going with quelp
    assert _bodies(engine, "quelp vark", 5) == ["quelp varkite"] * 5
    # The completions under the box read it the same way.
    assert [s.text for s in engine.suggest("quelp vark")][:1] == ["quelp varkite"]


def test_a_typed_word_that_goes_with_the_words_before_is_read_as_itself(engine):
    # "zorb" is a word: with "harbour" (in every article) it stays the word typed.
    assert _bodies(engine, "harbour zorb", 3) == ["harbour zorb"] * 3
    assert "zorb" not in engine.search(SearchRequest(q="harbour zorb")).completions.get("zorb", ())


def test_a_typed_word_far_rarer_with_the_words_before_than_a_completion_is_its_start(engine):
    # Alone, "mabe" is its own 40 articles; after "quelp", "mabeline" (6 with quelp, against 1).
    assert set(_bodies(engine, "mabe", 41)) == {"mabe", "quelp mabe"}
    assert _bodies(engine, "quelp mabe", 6) == ["quelp mabeline"] * 6


def test_words_before_that_go_with_every_completion_change_nothing(engine):
    """Where the words before do not tell the completions apart, the reading is the word's
    alone: the same completions, weighed the same, so the same query and answers."""
    expander = engine._current.expander
    council = tuple(t.text for t in engine._current.builder.analyzer("council"))
    for word in ("vark", "mabe", "zorb"):
        (term,) = [t.text for t in engine._current.builder.analyzer(word)] or [None]
        in_context = expander.expand(word, term, typing=True, typos=True, context=council)
        assert in_context == expander.expand(word, term, typing=True, typos=True)
    assert _bodies(engine, "council vark", 35) == _bodies(engine, "vark", 35)


def test_a_new_generation_reads_the_word_with_its_own_counts(tmp_path):
    """What is kept between keystrokes (the words before, the readings) belongs to one
    generation: an import that makes another completion go with the words before
    changes the next search's reading."""
    corpus = _index(tmp_path, ARTICLES)
    engine = SearchEngine(tmp_path / "index", refresh_seconds=0, vocabulary_seconds=None)
    assert engine.search(SearchRequest(q="quelp vark")).completions["vark"][0] == "varkite"
    more = tmp_path / "more.jsonl"
    more.write_text(_lines(["quelp varkon"] * 10, first=len(ARTICLES) + 1), encoding="utf-8")
    index_paths(tmp_path / "index", [corpus, more])
    after = engine.search(SearchRequest(q="quelp vark"))
    assert after.completions["vark"][0] == "varkon"
    assert [s.text for s in engine.suggest("quelp vark")][:1] == ["quelp varkon"]
