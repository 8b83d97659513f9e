"""A generation opened from the one before (search.storage.segments) answers as one opened
from scratch.

A real index on disk, changed by real incremental runs: new articles (a new
segment), edited and removed ones (deletions in old segments), and enough
runs for the merge policy to merge the small segments into a new one. After
each run a serving engine moves to the new generation, reusing what it read
from the segments it already had, and its answers (hits and scores, facet
counts, date filters, the timeline) and its per-document arrays are compared
with a new engine's, which reads every segment afresh. Both on the fast paths
and on Whoosh's own (the fallback).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.indexer import index_paths
from index.merge_policy import MERGE_AT
from search.engine import SearchEngine
from search.facets import configured_facets
from search.results import SearchRequest
from search.schema import stored_article
from search.storage.segments import segment_key
from search.whoosh_internals import version
from tests.generated_corpus import vocabulary, write_articles

pytestmark = pytest.mark.slow

FACETS = configured_facets("region,theme,author,report,source,year")
WORDS = vocabulary(300)  # the articles' words: each in many articles
EXACT = {"prefix": False, "typos": False}  # no word expansion: the vocabulary is rebuilt later


def _requests() -> list[SearchRequest]:
    return [
        SearchRequest(q=WORDS[0], per_page=50, **EXACT),
        SearchRequest(q=f"{WORDS[1]} {WORDS[2]}", per_page=50, **EXACT),
        SearchRequest(q=f'"{WORDS[3]} {WORDS[4]}" {WORDS[5]}', **EXACT),
        SearchRequest(q="", sort="newest", per_page=50),
        SearchRequest(q="", sort="oldest", filters={"year": ("2018",)}, per_page=20),
        SearchRequest(
            q=WORDS[6], filters={"region": ("Europe", "Asia"), "author": ("Writer 5",)}, **EXACT
        ),
        SearchRequest(
            q=WORDS[7],
            date_from=dt.date(2016, 3, 1),
            date_to=dt.date(2017, 6, 30),
            filters={"theme": ("Energy",)},
            **EXACT,
        ),
    ]


def _answers(engine: SearchEngine) -> list[tuple]:
    return [
        (
            result.total,
            [(hit.id, hit.score) for hit in result.hits],
            result.facets,
            result.timeline,
            result.partial,
        )
        for result in map(engine.search, _requests())
    ]


def _arrays(engine: SearchEngine) -> dict:
    """Everything the generation worked out per document and per facet value, as lists."""
    gen = engine._generation(now=True)
    arrays = {"size": gen.size, "undeleted": gen.undeleted.mask().tolist()}
    arrays |= {"day": gen.day.tolist(), "month": gen.month.tolist()}
    for field, values in sorted(gen.values.items()):
        arrays[field] = [values.names, values.frequencies.tolist()]
        if values.pair_docs is not None:
            arrays[field] += [a.tolist() for a in (values.pair_docs, values.pair_values)]
            arrays[field].append(values.starts.tolist())
    return arrays


def _as_stored(engine: SearchEngine) -> dict:
    """What each facet's arrays and the date column must say, worked out from the live
    articles' stored fields one by one (not from the arrays' own code)."""
    gen = engine._generation(now=True)
    pairs: dict[str, set] = {facet.field: set() for facet in FACETS if facet.terms_field}
    days = np.zeros(gen.size, dtype=np.int64)
    months = np.full(gen.size, -1, dtype=np.int64)
    for docnum in gen.undeleted.docnums().tolist():
        article = stored_article(gen.searcher.stored_fields(docnum))
        days[docnum] = article.date.toordinal() if article.date else 0
        if article.date:
            months[docnum] = article.date.year * 12 + article.date.month - 1
        for facet in FACETS:
            if facet.terms_field:
                pairs[facet.field].update((docnum, v) for v in facet.values_of(article))
    live = gen.undeleted.mask()
    return {"pairs": pairs, "day": days[live].tolist(), "month": months[live].tolist()}


def _as_arrays(engine: SearchEngine) -> dict:
    gen = engine._generation(now=True)
    pairs = {
        field: {
            (doc, values.names[value])
            for doc, value in zip(
                values.pair_docs.tolist(), values.pair_values.tolist(), strict=True
            )
        }
        for field, values in gen.values.items()
        if field in {facet.field for facet in FACETS if facet.terms_field}
    }
    live = gen.undeleted.mask()
    return {"pairs": pairs, "day": gen.day[live].tolist(), "month": gen.month[live].tolist()}


def _phrase_checked_segments(engine: SearchEngine) -> set[str]:
    """The segments for which the engine remembers whether a phrase is in some document."""
    return {key[0][0] for key, checks in engine._segments._phrases.items() if checks}


def _engine(index_dir: Path) -> SearchEngine:
    return SearchEngine(
        index_dir, refresh_seconds=0, facet_seconds=None, search_seconds=None, facets=FACETS
    )


def _not_read_again(leaf):
    raise AssertionError(f"segment {leaf.segment()} read again")


@pytest.mark.parametrize("fast", [True, False], ids=["fast-paths", "whoosh-own"])
def test_a_generation_built_from_the_last_answers_as_one_opened_afresh(tmp_path, monkeypatch, fast):
    monkeypatch.setattr(version, "FAST_PATHS", fast)
    source, index_dir = tmp_path / "articles", tmp_path / "index"
    write_articles(source, 150, vocabulary_size=len(WORDS))
    index_paths(index_dir, [source], procs=1)
    serving = _engine(index_dir)
    _answers(serving)  # read the words' postings, to be kept for the next generations
    seen = {"deletions": False, "merge": False, "phrase checks kept": False}
    runs = [("new", 40, 150), ("edit", 6, 10), ("remove", 4, 30)]
    runs += [("new", 3, 190 + 3 * n) for n in range(MERGE_AT)]
    segments_before = len(serving._generation().searcher.reader().leaf_readers())
    term = next(iter(serving._generation().builder.analyzer(WORDS[0]))).text.encode()
    for kind, count, start in runs:
        if kind == "new":
            write_articles(source, count, start=start, vocabulary_size=len(WORDS))
        elif kind == "edit":  # the same files, other words: new documents, old ones deleted
            write_articles(source, count, start=start, seed=99, vocabulary_size=len(WORDS))
        else:
            for path in sorted(source.rglob("*.txt"))[start : start + count]:
                path.unlink()
        before = serving._generation()
        kept = {leaf.segment().segment_id() for leaf, _ in before.searcher.reader().leaf_readers()}
        checked = _phrase_checked_segments(serving)
        index_paths(index_dir, [source], procs=1)

        gen = serving._generation(now=True)
        assert gen.generation != before.generation
        reader = gen.searcher.reader()
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        # The phrase checks of the segments still served are kept, the others' forgotten.
        still = {leaf.segment().segment_id() for leaf in leaves}
        assert _phrase_checked_segments(serving) == checked & still
        seen["phrase checks kept"] |= bool(checked & still)
        incremental = _answers(serving)
        for leaf in leaves:
            if leaf.segment().segment_id() in kept:  # reused, not read again
                serving._segments.piece(leaf, "dates", _not_read_again)
                serving._segments.piece(leaf, ("values", "authors", True), _not_read_again)
                # The searched word's postings too, where they are a list of their own (Whoosh
                # keeps a single posting in the terms table): kept, or in the segment's
                # frequent-terms file, whose index is kept.
                if fast and leaf.doc_frequency("body", term) > 1:
                    frequent = serving._segments.piece(leaf, "frequent", _not_read_again)
                    in_file = frequent is not None and frequent.arrays(leaf, "body", term)
                    kept_list = serving._segments.postings(segment_key(leaf), "body", term)
                    assert in_file or kept_list is not None
        seen["deletions"] |= reader.doc_count() < reader.doc_count_all()
        seen["merge"] |= len(leaves) < segments_before
        segments_before = len(leaves)

        afresh = _engine(index_dir)
        assert afresh._generation().generation == gen.generation
        assert incremental == _answers(afresh)
        assert _arrays(serving) == _arrays(afresh)
        assert _as_arrays(serving) == _as_stored(serving)
        assert any(total for total, *_ in incremental)
    assert seen == {"deletions": True, "merge": True, "phrase checks kept": True}


def test_a_rebuild_reads_every_segment_afresh(tmp_path):
    """A rebuild's segments are all new: nothing of the old build's is kept or served."""
    source, index_dir = tmp_path / "articles", tmp_path / "index"
    write_articles(source, 60, vocabulary_size=len(WORDS))
    index_paths(index_dir, [source], procs=1)
    serving = _engine(index_dir)
    _answers(serving)
    old = {
        leaf.segment().segment_id()
        for leaf, _ in serving._generation().searcher.reader().leaf_readers()
    }
    shutil.rmtree(source)
    write_articles(source, 40, start=500, vocabulary_size=len(WORDS))
    index_paths(index_dir, [source], procs=1, rebuild=True)
    answers = _answers(serving)
    reader = serving._generation().searcher.reader()
    assert not old & {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    assert answers == _answers(_engine(index_dir))
    assert _arrays(serving) == _arrays(_engine(index_dir))
    assert reader.doc_count() == 40
    assert np.all(serving._generation().undeleted.mask())
