"""How likely each reading of the word being typed is, on a real index written to show it.

Invented words keep the counts under the test's control: "zaphod" is in the
bodies of 30 articles and no title; "zaplin" in the bodies of 10, each titled
with it. Readers search for topics, and an article's topic is in its title.
"quon" is a word of 15 articles and the start of "quonset", in 200; a thousand
more articles hold neither.
"""

import json

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import SearchRequest
from search.vocabulary import likelihood

FILLER = "The council met on Tuesday to discuss the harbour budget."

ARTICLES = [
    *[("Council notes", "zaphod")] * 30,
    *[("Zaplin talks", "zaplin")] * 10,
    *[("Council notes", "quon")] * 15,
    *[("Council notes", "quonset")] * 200,
    *[("Council notes", "")] * 1000,
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("typing-likelihood")
    corpus = folder / "articles.jsonl"
    lines = (
        json.dumps({"id": f"l{number:03d}", "title": title, "body": f"{FILLER} {words}"})
        for number, (title, words) in enumerate(ARTICLES, 1)
    )
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = index_paths(folder / "index", [corpus])
    assert not report.problems
    return SearchEngine(folder / "index", vocabulary_seconds=None)


def _bodies(engine: SearchEngine, q: str, count: int) -> list[str]:
    result = engine.search(SearchRequest(q=q, per_page=count))
    return [engine.article(hit.id).body.removeprefix(FILLER + " ") for hit in result.hits]


def test_a_completion_in_titles_is_likelier_than_one_in_more_bodies(engine):
    # zaplin: sqrt(10 * 11) = 10.5; zaphod: sqrt(30 * 1) = 5.5.
    assert likelihood(10, 10) > likelihood(30, 0)
    result = engine.search(SearchRequest(q="zap"))
    assert result.completions["zap"] == ("zaplin", "zaphod")
    assert _bodies(engine, "zap", 10) == ["zaplin"] * 10


def test_the_completions_under_the_box_still_count_articles(engine):
    # The box shows how many articles a completion leads to, the most first.
    assert [s.text for s in engine.suggest("zap")][:2] == ["zaphod", "zaplin"]


def test_after_other_words_a_completion_in_titles_is_likelier_too(engine):
    # "harbour" is in every article: the articles with it are each word's own.
    assert engine.search(SearchRequest(q="harbour zap")).completions["zap"][0] == "zaplin"


def test_a_word_far_less_likely_than_a_word_it_begins_is_read_as_its_start(engine):
    """More than three times less likely (sqrt(15) against sqrt(200)): the reader typing
    "quon" is likelier on the way to "quonset"; the word's own articles are still found."""
    result = engine.search(SearchRequest(q="quon"))
    assert result.completions["quon"] == ("quonset", "quon")
    assert result.total == 215
    assert _bodies(engine, "quon", 10) == ["quonset"] * 10
    assert _bodies(engine, "quon ", 10) == ["quon"] * 10  # finished: the word itself
