"""Whoosh's own writer, codec and matcher when the installed Whoosh is not the verified one.

The fast paths and the fallback write indexes that give the same answers,
whichever path searches them; the key tests also run as a whole under the
fallback (ARTICLE_SEARCH_WHOOSH_FALLBACK=1), in a pytest session of their own.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec

from index.indexer import index_paths
from search.analysis import fast_analyzer
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder
from search.vocabulary import Vocabulary
from search.whoosh_internals import ArticleCodec, fast_paths, version
from tests.conftest import DEMO_ARTICLES
from tests.test_performance_paths import KEYWORD_FIELDS, live_documents

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# Indexing, searching, facets, the page and the JSON API.
KEY_TESTS = (
    "tests/test_indexer.py",
    "tests/test_engine.py",
    "tests/test_facet_config.py",
    "tests/test_web_api.py",
    "tests/test_web_pages.py",
)
QUERIES = (
    "",
    "rhine barges",
    "central bank",
    '"heat pump"',
    "malaria OR vaccine",
    "farmers -cocoa",
    "export*",
    "region:europe",
)


def test_only_the_verified_whoosh_gets_the_fast_paths():
    assert version.fallback_reason(version.VERIFIED_WHOOSH, {}) is None
    assert "whoosh-reloaded 2.7.6" in version.fallback_reason("2.7.6", {})
    assert "not whoosh-reloaded" in version.fallback_reason(None, {})
    forced = {version.FALLBACK_ENV: "1"}
    assert version.fallback_reason(version.VERIFIED_WHOOSH, forced) == (
        f"{version.FALLBACK_ENV} is set"
    )
    assert version.fallback_reason(version.VERIFIED_WHOOSH, {version.FALLBACK_ENV: "0"}) is None


def test_the_verified_whoosh_is_the_pinned_one():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"whoosh-reloaded=={version.VERIFIED_WHOOSH}"' in pyproject


def test_another_whoosh_is_said_in_one_log_line(caplog):
    with caplog.at_level(logging.WARNING, logger="search.whoosh_internals"):
        assert version.check("2.8.0", {}) is False
        assert version.check(version.VERIFIED_WHOOSH, {}) is True
    [record] = caplog.records
    assert "Whoosh's own writer and matcher" in record.getMessage()
    assert "whoosh-reloaded 2.8.0" in record.getMessage()


def test_the_environment_variable_turns_the_fast_paths_off_at_import():
    code = "import search.whoosh_internals as w; print(w.fast_paths())"
    for value, expected in (("1", "False"), ("0", "True")):
        env = {**os.environ, version.FALLBACK_ENV: value}
        run = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.stdout.strip() == expected, run.stderr
        warned = [line for line in run.stderr.splitlines() if "own writer and matcher" in line]
        assert len(warned) == (1 if expected == "False" else 0), run.stderr


def test_fast_paths_follow_the_environment():
    """Run by both sessions: on in the main one, off in the fallback one."""
    forced = os.environ.get(version.FALLBACK_ENV, "") not in ("", "0")
    assert fast_paths() is not forced


@pytest.fixture(scope="module")
def index_per_path(tmp_path_factory) -> dict[bool, Path]:
    """The demo articles indexed with the fast paths on (True) and off (False)."""
    indexes = {}
    demo = sorted(DEMO_ARTICLES.glob("*.txt"))
    for fast in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(version, "FAST_PATHS", fast)
            work = tmp_path_factory.mktemp(f"fast-{fast}")
            articles, index_dir = work / "articles", work / "index"
            articles.mkdir()
            for path in demo[:30]:
                shutil.copy(path, articles)
            index_paths(index_dir, [articles], procs=1)  # a new build
            # Then an incremental run: ten added, one changed, one removed.
            for path in demo[30:]:
                shutil.copy(path, articles)
            changed = articles / demo[0].name
            changed.write_text(changed.read_text(encoding="utf-8") + "\nRevised.\n", "utf-8")
            (articles / demo[1].name).unlink()
            index_paths(index_dir, [articles])
        indexes[fast] = index_dir
    return indexes


def test_the_fallback_writes_with_whoosh_own_codec(index_per_path, monkeypatch):
    for fast, codec in ((True, ArticleCodec), (False, W3Codec)):
        monkeypatch.setattr(version, "FAST_PATHS", fast)
        ix, _ = IndexFolder(index_per_path[fast]).open_served()
        with ix.reader() as reader:
            assert {type(leaf.codec()) for leaf, _ in reader.leaf_readers()} == {codec}


def _answers(index_dir: Path) -> list:
    engine = SearchEngine(index_dir)
    answers = []
    for q in QUERIES:
        result = engine.search(SearchRequest(q=q, per_page=50))
        facets = {name: [(v.value, v.count) for v in f.values] for name, f in result.facets.items()}
        hits = [(hit.id, hit.score and round(hit.score, 9)) for hit in result.hits]
        answers.append((q, result.total, hits, facets))
    return answers


def test_both_paths_write_and_search_alike(index_per_path, monkeypatch):
    answers = {}
    for written_fast, index_dir in index_per_path.items():
        for searched_fast in (True, False):
            monkeypatch.setattr(version, "FAST_PATHS", searched_fast)
            answers[written_fast, searched_fast] = _answers(index_dir)
    reference = answers[True, True]
    assert any(total > 0 for _, total, _, _ in reference)
    assert {key: found == reference for key, found in answers.items()} == dict.fromkeys(
        answers, True
    )


def _read_every_way(index_per_path, monkeypatch, read) -> dict:
    """``read(index, reader)`` on the index written by each path, with each path reading."""
    found = {}
    for written_fast, index_dir in index_per_path.items():
        for read_fast in (True, False):
            monkeypatch.setattr(version, "FAST_PATHS", read_fast)
            ix, _ = IndexFolder(index_dir).open_served()
            with ix.reader() as reader:
                found[written_fast, read_fast] = read(ix, reader)
    return found


def test_both_paths_read_the_same_vocabulary(index_per_path, monkeypatch):
    """The typing vocabulary read in bulk from either codec's terms tables, and through
    Whoosh's readers."""

    def vocabulary_of(ix, reader):
        analyzer = fast_analyzer(ix.schema["body"].analyzer)
        vocabulary = Vocabulary.from_reader(reader, analyzer)
        return vocabulary.words, vocabulary.terms, vocabulary.frequency.tolist()

    built = _read_every_way(index_per_path, monkeypatch, vocabulary_of)
    reference = built[True, True]
    assert len(reference[0]) > 500
    assert {key: found == reference for key, found in built.items()} == dict.fromkeys(built, True)


def test_both_paths_read_the_same_facet_documents(index_per_path, monkeypatch):
    """A segment's facet documents from either codec's files, read in bulk and through
    Whoosh's matcher."""

    def documents_of(ix, reader):
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        return [live_documents(leaf, field) for leaf in leaves for field in KEYWORD_FIELDS]

    read = _read_every_way(index_per_path, monkeypatch, documents_of)
    reference = read[True, True]
    assert sum(len(documents) for terms in reference for _, documents in terms) > 100
    assert {key: found == reference for key, found in read.items()} == dict.fromkeys(read, True)


@pytest.mark.skipif(
    os.environ.get(version.FALLBACK_ENV, "") not in ("", "0"), reason="this is that session"
)
def test_key_tests_pass_on_whoosh_own_paths():
    env = {**os.environ, version.FALLBACK_ENV: "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *KEY_TESTS]
    command.append("tests/test_whoosh_fallback.py::test_fast_paths_follow_the_environment")
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
