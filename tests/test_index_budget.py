"""The indexer within a memory budget: segments written as the budget is used, small
segments merged a bounded number at a time, the budget from arguments and the environment."""

from __future__ import annotations

import os

import pytest

from index import merge_policy, segment_writer
from index.indexer import index_paths
from index.memory import budget_mb
from search.engine import SearchEngine
from search.results import SearchRequest
from search.settings import INDEX_MEMORY, SettingError
from search.storage.index_folder import IndexFolder
from tests.conftest import cli
from tests.generated_corpus import write_articles

pytestmark = pytest.mark.slow

ARTICLES = 600
QUERIES = ("", "kari", "tosa melvin", "Europe")


def _segment_sizes(index_dir) -> list[int]:
    ix, _ = IndexFolder(index_dir).open_served()
    with ix.reader() as reader:
        return [leaf.doc_count_all() for leaf, _ in reader.leaf_readers()]


def _answers(index_dir) -> list[tuple]:
    engine = SearchEngine(index_dir)
    answers = []
    for q in QUERIES:
        result = engine.search(SearchRequest(q=q, per_page=100))
        facets = {name: [(v.value, v.count) for v in f.values] for name, f in result.facets.items()}
        answers.append((result.total, sorted(h.id for h in result.hits), facets))
    return answers


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budget-articles")
    write_articles(folder, ARTICLES, paragraphs=(1, 2))
    return folder


def test_a_used_budget_writes_more_segments_holding_the_same_index(tmp_path, articles, monkeypatch):
    whole = tmp_path / "whole"
    index_paths(whole, [articles], procs=2)
    assert len([n for n in _segment_sizes(whole) if n]) == 2
    # Any growth fills the budget once a segment has 100 articles (the processes
    # are forked, so they see these settings).
    monkeypatch.setattr(segment_writer, "MIN_SEGMENT_DOCUMENTS", 100)
    monkeypatch.setattr(segment_writer, "WRITE_PEAK", 1e9)
    cut = tmp_path / "cut"
    report = index_paths(cut, [articles], procs=2)
    sizes = _segment_sizes(cut)
    assert report.added == sum(sizes) == ARTICLES
    assert len([n for n in sizes if n]) >= 4
    # Each process cuts at 100 articles or more; only its last segment may hold fewer.
    assert len([n for n in sizes if 0 < n < 100]) <= 2, sizes
    assert _answers(cut) == _answers(whole)


MB = 1024 * 1024


def test_later_segments_are_cut_at_the_first_ones_size(tmp_path, articles, monkeypatch):
    """Memory freed by a written segment no longer shows as growth: a process that
    cut its first segment by memory cuts the next ones at the same number of articles.

    The real budget decides; what it reads of the processes' memory is a model of
    it: the main process holds 500 MB, an indexing process grows by 10 MB up to its
    first check and no further, as memory kept by the allocator after a segment is
    written behaves. Its 524 MB share is used at the first check (494 MB at the
    segment's start, 5 x 10 MB more to write it) and never after (504 MB, flat), so
    the later cuts are the first one's number, not the budget's."""
    main_pid, readings = os.getpid(), [0]

    def modelled_memory(pid: int | str = "self") -> int:
        if os.getpid() == main_pid:
            return 500 * MB
        readings[0] += 1  # in the indexing process: its own copy of the count
        return (484 + 10 * min(readings[0], 2)) * MB

    monkeypatch.setattr(segment_writer, "resident_bytes", modelled_memory)
    monkeypatch.setattr(segment_writer, "MIN_SEGMENT_DOCUMENTS", 150)
    assert segment_writer.WRITE_PEAK == 5.0  # the figures above are worked out with it
    index_dir = tmp_path / "cut"
    index_paths(index_dir, [articles], procs=1, memory_mb=1024)
    sizes = _segment_sizes(index_dir)
    assert sum(sizes) == ARTICLES
    assert len(sizes) >= 3
    assert sizes[:-1] == [200] * (len(sizes) - 1)  # jobs come 100 articles at a time
    assert 0 < sizes[-1] <= 200


def test_small_segments_merge_a_bounded_number_at_a_time(tmp_path, articles, monkeypatch):
    index_dir = tmp_path / "daily"
    index_paths(index_dir, [articles], procs=1)
    first = _segment_sizes(index_dir)
    monkeypatch.setattr(merge_policy, "MERGE_MAX_DOCUMENTS", 50)
    daily = tmp_path / "daily-in"
    for day in range(merge_policy.MERGE_AT + 2):
        write_articles(daily, 5, start=ARTICLES + 5 * day, seed=2)
        index_paths(index_dir, [articles, daily], procs=1)
    sizes = _segment_sizes(index_dir)
    assert sum(sizes) == ARTICLES + 5 * (merge_policy.MERGE_AT + 2)
    # The first import's segment was never rewritten; the daily ones were merged
    # once MERGE_AT of them were there, at most MERGE_MAX_DOCUMENTS together (with
    # the run's own 5 articles, written in the same new segment).
    assert set(first) <= set(sizes)
    later = list(sizes)
    for size in first:
        later.remove(size)
    assert len(later) <= merge_policy.MERGE_AT
    assert 45 <= max(later) <= 50 + 5
    assert _answers(index_dir)[0][0] == sum(sizes)


def test_the_budget_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(INDEX_MEMORY.name, raising=False)
    assert budget_mb() == INDEX_MEMORY.default
    monkeypatch.setenv(INDEX_MEMORY.name, "2048")
    assert budget_mb() == 2048
    assert budget_mb(512) == 512
    for bad in ("lots", "-5", "1.5"):
        monkeypatch.setenv(INDEX_MEMORY.name, bad)
        with pytest.raises(SettingError, match=INDEX_MEMORY.name):
            budget_mb()
    with pytest.raises(SettingError, match="too small"):
        budget_mb(10)


def test_a_bad_budget_on_the_command_line_changes_nothing(tmp_path, articles):
    done = cli("index", str(articles), "--index", str(tmp_path / "ix"), "--memory", "10")
    assert done.returncode == 2
    assert "too small" in done.stderr
    assert not (tmp_path / "ix").exists()
