"""The fast paths give exactly what the plain Whoosh paths give, on real indexes.

- FastAnalyzer: the tokens of the Whoosh chain it wraps (every option), its
  index terms and spelling words, its highlighting spans.
- The indexer's TextPostings, ArticleSegmentWriter and ArticleCodec, in one
  process and in two, with awkward texts, and with new and merged documents
  in one segment: the same terms, postings, positions, term and block
  statistics, stored fields, lengths and spelling words as Whoosh's TEXT,
  SegmentWriter and W3 codec.
- ArrayMatcher: Whoosh's match set (docs_for_query) and Whoosh's scores and
  order when it scores every match (searcher.search(limit=None)).
- The engine: hits, totals and both facets' counts equal to a plain
  reference built from Whoosh searches and stored fields (and to Whoosh's
  groupedby counts), with selections, dates and sorts.
- bench/bench.py runs end to end on a tiny corpus.

Real articles: the first Reuters stories (../shared; the tests that need them are
skipped, saying so, without it). Timing belongs to the benchmark, not here.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from whoosh import fields, index, sorting, writing
from whoosh import query as wq

from index import text_postings
from index.formats.jsonl import read_jsonl
from index.indexer import index_paths
from index.segment_writer import ArticleSegmentWriter
from index.sources import file_stamp
from search.analysis import FastAnalyzer, fast_analyzer
from search.article import Article
from search.engine import SearchEngine, _OpenedGeneration
from search.facets import KNOWN_FACETS, ValueSets, configured_facets
from search.feedback import feedback_terms, with_feedback
from search.highlight import mark_all, snippet
from search.matching import ArrayMatcher, PendingMatches
from search.matching.matcher import word_tiers
from search.matching.results import add_at
from search.ranking import COMPLETION_TIER, COORDINATION_BONUS, FEEDBACK_DOCS, weighting
from search.results import SearchRequest
from search.schema import VALUE_FIELDS, article_document, build_schema, english_analyzer
from search.storage.docsets import DocSet
from search.storage.index_folder import IndexFolder
from search.vocabulary import Vocabulary
from search.whoosh_internals import (
    ArticleCodec,
    FrequentPostings,
    TermsLookup,
    field_doc_frequencies,
    field_documents,
    field_terms,
    posting_arrays,
    posting_values,
    terms_table,
    version,
)
from search.whoosh_internals import frequent as frequent_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 800

QUERIES = [
    "oil",
    "oil prices",
    "interest rates",
    '"interest rates"',
    '"crude oil" prices',
    "oil -opec",
    "shares -dividend -split",
    "gold OR silver",
    "wheat OR corn exports",
    "title:dividend",
    "title:profit oil",
    "theme:crude prices",
    "region:usa trade",
    '-"net loss" profit',
    "the company said its board approved a two for one stock split and raised the dividend",
    "U.S.-Japan trade",
    "cocoa buffer stock",
    "author:smith",
    "said",
    "zzqqxx",
    "herring quota",
    '"low water" barges',
]

FACET_FIELDS = {name: KNOWN_FACETS[name].field for name in ("region", "theme")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, reuters_dir) -> Path:
    """A JSON Lines file of real articles: Reuters' first stories (the demo archive's 40
    are too few: several checks need segments with common terms and many matches)."""
    path = tmp_path_factory.mktemp("perf-corpus") / "articles.jsonl"
    source = reuters_dir / "articles.jsonl"
    with source.open(encoding="utf-8") as lines, path.open("w", encoding="utf-8") as out:
        for _, line in zip(range(ARTICLES), lines, strict=False):
            out.write(line)
    return path


@pytest.fixture(scope="module")
def articles(corpus) -> list[Article]:
    return [a for a in read_jsonl(corpus) if isinstance(a, Article)]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, corpus) -> Path:
    """The corpus indexed by the real indexer, one process: one segment."""
    folder = tmp_path_factory.mktemp("perf-index")
    report = index_paths(folder, [corpus], procs=1)
    assert not report.problems
    return folder


def untimed_engine(index_dir: Path) -> SearchEngine:
    """An engine whose time limits a loaded machine cannot reach: these tests compare
    answers, and a search or facet count cut short answers differently."""
    # By words only: what is compared here is the word ranking (meaning: test_hybrid).
    return SearchEngine(index_dir, facet_seconds=None, search_seconds=None, semantic=False)


@pytest.fixture(scope="module")
def generation(index_dir):
    gen = _OpenedGeneration.open(IndexFolder(index_dir), configured_facets(""))
    yield gen
    gen.searcher.close()


# --- the analyzer ------------------------------------------------------------------------

TRICKY = [
    "Séjourné a ÉTÉ à İstanbul; ΣΊΣΥΦΟΣ straße ǅemal naïve",
    "U.S.-Japan trade 3.5% vs. 4.25 pct; the THE The a*b heat* ** 1987",
    "",
    "the of and to",
    "Ⅻ ﬁne ǈ ÆON œuvre Ωmega",
    "x" * 3 + " y " + "long" * 30,
]


def _tokens(analyzer, text: str, **options) -> list[tuple]:
    return [
        (
            t.text,
            getattr(t, "pos", None),
            getattr(t, "startchar", None),
            getattr(t, "endchar", None),
            t.stopped,
            getattr(t, "original", None),
        )
        for t in analyzer(text, **options)
    ]


def test_fast_analyzer_gives_the_chains_tokens(articles):
    fast = english_analyzer()
    assert isinstance(fast, FastAnalyzer) and fast.fast
    chain = fast.chain
    texts = TRICKY + [a.body for a in articles[:300]] + [a.title for a in articles[:300]]
    options = [
        {},
        {"positions": True},
        {"positions": True, "chars": True, "mode": "index"},
        {"no_morph": True},
        {"no_morph": True, "removestops": False},
        {"positions": True, "chars": True, "removestops": False, "keeporiginal": True},
        {"positions": True, "start_pos": 3, "chars": True, "start_char": 7},
        {"tokenize": False},
    ]
    for text in texts:
        for option in options:
            assert _tokens(fast, text, **option) == _tokens(chain, text, **option), (text, option)


def test_index_terms_and_spans_match_the_chain(articles):
    fast = english_analyzer()
    chain = fast.chain
    for text in TRICKY + [a.body for a in articles[:300]]:
        positions: dict[str, list[int]] = {}
        for token in chain(text, positions=True, mode="index"):
            positions.setdefault(token.text, []).append(token.pos)
        terms, words = fast.index_terms(text)
        assert terms == positions
        assert words == {t.text for t in chain(text, no_morph=True)}
        spans = [(t.startchar, t.endchar, t.text) for t in chain(text, chars=True, mode="index")]
        assert fast.spans(text) == spans
        wanted = {"oil", "price", "said", "trade", "sejourn"}
        assert fast.spans(text, wanted) == [s for s in spans if s[2] in wanted]


def test_snippets_and_titles_equal_with_the_chain(articles):
    fast = english_analyzer()
    terms = {"oil", "price", "compani", "share", "trade", "rate"}
    for article in articles[:200]:
        assert snippet(article.body, terms, fast) == snippet(article.body, terms, fast.chain)
        assert mark_all(article.title, terms, fast) == mark_all(article.title, terms, fast.chain)


# --- the index -----------------------------------------------------------------------------


def _plain_schema() -> fields.Schema:
    """build_schema() with Whoosh's own TEXT fields and the bare analyzer chain, and
    Whoosh's own IDLIST for the keyword fields."""
    schema = build_schema()
    chain = english_analyzer().chain
    plain = fields.Schema()
    for name, field in schema.items():
        if name.startswith("spell_"):
            continue
        if name in ("title", "body", "author_text"):
            field = fields.TEXT(
                analyzer=chain, stored=field.stored, phrase=True, spelling=field.spelling
            )
        if name in VALUE_FIELDS:
            field = fields.IDLIST(stored=True, expression=field.analyzer.expression)
        plain.add(name, field)
    return plain


def _contents(folder: Path, *, live: bool) -> dict:
    ix = (
        index.open_dir(IndexFolder(folder).live_build(), indexname="articles")
        if live
        else index.open_dir(folder)
    )
    contents: dict = {"postings": {}, "stats": {}, "stored": [], "lengths": []}
    with ix.reader() as reader:
        for field, text in reader.all_terms():
            if field.startswith("spell_"):
                contents.setdefault("spelling", set()).add(text)
                continue
            matcher = reader.postings(field, text)
            items, blocks = [], []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value()))
                if reader.is_atomic():  # block statistics belong to one segment
                    block = (matcher.block_min_length(), matcher.block_max_length())
                    blocks.append(block + (matcher.block_max_weight(),))
                matcher.next()
            contents["postings"][(field, text)] = items
            info = reader.term_info(field, text)
            contents["stats"][(field, text)] = (
                (info.weight(), info.doc_frequency(), info.min_length(), info.max_length()),
                (info.max_weight(), info.min_id(), info.max_id()),
                blocks,
            )
        for docnum in range(reader.doc_count_all()):
            contents["stored"].append(reader.stored_fields(docnum))
            contents["lengths"].append(
                [reader.doc_field_length(docnum, f) for f in ("title", "body", "author_text")]
            )
    return contents


def _plain_contents(folder: Path, corpus: Path, stored_order: list[dict]) -> dict:
    """The corpus written by Whoosh's own writer, schema and codec, in ``stored_order``."""
    folder.mkdir()
    ix = index.create_in(folder, _plain_schema())
    writer = ix.writer()
    stamp = file_stamp(corpus)  # what the indexer records for every article of the file
    by_id = {a.id: a for a in read_jsonl(corpus)}
    for stored in stored_order:  # the indexer's order (it holds a file's first back)
        writer.add_document(**article_document(by_id[stored["id"]], stamp))
    writer.commit()
    return _contents(folder, live=False)


@pytest.fixture(scope="module")
def plain_contents(tmp_path_factory, corpus):
    """``_plain_contents`` of the corpus, written once per order of its articles: several
    tests compare their indexes with the same plain one."""
    written: dict[tuple[str, ...], dict] = {}

    def contents(stored_order: list[dict]) -> dict:
        order = tuple(stored["id"] for stored in stored_order)
        if order not in written:
            folder = tmp_path_factory.mktemp("plain") / "index"
            written[order] = _plain_contents(folder, corpus, stored_order)
        return written[order]

    return contents


def _assert_same_contents(ours: dict, plain: dict, *, statistics: bool = True) -> None:
    """Postings, stored fields, lengths, spelling words and (within one segment) term
    and block statistics: BM25's bounds, Whoosh's block skipping."""
    assert ours["postings"].keys() == plain["postings"].keys()
    assert ours["postings"] == plain["postings"]
    if statistics:
        assert ours["stats"] == plain["stats"]
    assert ours["stored"] == plain["stored"]
    assert ours["lengths"] == plain["lengths"]
    assert ours["spelling"] == plain["spelling"]


def test_index_equals_one_written_by_plain_whoosh(index_dir, plain_contents):
    ours = _contents(index_dir, live=True)
    _assert_same_contents(ours, plain_contents(ours["stored"]))


def test_segments_merged_hold_what_plain_whoosh_writes(tmp_path, corpus, plain_contents):
    """Whoosh's merge (an incremental run's, here an optimize) reads our segments'
    postings back through its pool: spelling words and all."""
    index_paths(tmp_path / "merged", [corpus], procs=2)
    ix = index.open_dir(IndexFolder(tmp_path / "merged").live_build(), indexname="articles")
    ArticleSegmentWriter(ix, codec=ArticleCodec()).commit(optimize=True)
    assert len(ix.reader().leaf_readers()) == 1
    ours = _contents(tmp_path / "merged", live=True)
    _assert_same_contents(ours, plain_contents(ours["stored"]))


def test_two_process_build_holds_what_plain_whoosh_writes(tmp_path, corpus, plain_contents):
    """Two indexing processes, one segment each: the same postings, documents and words."""
    report = index_paths(tmp_path / "two", [corpus], procs=2)
    assert not report.problems
    ours = _contents(tmp_path / "two", live=True)
    ix = index.open_dir(IndexFolder(tmp_path / "two").live_build(), indexname="articles")
    assert len(ix.reader().leaf_readers()) == 2
    plain = plain_contents(ours["stored"])
    _assert_same_contents(ours, plain, statistics=False)  # statistics are per segment


def test_awkward_texts_index_as_plain_whoosh(tmp_path, articles, monkeypatch):
    """Texts that start with or are only stop words, accents, one-letter words, empty
    author fields, postings cut into many small batches, single positions past the
    table of their encodings: the streamed postings, lengths and spelling words are
    TEXT's."""
    monkeypatch.setattr(text_postings, "BATCH_POSTINGS", 7)
    monkeypatch.setattr(text_postings, "ONE_POSITION_TABLE", 5)
    awkward = [
        Article(id=f"awkward-{n}", title=f"{text} title", body=f"{text} {other}", authors=(text,))
        for n, (text, other) in enumerate(zip(TRICKY, reversed(TRICKY), strict=True))
    ]
    corpus = tmp_path / "awkward.jsonl"
    corpus.write_text(
        "".join(json.dumps(a.to_json()) + "\n" for a in [*awkward, *articles[:50]]),
        encoding="utf-8",
    )
    assert not index_paths(tmp_path / "ours", [corpus], procs=1).problems
    ours = _contents(tmp_path / "ours", live=True)
    _assert_same_contents(ours, _plain_contents(tmp_path / "plain", corpus, ours["stored"]))


@pytest.mark.parametrize("merged_first", [False, True], ids=["added-then-merged", "merged-first"])
def test_added_and_merged_documents_in_one_segment(tmp_path, corpus, plain_contents, merged_first):
    """One commit that writes new documents and merges an older segment (as an
    incremental run's merge does), in either order: the terms both hold are joined
    in docnum order."""
    stamp = file_stamp(corpus)
    documents = [article_document(a, stamp) for a in read_jsonl(corpus)]
    half = len(documents) // 2
    folder = tmp_path / "ours"
    folder.mkdir()
    ix = index.create_in(folder, build_schema())
    writer = ArticleSegmentWriter(ix, codec=ArticleCodec())
    for document in documents[:half]:
        writer.add_document(**document)
    writer.commit()
    writer = ArticleSegmentWriter(ix, codec=ArticleCodec())
    if merged_first:
        with ix.reader() as reader:
            writer.add_reader(reader)
    for document in documents[half:]:
        writer.add_document(**document)
    if merged_first:
        writer.commit(mergetype=writing.CLEAR)
    else:
        writer.commit(optimize=True)
    assert len(ix.reader().leaf_readers()) == 1
    ours = _contents(folder, live=False)
    _assert_same_contents(ours, plain_contents(ours["stored"]))


# --- the matcher ---------------------------------------------------------------------------


def _assert_same_ranking(mine: tuple[np.ndarray, np.ndarray], whoosh: list[tuple[int, float]]):
    """Same documents in the same order; where scores tie to 1e-9 the order may differ."""
    docnums, scores = mine
    assert len(docnums) == len(whoosh)
    assert np.allclose(scores, [s for _, s in whoosh], rtol=1e-9, atol=0)
    for position, (docnum, score) in enumerate(whoosh):
        if docnums[position] != docnum:
            assert np.isclose(scores[position], score, rtol=1e-9, atol=0)


def test_array_matcher_equals_whoosh(generation):
    searcher, matcher = generation.searcher, generation.matcher
    checked = 0
    for text in QUERIES:
        # Whole words, no corrections: the tiers of completions and corrections use AndNot
        # inside ConstantScoreQuery, where Whoosh's AndNotMatcher keeps a negated first
        # document when the negative side starts before it (its _find_first); the array
        # matcher excludes it, as test_stand_in_tiers_exclude_the_word_as_typed checks.
        parsed = generation.builder.parse(text, prefix=False, typos=False)
        if isinstance(parsed.query, wq.Every):
            continue
        found = matcher.evaluate(parsed.query)
        assert found.docnums.tolist() == sorted(searcher.docs_for_query(parsed.query)), text
        everything = searcher.search(parsed.query, limit=None)
        whoosh = [(hit.docnum, hit.score) for hit in everything]
        _assert_same_ranking(found.top(len(found)), whoosh)
        checked += len(found) > 0
    assert checked >= 3


@pytest.mark.parametrize("slop", [1, 2, 3])
def test_phrases_of_words_near_each_other_match_as_whoosh(generation, articles, slop):
    """Two-word phrases (every proximity bonus) and three-word ones, at each slop, in
    order and reversed: the same documents as Whoosh's own phrase matcher."""
    searcher, matcher = generation.searcher, generation.matcher
    analyzer = searcher.schema["body"].analyzer
    words = [token.text for token in analyzer(" ".join(a.body for a in articles[:3]))]
    phrases = [words[i : i + 2] for i in range(0, 60, 3)] + [
        words[i : i + 3] for i in range(0, 30, 5)
    ]
    phrases += [[words[i], words[i + 2]] for i in range(0, 40, 4)]  # a word between
    matched = 0
    for phrase in phrases + [list(reversed(p)) for p in phrases]:
        query = wq.Phrase("body", phrase, slop=slop)
        expected = sorted(searcher.docs_for_query(query))
        assert matcher.evaluate(query).docnums.tolist() == expected, (phrase, slop)
        matched += bool(expected)
    assert matched >= 20


def _unshared(query: wq.Query) -> wq.Query:
    """``query`` rebuilt with no part object in two places (every part evaluated afresh)."""
    return query.apply(_unshared) if query.children() else copy.copy(query)


TYPED = ["oil pri", "inte", "pric", "hostile take", "wheat exp", "the company sai", "herring quo"]
# Typed so far, a word of the index that begins others: the word's tiers (WordTiers).
TYPED_WORDS = ["wheat export", "bank", "oil price", "trade"]
# Whole words mistyped: read with their corrections, stand-ins as completions are.
MISTYPED = ["oil prcies ", "whaet exports ", "hostile takeovre "]


def _parts(query: wq.Query):
    yield query
    for child in query.children():
        yield from _parts(child)


def test_keystroke_states_answer_as_without_shared_parts(several_segments):
    """A word being typed is in its query several times (the word, its completions, those
    without the word); each evaluated once, and the sums of an Or whose parts hold the same
    documents, give the answer every part evaluated afresh gives: the same matches, the same
    scores to the bit, the same top 10. Several segments and deletions: one scorer a term.
    A word with stand-ins (completions or corrections) and its tiers is summed over its
    documents (WordTiers), not part by part: the same to the bit too."""
    gen = _OpenedGeneration.open(IndexFolder(several_segments), configured_facets(""))
    completed = corrected = tiered = 0
    for text in TYPED + TYPED_WORDS + MISTYPED:
        parsed = gen.builder.parse(text)
        completed += bool(parsed.completions)
        corrected += bool(parsed.corrections)
        tiered += any(type(q) is wq.Or and word_tiers(q) for q in _parts(parsed.query))
        found = gen.matcher.evaluate(parsed.query)
        afresh = ArrayMatcher(gen.searcher)
        afresh.shared_parts = False
        plain = afresh.evaluate(_unshared(parsed.query))
        assert found.docnums.tolist() == plain.docnums.tolist(), text
        assert found.scores.tolist() == plain.scores.tolist(), text
        assert [a.tolist() for a in found.top(10)] == [a.tolist() for a in plain.top(10)], text
    assert completed >= 9 and corrected >= 2 and tiered >= 3
    gen.searcher.close()


def test_a_small_match_cache_keeps_within_its_bytes_and_answers_the_same(generation):
    """Match lists larger than the whole cache are not kept; the rest are evicted by age."""
    small = ArrayMatcher(generation.searcher, cache_bytes=4096)
    for text in QUERIES:
        query = generation.builder.parse(text).query
        found, expected = small.evaluate(query), generation.matcher.evaluate(query)
        assert found.docnums.tolist() == expected.docnums.tolist(), text
        assert found.scores.tolist() == expected.scores.tolist(), text
        assert small._cache.nbytes <= 4096


def test_stand_in_tiers_exclude_the_word_as_typed(generation):
    """An article with the word as typed gets no completion bonus on top (AndNot in the tier)."""
    searcher, matcher = generation.searcher, generation.matcher
    word = next(
        w for w in ("oil", "said", "heat", "price") if generation.builder.parse(w).completions
    )
    parsed = generation.builder.parse(word)  # it begins other words of the index
    found = matcher.evaluate(parsed.query)
    exact = set(searcher.docs_for_query(generation.builder.parse(word + " ").query))
    completed_only = set(found.docnums.tolist()) - exact
    assert exact and completed_only
    for docnum, score in zip(found.docnums.tolist(), found.scores.tolist(), strict=True):
        bonus = COORDINATION_BONUS if docnum in exact else COORDINATION_BONUS * COMPLETION_TIER
        assert bonus <= score < bonus + COORDINATION_BONUS * COMPLETION_TIER


def test_lazy_proximity_phrases_give_the_eager_answer(generation):
    """PendingMatches (phrases looked for only near the top) against checking them all."""
    searcher = generation.searcher
    lazy, eager = ArrayMatcher(searcher), ArrayMatcher(searcher)
    eager.lazy_phrases = False
    size = searcher.reader().doc_count_all()
    some = np.zeros(size, dtype=bool)
    some[::3] = True
    texts = ["oil prices", "interest rates", "stock market", "the company said it would buy"]
    texts += ["trade deficit -japan", "bank lending rates", "herring quota"]
    pending = 0
    for text in texts:
        query = generation.builder.parse(text).query
        variants = [query, wq.AndMaybe(query, wq.Or([wq.Term("body", "year", boost=0.4)]))]
        for variant in variants:
            fast, slow = lazy.evaluate(variant), eager.evaluate(variant)
            pending += isinstance(fast, PendingMatches)
            assert fast.docnums.tolist() == slow.docnums.tolist(), text
            for limit, allowed in ((10, None), (3, some), (len(slow), None)):
                got, expected = fast.top(limit, allowed), slow.top(limit, allowed)
                assert got[0].tolist() == expected[0].tolist(), (text, limit)
                assert got[1].tolist() == expected[1].tolist(), (text, limit)
            assert fast.scores.tolist() == slow.scores.tolist(), text
    assert pending >= 4


@pytest.fixture(scope="module")
def several_segments(tmp_path_factory, corpus, articles) -> Path:
    """The corpus indexed, then a second segment rewriting 40 articles: deletions in the first."""
    folder = tmp_path_factory.mktemp("multi")
    index_paths(folder, [corpus], procs=1)
    changed = tmp_path_factory.mktemp("changed") / "changed.jsonl"
    rewritten = [
        json.dumps({**a.to_json(), "body": a.body + " herring quota"}) for a in articles[:40]
    ]
    changed.write_text("\n".join(rewritten) + "\n")
    index_paths(folder, [changed], procs=1)
    return folder


def test_array_matcher_reads_several_segments_and_deletions(several_segments):
    ix = index.open_dir(IndexFolder(several_segments).live_build(), indexname="articles")
    searcher = ix.searcher(weighting=weighting())
    assert len(searcher.leaf_searchers()) > 1 and searcher.reader().has_deletions()
    matcher = ArrayMatcher(searcher)
    for query in (
        wq.Term("body", "herring"),
        wq.Or([wq.Term("body", "oil"), wq.Term("title", "oil", boost=1.5)]),
        wq.Phrase("body", ["herring", "quota"]),
        wq.And([wq.Term("body", "quota"), wq.Term("body", "herring")]),
    ):
        found = matcher.evaluate(query)
        assert found.docnums.tolist() == sorted(searcher.docs_for_query(query)), query
        everything = searcher.search(query, limit=None)
        _assert_same_ranking(found.top(len(found)), [(h.docnum, h.score) for h in everything])
    searcher.close()


def test_a_terms_lists_joined_then_scored_are_each_segments_scored(several_segments):
    """A term whose lists read whole is scored once over all its segments' postings
    joined (TermPostings._joined): the same matches and scores, to the bit, as segment by
    segment, deletions and all."""
    ix = index.open_dir(IndexFolder(several_segments).live_build(), indexname="articles")
    searcher = ix.searcher(weighting=weighting())
    assert len(searcher.leaf_searchers()) > 1 and searcher.reader().has_deletions()
    terms = ArrayMatcher(searcher)._terms
    compared = over_segments = 0
    for field in ("body", "title"):
        for btext in searcher.reader().lexicon(field):
            read = terms._segments_holding(field, btext)
            if any(postings[0] is None for *_, postings in read):
                continue  # a list Whoosh inlined: read segment by segment only
            joined = terms._joined(field, terms._scorer(read[0][1], field, btext), read)
            each = terms._segment_by_segment(field, btext, read)
            assert joined.docnums.tolist() == each.docnums.tolist(), (field, btext)
            assert joined.scores.tobytes() == each.scores.tobytes(), (field, btext)
            compared += 1
            over_segments += len(read) > 1
    assert compared > 500 and over_segments > 100
    searcher.close()


# --- the terms table -------------------------------------------------------------------------

TEXT_FIELDS = ("id", "title", "body", "spell_body", "author_text", "authors", "regions", "themes")


@contextlib.contextmanager
def segments_with_deletions(index_dir, monkeypatch, fast: bool):
    """The segment readers of ``index_dir`` (several, with deletions), ``fast`` paths or not."""
    monkeypatch.setattr(version, "FAST_PATHS", fast)
    ix = index.open_dir(IndexFolder(index_dir).live_build(), indexname="articles")
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) > 1 and reader.has_deletions()
        yield leaves


@pytest.mark.parametrize("fast", [True, False])
def test_terms_read_in_bulk_are_whoosh_own(several_segments, monkeypatch, fast):
    with segments_with_deletions(several_segments, monkeypatch, fast) as leaves:
        for leaf in leaves:
            for field in TEXT_FIELDS:
                expected = [(t.decode(), i.doc_frequency()) for t, i in leaf.iter_field(field)]
                terms, counts = field_doc_frequencies(leaf, field)
                assert list(zip(terms, counts.tolist(), strict=True)) == expected, field
                assert field_terms(leaf, field) == [term for term, _ in expected], field
            assert max(field_doc_frequencies(leaf, "body")[1]) > 1


def test_terms_looked_up_with_preads_are_whoosh_own(several_segments, monkeypatch):
    """TermsLookup finds every term of every field as Whoosh's terms reader does (the
    same term info, the same posting list), and no term a segment lacks."""
    ix = IndexFolder(several_segments).served().open()  # as the engine opens it: no mmap
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) > 1
        looked_up = 0
        for leaf in leaves:
            lookup = TermsLookup.open(leaf)
            assert lookup is not None
            for field in TEXT_FIELDS:
                for term, info in leaf.iter_field(field):
                    found = lookup.info(field, term)
                    assert found is not None and vars(found) == vars(info), (field, term)
                    looked_up += 1
                rarest = [t for t, i in leaf.iter_field(field) if i.doc_frequency() == 1][:20]
                for term in rarest:
                    expected = posting_arrays(leaf, field, term)
                    got = posting_arrays(leaf, field, term, lookup)
                    assert [a.tolist() for a in got] == [a.tolist() for a in expected], term
            for field, term in [("body", b"zzqqxx"), ("title", b"herring" * 3), ("nofield", b"a")]:
                assert lookup.info(field, term) is None
                assert posting_arrays(leaf, field, term, lookup) is None
        assert looked_up > 10_000
        monkeypatch.setattr(version, "FAST_PATHS", False)  # Whoosh's own readers
        assert TermsLookup.open(leaves[0]) is None


def test_document_frequencies_looked_up_are_whoosh_own(several_segments):
    ix = IndexFolder(several_segments).served().open()
    searcher = ix.searcher(weighting=weighting())
    reader = searcher.reader()
    assert len(reader.leaf_readers()) > 1 and reader.has_deletions()
    matcher = ArrayMatcher(searcher)
    terms = [t.decode() for _, t in zip(range(400), reader.lexicon("body"), strict=False)]
    for field in ("body", "title", "author_text"):
        for term in [*terms, "herring", "quota", "zzqqxx"]:
            assert matcher.doc_frequency(field, term) == reader.doc_frequency(field, term)
    assert matcher.doc_frequency("body", "herring") >= 40  # in several segments, some deleted
    searcher.close()


def test_positions_picked_from_blocks_are_whoosh_own(several_segments, monkeypatch):
    """posting_values (the list read in one piece, only the blocks asked for unpickled)
    gives what Whoosh's matcher gives, for lists of many blocks and docnums spread over them."""
    with segments_with_deletions(several_segments, monkeypatch, True) as leaves:
        blocks = []
        for leaf in leaves:
            terms, counts = field_doc_frequencies(leaf, "body")
            for row in np.argsort(-counts)[:5].tolist() + [len(terms) // 2]:
                btext = terms[row].encode()
                expected = dict(leaf.postings("body", btext).all_items())
                wanted = np.array(sorted(expected)[1::3] or sorted(expected), dtype=np.int64)
                got = posting_values(leaf, "body", btext, wanted)
                assert got == {d: expected[d] for d in wanted.tolist()}, terms[row]
                blocks.append(counts[row])
        assert max(blocks) > 2 * 128  # lists of several W3 blocks were among them


def test_common_terms_read_from_their_arrays_are_whoosh_own(several_segments, monkeypatch):
    """The frequent-terms file of each segment holds, for every scorable term in at
    least MIN_DOCUMENTS documents and no other, what the term's W3 list holds."""
    with segments_with_deletions(several_segments, monkeypatch, True) as leaves:
        held = positioned = 0
        for leaf in leaves:
            frequent = FrequentPostings.open(leaf)
            assert frequent is not None
            for field in ("title", "body", "author_text", "authors", "id"):
                terms, counts = field_doc_frequencies(leaf, field)
                for term, count in zip(terms, counts.tolist(), strict=True):
                    arrays = frequent.arrays(leaf, field, term.encode())
                    common = count >= frequent_file.MIN_DOCUMENTS
                    assert (arrays is not None) == (common and leaf.schema[field].scorable)
                    if arrays is not None:
                        docnums, weights = posting_arrays(leaf, field, term.encode())
                        assert arrays[0].tolist() == docnums.tolist(), (field, term)
                        assert arrays[1].tolist() == weights.tolist(), (field, term)
                        held += 1
                        positioned += _positions_are_whoosh_own(leaf, frequent, field, term)
        assert held > 50 and positioned > 50
        monkeypatch.setattr(version, "FAST_PATHS", False)  # Whoosh's own readers: no file
        assert FrequentPostings.open(leaves[0]) is None


def _positions_are_whoosh_own(leaf, frequent, field: str, term: str) -> bool:
    """Whether the file holds the term's positions; if so, checked against Whoosh's values
    for every third of its documents."""
    expected = dict(leaf.postings(field, term.encode()).all_items())
    wanted = np.array(sorted(expected)[::3], dtype=np.int64)
    keys = frequent.positions(leaf, field, term.encode(), wanted)
    if keys is None:
        return False
    decode = leaf.schema[field].format.decode_positions
    whoosh_own = [(row, p) for row, d in enumerate(wanted.tolist()) for p in decode(expected[d])]
    found = zip((keys >> 32).tolist(), (keys & 0xFFFFFFFF).tolist(), strict=True)
    assert list(found) == whoosh_own, term
    return True


def test_a_merged_segment_has_its_common_terms_arrays(tmp_path, corpus):
    index_paths(tmp_path / "merged", [corpus], procs=2)
    ix = index.open_dir(IndexFolder(tmp_path / "merged").live_build(), indexname="articles")
    ArticleSegmentWriter(ix, codec=ArticleCodec()).commit(optimize=True)
    with ix.reader() as reader:
        frequent = FrequentPostings.open(reader)
        assert frequent is not None
        terms, counts = field_doc_frequencies(reader, "body")
        common = terms[int(np.argmax(counts))].encode()
        docnums, weights = posting_arrays(reader, "body", common)
        assert len(docnums) >= frequent_file.MIN_DOCUMENTS
        arrays = frequent.arrays(reader, "body", common)
        assert arrays[0].tolist() == docnums.tolist() and arrays[1].tolist() == weights.tolist()


KEYWORD_FIELDS = ("authors", "regions", "themes", "reports", "source")


def whoosh_own_documents(leaf, field: str) -> list[tuple[str, list[int]]]:
    """Each term of ``field`` in one segment with its undeleted documents (Whoosh's matcher)."""
    return [
        (term.decode(), sorted(leaf.postings(field, term).all_ids()))
        for term in leaf.lexicon(field)
    ]


def live_documents(leaf, field: str) -> list[tuple[str, list[int]]]:
    """``field_documents`` of one segment, its deleted documents left out."""
    terms, counts, docnums = field_documents(leaf, field)
    ends = np.cumsum(counts).tolist()
    return [
        (term, [d for d in docnums[end - count : end].tolist() if not leaf.is_deleted(d)])
        for term, count, end in zip(terms, counts.tolist(), ends, strict=True)
    ]


@pytest.mark.parametrize("fast", [True, False])
def test_facet_documents_read_in_bulk_are_whoosh_own(several_segments, monkeypatch, fast):
    with segments_with_deletions(several_segments, monkeypatch, fast) as leaves:
        counts = []
        for leaf in leaves:
            for field in KEYWORD_FIELDS:
                assert live_documents(leaf, field) == whoosh_own_documents(leaf, field), field
                counts += field_documents(leaf, field)[1].tolist()
        # Terms answered from their info (one or two documents) and from their lists.
        assert min(counts) <= 2 < max(counts)


def test_terms_holding_the_separator_are_read_one_by_one():
    data = b"..oil..cr\nude..\xc3\xa9t\xc3\xa9"
    starts, lengths = np.array([2, 7, 15]), np.array([3, 6, 5])
    assert terms_table._decoded_keys(data, starts, lengths) == ["oil", "cr\nude", "été"]
    assert terms_table._decoded_keys(data, starts[[0, 2]], lengths[[0, 2]]) == ["oil", "été"]


def test_vocabulary_is_the_same_read_in_bulk(several_segments, monkeypatch):
    built = {}
    for fast in (True, False):
        monkeypatch.setattr(version, "FAST_PATHS", fast)
        ix = index.open_dir(IndexFolder(several_segments).live_build(), indexname="articles")
        with ix.reader() as reader:
            analyzer = fast_analyzer(ix.schema["body"].analyzer)
            built[fast] = Vocabulary.from_reader(reader, analyzer)
            said = reader.doc_frequency("body", "said")  # every segment's count added up
    fast, plain = built[True], built[False]
    assert len(fast) > 1000
    assert (fast.words, fast.terms) == (plain.words, plain.terms)
    assert fast.frequency.tolist() == plain.frequency.tolist()
    assert fast.frequency_of("said") == said > 0


# --- the engine ----------------------------------------------------------------------------


def _stored_date(stored: dict) -> dt.date | None:
    return stored["date"].date() if stored.get("date") else None


def _plain_search(generation, request: SearchRequest) -> dict:
    """What the engine should answer, the plain way: Whoosh searches and stored fields."""
    searcher = generation.searcher
    reader = searcher.reader()
    parsed = generation.builder.parse(request.q)
    stored = {d: reader.stored_fields(d) for d in reader.all_doc_ids()}
    if isinstance(parsed.query, wq.Every):
        matched = set(stored)
    else:
        matched = set(searcher.docs_for_query(parsed.query))

    def keep(docnum: int, facets: tuple[str, ...]) -> bool:
        date = _stored_date(stored[docnum])
        if (request.date_from or request.date_to) and date is None:
            return False
        if request.date_from and date < request.date_from:
            return False
        if request.date_to and date > request.date_to:
            return False
        for facet in facets:
            chosen = request.selected(facet)
            if chosen and not set(chosen) & set(stored[docnum].get(FACET_FIELDS[facet], ())):
                return False
        return True

    final = {d for d in matched if keep(d, ("region", "theme"))}
    counts = {}
    for facet, other in (("region", "theme"), ("theme", "region")):
        counter = Counter()
        for docnum in matched:
            if keep(docnum, (other,)):
                counter.update(set(stored[docnum].get(FACET_FIELDS[facet], ())))
        counts[facet] = dict(counter)
    if request.sort == "relevance" and not parsed.is_browse:
        hits = [h for h in searcher.search(parsed.query, limit=None) if h.docnum in final]
        ranked, keys = [h.docnum for h in hits], {h.docnum: h.score for h in hits}
    else:
        undated = 10**9 if request.sort == "oldest" else 0

        def day(d):
            date = _stored_date(stored[d])
            return date.toordinal() if date else undated

        sign = 1 if request.sort == "oldest" else -1
        ranked = sorted(final, key=lambda d: (sign * day(d), d))
        keys = {d: sign * day(d) for d in final}
    return {
        "total": len(final),
        "ids": [stored[d]["id"] for d in ranked[: request.per_page]],
        "facets": counts,
        "keys": {stored[d]["id"]: key for d, key in keys.items()},  # what the order is by
    }


def _assert_same_order_but_ties(got: list[str], expected: list[str], keys: dict, context):
    """The same ids in the same order, except that ids whose sort keys (scores, days) tie,
    to 1e-9, may change places: then every place holds an id with the expected key."""
    assert sorted(got) == sorted(expected), context
    for mine, theirs in zip(got, expected, strict=True):
        if mine != theirs:
            assert math.isclose(keys[mine], keys[theirs], rel_tol=1e-9), (mine, theirs, context)


REQUESTS = [
    SearchRequest(q="oil prices"),
    SearchRequest(q="oil prices", filters={"region": ("USA",)}),
    SearchRequest(q="trade", filters={"region": ("Japan", "USA"), "theme": ("trade",)}),
    SearchRequest(q="interest rates", sort="newest"),
    SearchRequest(q="shares", sort="oldest", date_from=dt.date(1987, 3, 1)),
    SearchRequest(q='"crude oil"', date_to=dt.date(1987, 3, 31)),
    SearchRequest(q="", filters={"theme": ("earn",)}),
    SearchRequest(q="", filters={"region": ("Canada", "UK")}, sort="oldest"),
    SearchRequest(q="herring quota"),
    SearchRequest(q="wheat -corn", filters={"theme": ("grain", "wheat")}),
]


def test_engine_answers_as_the_plain_reference(index_dir, generation):
    engine = untimed_engine(index_dir)
    for request in REQUESTS:
        result = engine.search(request)
        expected = _plain_search(generation, request)
        assert result.total == expected["total"], request
        facets = {
            name: {v.value: v.count for v in f.values if v.count}
            for name, f in result.facets.items()
        }
        assert facets == expected["facets"], request
        ids = [hit.id for hit in result.hits]
        _assert_same_order_but_ties(ids, expected["ids"], expected["keys"], request)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("value_count", [12, 300])
def test_facet_counts_over_pairs_and_document_by_document(seed, value_count):
    """Counts over pairs grouped by value, values without pairs (all their documents
    deleted) first, between and last among them, against counting pair by pair; and
    document by document (search.document_values: documents with one value, several or
    none; more values than a byte holds), as a search of few documents counts them."""
    rng = np.random.default_rng(seed)
    size, names = 500, [f"v{n}" for n in range(value_count)]
    frequencies = rng.integers(0, 60 if value_count < 100 else 4, len(names))
    frequencies[[0, 5, 6, len(names) - 1]] = 0
    pair_values = np.repeat(np.arange(len(names), dtype=np.int32), frequencies)
    pair_docs = np.concatenate(
        [np.sort(rng.choice(size, f, replace=False)) for f in frequencies]
    ).astype(np.int32)
    starts = np.concatenate(([0], np.cumsum(frequencies)))
    values = ValueSets("regions", names, frequencies, pair_docs, pair_values, starts)
    by_document = values.document_values(size)
    assert len(by_document.several_docs) and (by_document.single == value_count).any()
    for matching in (
        rng.choice(size, 40, replace=False),
        rng.choice(size, 300, replace=False),
        np.arange(size),
        np.arange(0),
    ):
        docs = DocSet.from_docnums(np.sort(matching).astype(np.int64), size)
        counted = Counter(v for d, v in zip(pair_docs, pair_values, strict=True) if d in matching)
        expected = [counted[v] for v in range(len(names))]
        assert values.counts(docs).tolist() == expected
        assert by_document.counts(docs.docnums()).tolist() == expected


def test_a_set_made_of_sorted_docnums_keeps_them_read_only():
    docnums = np.array([0, 3, 7, 8, 15, 16, 999], dtype=np.int32)
    kept = DocSet.from_sorted(docnums, 1000)
    made = DocSet.from_docnums(docnums, 1000)
    assert kept.bits.tobytes() == made.bits.tobytes() and len(kept) == len(docnums)
    assert kept.docnums().tolist() == made.docnums().tolist() == docnums.tolist()
    assert made.docnums() is made.docnums()  # worked out once
    for found in (kept.docnums(), made.docnums()):
        with pytest.raises(ValueError):
            found[0] = 5  # the set's own array: a caller cannot change the set
    assert (kept & made).docnums().tolist() == docnums.tolist()


def test_facet_counts_equal_whoosh_groupedby(index_dir, generation):
    engine = untimed_engine(index_dir)
    searcher = generation.searcher
    for text in ("oil", "trade", "said"):
        parsed = generation.builder.parse(text)
        grouped = searcher.search(
            parsed.query,
            limit=None,
            groupedby={
                name: sorting.FieldFacet(name, allow_overlap=True) for name in ("regions", "themes")
            },
        )
        result = engine.search(SearchRequest(q=text))
        for facet, field in FACET_FIELDS.items():
            groups = {
                (k.decode() if isinstance(k, bytes) else k): len(v)
                for k, v in grouped.groups(field).items()
                if k is not None
            }
            assert {v.value: v.count for v in result.facets[facet].values} == groups, text


LONG_REQUESTS = [
    SearchRequest(q="the company said its board approved a two for one stock split and dividend"),
    SearchRequest(q="federal reserve said it would add reserves to the banking system"),
    SearchRequest(
        q="opec oil ministers meeting to discuss production quotas", filters={"region": ("USA",)}
    ),
    SearchRequest(
        q="japan trade surplus with the united states widened", filters={"theme": ("trade",)}
    ),
    SearchRequest(q="bank lending rates rose in the first quarter", page=2),
    SearchRequest(q="what did analysts say about crude oil prices and supply?"),
]


def test_long_queries_pruned_answer_as_full_evaluation(index_dir, generation):
    """Phrase bonuses and feedback looked up only where they can reach the top, the
    feedback run reusing the query's matches: the answer of Whoosh scoring every match."""
    engine = untimed_engine(index_dir)
    searcher, analyzer = generation.searcher, generation.builder.analyzer
    for request in LONG_REQUESTS:
        parsed = generation.builder.parse(request.q)
        assert parsed.feedback, request.q
        everything = [(h.docnum, h.score) for h in searcher.search(parsed.query, limit=None)]
        docnums, scores = zip(*everything[:FEEDBACK_DOCS], strict=True)
        terms = feedback_terms(searcher, analyzer, parsed, docnums, scores)
        everyone = dataclasses.replace(request, page=1, per_page=len(everything) + 1)
        plain = _plain_search(generation, everyone)
        final = set(plain["ids"])
        ranked = searcher.search(with_feedback(parsed.query, terms), limit=None)
        scores = {searcher.stored_fields(h.docnum)["id"]: h.score for h in ranked}
        ids = list(scores)
        ids = [i for i in ids if i in final]
        start = (request.page - 1) * request.per_page
        expected = ids[start : start + request.per_page]
        result = engine.search(request)
        assert result.total == plain["total"], request.q
        counted = {
            n: {v.value: v.count for v in f.values if v.count} for n, f in result.facets.items()
        }
        assert counted == plain["facets"], request.q
        got = [hit.id for hit in result.hits]
        _assert_same_order_but_ties(got, expected, scores, request.q)


def test_pruning_leaves_most_matches_unscored(generation):
    """The cut that spares the bonuses' lookups really cuts (else the tests above prove little)."""
    matcher = ArrayMatcher(generation.searcher)
    for request in LONG_REQUESTS[:2]:
        found = matcher.evaluate(generation.builder.parse(request.q).query)
        assert isinstance(found, PendingMatches)
        rows = np.arange(len(found))
        assert len(found._may_reach_top(rows, 10)) < len(rows) / 2, request.q


# --- the benchmark ---------------------------------------------------------------------------


def test_keystroke_benchmark_runs_on_a_tiny_corpus(tmp_path, corpus):
    tiny = tmp_path / "tiny.jsonl"
    with corpus.open(encoding="utf-8") as lines:
        tiny.write_text("".join(line for _, line in zip(range(150), lines, strict=False)))
    queries = tmp_path / "typed.txt"
    queries.write_text("# typed\noil prices\ntrade deficit\n")
    command = [sys.executable, str(ROOT / "bench" / "keystrokes.py"), "--corpus", str(tiny)]
    command += ["--queries", str(queries), "--size", "300", "--work", str(tmp_path / "work")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "2 searches: 9 mid-word states, 9 typo queries" in done.stdout
    rows = ("mid-word overlap", "typo queries with no article", "keystroke p50", "whole query p50")
    for row in (*rows, "serve start to first answer"):
        assert row in done.stdout
    assert (tmp_path / "work" / "corpus-300.jsonl").exists()  # the scale corpus, grown


def test_benchmark_runs_on_a_tiny_corpus(tmp_path, corpus):
    tiny = tmp_path / "tiny.jsonl"
    with corpus.open(encoding="utf-8") as lines:
        chosen = [line for _, line in zip(range(150), lines, strict=False)]
    tiny.write_text("".join(chosen))
    queries = tmp_path / "queries.txt"
    queries.write_text("# tiny log\nq=oil\nq=trade&region=USA&sort=newest\nq=%22crude+oil%22\n")
    out = tmp_path / "figures.json"
    command = [sys.executable, str(ROOT / "bench" / "bench.py"), "--corpus", str(tiny)]
    command += ["--queries", str(queries), "--work", str(tmp_path / "work")]
    command += ["--index-runs", "1", "--search-rounds", "1", "--http-seconds", "1"]
    command += ["--python-load", "--clients", "2", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for row in ("full index (s)", "no-change re-run (s)", "search p95 (ms)", "HTTP requests/s"):
        assert row in done.stdout
    figures = json.loads(out.read_text())
    assert figures["articles"] == len(chosen)
    for system in ("ours", "fts5"):
        assert figures[system]["http_errors"] == 0
        assert figures[system]["requests"] > 0
        assert figures[system]["search_p50_ms"] > 0
        assert figures[system]["worker_mb"] > 10  # a real worker's memory, not a lost pid


def test_add_at_sums_as_an_addition_through_an_index():
    """The matcher adds a part's scores with add_at: the very sums of ``+=`` through an
    index, for distinct places of either index type."""
    rng = np.random.default_rng(7)
    total = rng.random(10_000) * 100
    places = np.sort(rng.choice(10_000, 3_000, replace=False))
    scores = rng.random(3_000) * rng.choice([1e-6, 1.0, 1e6], 3_000)
    expected = total.copy()
    expected[places] += scores
    for kind in (np.intp, np.int32):
        added = total.copy()
        add_at(added, places.astype(kind), scores)
        assert added.tobytes() == expected.tobytes()
    assert not np.array_equal(expected, total)
