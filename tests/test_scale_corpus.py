"""bench/corpus.py grows an archive with a real archive's spread of authors, reports and dates."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from bench import corpus

pytestmark = pytest.mark.slow

SOURCE_ARTICLES = 40
GROWN = 6_000


def _source(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for n in range(SOURCE_ARTICLES):
            article = {
                "id": f"a{n}",
                "title": f"Story {n}",
                "authors": [],
                "date": (dt.date(1990, 1, 1) + dt.timedelta(days=n)).isoformat(),
                "regions": [f"Region {n % 7}"],
                "themes": [f"theme {n % 5}"],
                "reports": [],
                "body": f"First paragraph {n}.\n\nSecond {n}.\n\nThird {n}.",
            }
            file.write(json.dumps(article) + "\n")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_grown_corpus_is_deterministic_and_long_tailed(tmp_path):
    source = _source(tmp_path / "source.jsonl")
    first = corpus.write_corpus(source, GROWN, tmp_path / "one.jsonl")
    second = corpus.write_corpus(source, GROWN, tmp_path / "two.jsonl")
    assert first.read_bytes() == second.read_bytes()
    articles = _read(first)
    assert len({a["id"] for a in articles}) == GROWN

    per_article = Counter(len(a["authors"]) for a in articles)
    assert per_article[0] == 0
    assert per_article[1] > 0.8 * GROWN and per_article[2] + per_article[3] > 0.1 * GROWN
    authors = Counter(name for a in articles for name in a["authors"])
    # Long-tailed: the busiest author in a score of articles, most in one or two.
    assert authors.most_common(1)[0][1] > 15
    assert sum(1 for count in authors.values() if count <= 2) > len(authors) / 2
    reports = Counter(name for a in articles for name in a["reports"])
    assert 0.1 * GROWN < sum(reports.values()) < 0.25 * GROWN
    assert len(reports) > 300

    years = {a["date"][:4] for a in articles}
    assert len(years) >= 29  # spread over 30 years
    source_articles = {a["id"]: a for a in _read(source)}
    for article in articles:  # regions and themes are the source article's own
        original = source_articles[article["id"].split("~")[0]]
        assert (article["regions"], article["themes"]) == (original["regions"], original["themes"])


def test_name_lists_have_the_sizes_asked_for():
    assert len(set(corpus.author_names())) == corpus.AUTHORS
    regions = [f"Region {n}" for n in range(150)]
    assert len(set(corpus.report_names(regions))) == corpus.REPORTS


def test_a_short_corpus_is_the_source_cut_short(tmp_path):
    source = _source(tmp_path / "source.jsonl")
    cut = corpus.write_corpus(source, 10, tmp_path / "cut.jsonl")
    assert _read(cut) == _read(source)[:10]


def test_a_corpus_is_rewritten_when_its_source_changes_not_when_it_is_touched(tmp_path):
    source = _source(tmp_path / "source.jsonl")
    out = corpus.write_corpus(source, GROWN, tmp_path / "grown.jsonl")
    written = out.stat().st_mtime_ns
    os.utime(out, ns=(written - 10**9, written - 10**9))  # older, so a rewrite would show
    written = out.stat().st_mtime_ns
    # The source restored anew (as a fresh copy of the shared corpora is): same content.
    later = source.stat().st_mtime_ns + 10**9
    os.utime(source, ns=(later, later))
    assert corpus.write_corpus(source, GROWN, out).stat().st_mtime_ns == written
    with source.open("a", encoding="utf-8") as file:
        file.write(json.dumps({"id": "new", "title": "New", "body": "New."}) + "\n")
    assert corpus.write_corpus(source, GROWN, out).stat().st_mtime_ns != written
