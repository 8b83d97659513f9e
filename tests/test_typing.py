"""The word being typed and misspelt words, on a real index of articles written to show the order.

Invented words keep the vocabulary under the test's control: "zorb" is a word
of two articles and the start of "zorbax" (three); "quaxler" is in many
articles, and one article misspells it "quaxlre".
"""

import itertools
import json
import threading
import time

import pytest

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import SearchRequest
from search.vocabulary import (
    MAX_TYPO_LETTERS,
    MIN_TYPO_INDEX_LETTERS,
    TWO_TYPOS_LETTERS,
    Vocabulary,
    _code_points,
    _hashes,
    edit_distance,
)

FILLER = "The council met on Tuesday to discuss the harbour budget and the new ferry timetable."


def _article(number: int, words: str) -> dict:
    return {
        "id": f"a{number:03d}",
        "title": f"Report {number}",
        "body": f"{FILLER} {words}",
        "date": f"2024-01-{number % 28 + 1:02d}",
        "authors": [],
        "regions": [],
        "themes": [],
        "reports": [],
        "url": None,
        "source": None,
    }


ARTICLES = {
    "exact": ["zorb", "zorb harbour"],
    "completion": ["zorbax", "zorbax ferry", "zorbax council"],
    "misspelt": ["quaxlre"],
    "corrected": ["quaxler"] * 120,
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("typing")
    lines, number = [], 0
    for words in ARTICLES.values():
        for text in words:
            number += 1
            lines.append(json.dumps(_article(number, text)))
    corpus = folder / "articles.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = index_paths(folder / "index", [corpus])
    assert not report.problems
    return SearchEngine(folder / "index")


def ranked(engine: SearchEngine, q: str, **options) -> list[str]:
    """Every result's id in order, page by page."""
    found, page = [], 1
    while True:
        result = engine.search(SearchRequest(q=q, per_page=100, page=page, **options))
        found += [hit.id for hit in result.hits]
        if len(found) >= result.total:
            return found
        page += 1


def ids_holding(engine: SearchEngine, word: str) -> set[str]:
    return set(ranked(engine, word + " ", typos=False))


def test_the_word_as_typed_ranks_above_its_completions(engine):
    exact, completed = ids_holding(engine, "zorb"), ids_holding(engine, "zorbax")
    assert len(exact) == 2 and len(completed) == 3
    order = ranked(engine, "zorb")
    assert set(order[:2]) == exact and set(order[2:]) == completed
    assert ranked(engine, "zorb ") == sorted(exact, key=order.index)  # finished: whole word


def test_the_word_as_typed_ranks_above_its_corrections(engine):
    misspelt, corrected = ids_holding(engine, "quaxlre"), ids_holding(engine, "quaxler")
    assert len(misspelt) == 1 and len(corrected) == 120
    order = ranked(engine, "quaxlre ")
    assert order[0] in misspelt and set(order[1:]) <= corrected
    result = engine.search(SearchRequest(q="quaxlre "))
    assert result.total == 121 and result.corrections == {"quaxlre": ("quaxler",)}
    assert result.showing_results_for is None  # the word as typed has an article of its own


def test_a_completion_ranks_above_a_correction(engine):
    order = ranked(engine, "quaxlre zorb")
    completed, corrected = ids_holding(engine, "zorbax"), ids_holding(engine, "quaxler")
    last_completed = max(order.index(i) for i in completed)
    assert all(order.index(i) > last_completed for i in corrected)


def test_a_word_as_frequent_as_its_corrections_is_not_corrected(engine):
    result = engine.search(SearchRequest(q="quaxler "))
    assert result.corrections == {} and result.total == 120


def test_before_its_vocabulary_is_built_a_search_answers_without_expansions(engine, monkeypatch):
    """A worker's first searches wait a moment for the vocabulary, then do without it."""
    gate = threading.Event()
    build = Vocabulary.from_reader.__func__

    def held_back(cls, reader, analyzer):
        gate.wait(60)
        return build(cls, reader, analyzer)

    monkeypatch.setattr(Vocabulary, "from_reader", classmethod(held_back))
    fresh = SearchEngine(engine.index_dir, vocabulary_seconds=0.1)
    try:
        began = time.perf_counter()
        typed = fresh.search(SearchRequest(q="zorb"))
        misspelt = fresh.search(SearchRequest(q="quaxlre "))
        assert fresh.suggest("zor") == []
        assert time.perf_counter() - began < 10
    finally:
        gate.set()
    # The letters typed as a whole word, the misspelt word as written.
    assert {hit.id for hit in typed.hits} == ids_holding(engine, "zorb")
    assert typed.completions == {} and misspelt.total == 1 and misspelt.corrections == {}
    fresh.vocabulary_seconds = None  # now as long as the build takes
    assert ranked(fresh, "zorb") == ranked(engine, "zorb")
    assert fresh.search(SearchRequest(q="quaxlre ")).corrections == {"quaxlre": ("quaxler",)}
    assert [s.text for s in fresh.suggest("zor")] == [s.text for s in engine.suggest("zor")]


def test_prefix_and_typos_can_be_turned_off(engine):
    assert ranked(engine, "zorb") != ranked(engine, "zorb ")
    whole = engine.search(SearchRequest(q="zorb", prefix=False))
    assert {hit.id for hit in whole.hits} == ids_holding(engine, "zorb")
    as_typed = engine.search(SearchRequest(q="quaxlre ", typos=False))
    assert as_typed.total == 1 and as_typed.corrections == {}


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [("cocao", "cocoa", 1), ("climte", "climate", 1), ("ukriane", "ukraine", 1), ("ab", "ba", 1)],
)
def test_a_swap_of_neighbouring_letters_is_one_edit(a, b, edits):
    assert edit_distance(a, b) == edits


def test_the_deletion_index_finds_what_a_scan_of_the_words_finds():
    words = ["climate", "climates", "clement", "client", "culminate", "government", "governments"]
    words += ["governor", "ukraine", "ukrainian", "harbour", "harbours", "arbour"]
    vocabulary = Vocabulary(words, words, [10] * len(words))
    for typed in ["climte", "goverment", "govenrments", "ukriane", "harbuor", "arbor", "xyzzy"]:
        allowed = 2 if len(typed) >= 9 else 1
        scanned = {w for w in words if w != typed and edit_distance(typed, w) <= allowed}
        nearest = min((edit_distance(typed, w) for w in scanned), default=None)
        expected = {w for w in scanned if edit_distance(typed, w) == nearest}
        assert {a.word for a in vocabulary.corrections(typed)} == expected, typed


def test_the_deletion_index_holds_the_hash_of_every_variant():
    """Variants' hashes come from the word's prefix sums: the same as hashing their letters."""
    words = ["oil", "crude", "barrels", "ukrainian", "séjourné", "straße", "aab", "abab"]
    words += ["x" * 24, "internationalisation", "ab", "x" * 25, "3rd"]
    vocabulary = Vocabulary(words, words, [1] * len(words))
    expected = set()
    for number, word in enumerate(vocabulary.words):
        if not (word.isalpha() and MIN_TYPO_INDEX_LETTERS <= len(word) <= MAX_TYPO_LETTERS):
            continue
        out = 2 if len(word) >= TWO_TYPOS_LETTERS - 2 else 1
        variants = {word} | {
            "".join(kept)
            for count in range(1, out + 1)
            for kept in itertools.combinations(word, len(word) - count)
        }
        expected |= {(h, number) for h in _hashes(_code_points(sorted(variants))).tolist()}
    found = set(zip(vocabulary._hashes.tolist(), vocabulary._owners.tolist(), strict=True))
    assert found == expected


def test_completions_are_the_most_frequent_words_with_the_prefix():
    words = ["price", "prices", "prior", "private", "prime", "print", "prawn"]
    terms = ["price", "price", "prior", "privat", "prime", "print", "prawn"]
    vocabulary = Vocabulary(words, terms, [50, 50, 9, 30, 1, 20, 99])
    found = vocabulary.completions("pri", 3)
    assert [(a.word, a.frequency) for a in found] == [("price", 50), ("private", 30), ("print", 20)]
    assert vocabulary.completions("zz", 3) == []


def test_a_word_imported_after_a_search_is_known_to_the_next_search(tmp_path):
    """Word frequencies are remembered per generation: a word unknown to one search
    ("did you mean" looked for it) is known once an import brings it."""
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text(json.dumps(_article(1, "harbour dues")) + "\n", encoding="utf-8")
    index_paths(tmp_path / "index", [corpus])
    engine = SearchEngine(tmp_path / "index", refresh_seconds=0)
    engine.search(SearchRequest(q="harbour tarn", typos=False))
    assert not engine._current.corrector.known("tarn")

    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps(_article(2, "harbour tarn")) + "\n", encoding="utf-8")
    index_paths(tmp_path / "index", [corpus, more])
    after = engine.search(SearchRequest(q="harbour tarn", typos=False))
    assert after.hits[0].id == "a002"
    assert after.suggestion is None
    assert engine._current.corrector.known("tarn")
