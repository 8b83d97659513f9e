"""Ranking by meaning as well as words: vectors per segment, the switch, the fallbacks.

Real indexes on disk and the real packaged model throughout (search.embedding).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from index.indexer import index_paths
from search import hybrid
from search.embedding import article_text, load_embedder
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import INDEX_NAME, IndexFolder
from search.storage.manifest import Manifest
from search.vectors import EXT, GenerationVectors, SegmentVectors, quantise
from tests.conftest import DEMO_ARTICLES, article_search_command

pytestmark = pytest.mark.slow

WORDS_ONLY = {"semantic": False}


def _segment_ids(index_dir: Path) -> set[str]:
    with IndexFolder(index_dir).served().open().reader() as reader:
        return {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


def _check_every_row(index_dir: Path) -> int:
    """Every segment of the served generation has a vector per document, a live one's its
    stored text's embedding. Returns how many live documents were checked."""
    embedder = load_embedder()
    live = IndexFolder(index_dir).served()
    checked = 0
    with live.open().reader() as reader:
        for leaf, _ in reader.leaf_readers():
            path = live.generation.build / leaf.segment().make_filename(EXT)
            vectors = SegmentVectors.open(path)
            assert vectors.codes.shape == (leaf.doc_count_all(), 256)
            for docnum in range(leaf.doc_count_all()):
                row = vectors.codes[docnum].astype(np.float32) * vectors.scales[docnum]
                if leaf.is_deleted(docnum):  # kept its row; the undeleted mask leaves it out
                    continue
                stored = leaf.stored_fields(docnum)
                expected = embedder.embed([article_text(stored["title"], stored["body"])])[0]
                assert float(row @ expected) > 0.995  # int8 keeps the direction
                checked += 1
    return checked


# Texts that test where a text is cut into words: runs of spaces (Llama 2 has tokens for
# them), spaces at either end, other white space, accents and scripts the vocabulary lacks
# (byte tokens), a special token's text, nothing at all.
AWKWARD_TEXTS = [
    "",
    " ",
    "   ",
    "Prices  rose   3.2 %  in  March ",
    " leading and trailing  ",
    "line\nbreaks\tand\ttabs\r\n",
    "Café crème, naïve façade — “quoted” 日本語 Ελληνικά 🙂",
    "a <s> b </s> c <unk> d",
    "<s>",
    "x" * 3000,
    "word " * 400,
]


def test_vectors_are_wordllamas_own(archive):
    """The word-at-a-time tokenizing and summing (search.embedding) gives wordllama's own
    vectors: its inference class (padded batches) on the same weights and tokenizer."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    from search.embedding import TOKENIZER, WEIGHTS, TextEmbedder, _package

    texts = AWKWARD_TEXTS + [
        article_text(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(archive.iterdir())
    ]
    reference = WordLlamaInference(
        load_file(str(_package() / WEIGHTS))["embedding.weight"],
        Tokenizer.from_file(str(_package() / TOKENIZER)),
    )
    with np.errstate(invalid="ignore"):  # its division of a text with no tokens
        expected = np.nan_to_num(reference.embed(texts, norm=True, batch_size=8))
    ours = TextEmbedder.from_package(_package())
    assert len(texts) > 50 and (np.linalg.norm(expected, axis=1) == 0).sum() == 1
    for _ in range(2):  # its words' tokens remembered the second time
        np.testing.assert_allclose(ours.embed(texts), expected, atol=1e-6)
    one_by_one = np.array([ours.embed_query(text) for text in texts])
    np.testing.assert_allclose(one_by_one, expected, atol=1e-6)


@pytest.fixture()
def archive(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(DEMO_ARTICLES, folder)
    return folder


def test_each_segment_gets_its_vectors_listed_in_the_manifest(tmp_path, archive):
    index_dir = tmp_path / "index"
    report = index_paths(index_dir, [archive], procs=2)
    assert report.embedded == report.added == 40
    assert _check_every_row(index_dir) == 40
    live = IndexFolder(index_dir).served()
    manifest = Manifest.read(live.generation.build, INDEX_NAME, live.generation.number)
    vector_files = [name for name in manifest.files if name.endswith(EXT)]
    assert len(vector_files) == len(_segment_ids(index_dir)) >= 1
    # A run with nothing new embeds nothing and commits nothing.
    again = index_paths(index_dir, [archive], procs=1)
    assert again.embedded == 0 and IndexFolder(index_dir).served().generation == live.generation


def test_vectors_follow_deletions_updates_and_a_merge(tmp_path, archive):
    index_dir = tmp_path / "index"
    index_paths(index_dir, [archive], procs=1)
    files = sorted(archive.glob("*.txt"))
    files[0].unlink()  # deleted
    title, rest = files[1].read_text().split("\n", 1)
    files[1].write_text(f"{title}, revised\n{rest}")  # updated
    report = index_paths(index_dir, [archive], procs=1)
    assert (report.removed, report.updated) == (1, 1)  # the new one embedded in its commit
    assert _check_every_row(index_dir) == 39
    gone = SearchEngine(index_dir).search(SearchRequest(q=files[0].stem.replace("-", " ")))
    assert files[0].name not in {hit.id for hit in gone.hits}
    # Small incremental runs until the merge policy merges the small segments.
    before = _segment_ids(index_dir)
    for number in range(12):
        (archive / f"extra-{number}.txt").write_text(
            f"Extra report {number}\nBy [Desk](#)\nDemo Wire, May 1, 2024\n\n"
            f"Harbour pilots counted {number} ships waiting outside the port.\n"
        )
        index_paths(index_dir, [archive], procs=1)
    segments = _segment_ids(index_dir)
    assert len(segments) < 12 and segments - before  # merged into a new segment
    assert _check_every_row(index_dir) == 39 + 12
    build = IndexFolder(index_dir).served().generation.build
    on_disk = {path.name.removesuffix(EXT) for path in build.glob(f"*{EXT}")}
    assert segments <= on_disk  # the generation before may keep a few more


def test_an_index_without_vectors_searches_by_words_and_gets_them_next_run(tmp_path, archive):
    index_dir = tmp_path / "index"
    index_paths(index_dir, [archive], procs=1)
    served = IndexFolder(index_dir).served().generation
    build, number = served.build, served.number
    words_only = SearchEngine(index_dir, semantic=False).search(SearchRequest(q="heat pump"))
    # What the index served before vectors: the generation of the words' commit.
    for path in build.glob(f"*{EXT}"):
        path.unlink()
    for name in (f"_{INDEX_NAME}_{number}.toc", f"_{INDEX_NAME}_{number}.manifest"):
        (build / name).unlink()
    engine = SearchEngine(index_dir)
    assert not engine._generation(now=True).vectors.any
    answer = engine.search(SearchRequest(q="heat pump"))
    assert [h.id for h in answer.hits] == [h.id for h in words_only.hits]
    assert index_paths(index_dir, [archive], procs=1).embedded == 40
    assert _check_every_row(index_dir) == 40


def test_the_switch_per_search_and_for_the_service(demo_index, monkeypatch):
    engine, words_only = SearchEngine(demo_index), SearchEngine(demo_index, semantic=False)
    reordered = 0
    for query, _ in OTHER_WORDS:
        hybrid = engine.search(SearchRequest(q=query, per_page=100))
        words = engine.search(SearchRequest(q=query, per_page=100, **WORDS_ONLY))
        assert [h.id for h in words.hits] == [
            h.id for h in words_only.search(SearchRequest(q=query, per_page=100)).hits
        ]
        # Meaning re-orders what the words found: the same articles, total and facets.
        assert sorted(h.id for h in hybrid.hits) == sorted(h.id for h in words.hits)
        assert hybrid.total == words.total and hybrid.facets == words.facets
        scores = [h.score for h in hybrid.hits]
        assert scores == sorted(scores, reverse=True)  # the fused order's scores
        reordered += [h.id for h in hybrid.hits] != [h.id for h in words.hits]
    assert reordered >= 1
    query = OTHER_WORDS[0][0]
    monkeypatch.setenv("ARTICLE_SEARCH_SEMANTIC", "0")
    off = SearchEngine(demo_index).search(SearchRequest(q=query, per_page=100))
    assert off.hits == words_only.search(SearchRequest(q=query, per_page=100)).hits
    monkeypatch.delenv("ARTICLE_SEARCH_SEMANTIC")
    newest = engine.search(SearchRequest(q=query, sort="newest"))
    assert newest.hits == words_only.search(SearchRequest(q=query, sort="newest")).hits


def test_the_switch_over_http(client):
    query = OTHER_WORDS[0][0]
    on = client.get("/api/search", query_string={"q": query}).get_json()
    off = client.get("/api/search", query_string={"q": query, "semantic": "0"})
    assert off.status_code == 200
    assert [r["id"] for r in on["results"]] != [r["id"] for r in off.get_json()["results"]]
    bad = client.get("/api/search", query_string={"q": "pay", "semantic": "maybe"})
    assert bad.status_code == 400 and "semantic" in bad.get_json()["error"]["message"]
    page = client.get("/search", query_string={"q": "pay", "semantic": "0"}).get_data(True)
    assert 'name="semantic" value="0"' in page  # the form keeps the switch


def test_when_no_word_matches_the_nearest_in_meaning_answer(client, demo_index):
    query = "famine epidemic"  # neither word is in any demo article
    words = SearchEngine(demo_index).search(SearchRequest(q=query, **WORDS_ONLY))
    assert words.total == 0 and not words.meaning_only
    answer = client.get("/api/search", query_string={"q": query}).get_json()
    assert answer["meaning_only"] is True
    assert answer["total"] == len(answer["results"]) > 0
    ids = [r["id"] for r in answer["results"]]
    assert ids[0] in {"2023-10-24-dengue-vaccine-trial-results.txt"} | {
        "2020-02-11-malaria-vaccine-trial-enrolment.txt"
    }
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    assert 'id="meaning-only"' in page and "nearest to them in meaning" in page
    off = client.get("/api/search", query_string={"q": query, "semantic": "0"}).get_json()
    assert off["total"] == 0 and off["meaning_only"] is False
    # Filters still apply: a region no near article has leaves nothing.
    narrowed = client.get(
        "/api/search", query_string={"q": query, "region": "Antarctica"}
    ).get_json()
    assert narrowed["results"] == []


def test_related_articles_are_the_nearest_in_meaning(demo_index):
    grants = "2019-10-15-rural-households-heat-pump-grants.txt"
    related = SearchEngine(demo_index).related(grants)
    assert len(related) == 5 and grants not in {hit.id for hit in related}
    assert related[0].id == "2022-04-12-installers-heat-pump-boom.txt"
    scores = [hit.score for hit in related]
    assert scores == sorted(scores, reverse=True)


def test_without_the_model_search_works_as_before_with_one_log_line(tmp_path, demo_index):
    """A Python where the wordllama package has no model files: search by words only."""
    hollow = tmp_path / "site" / "wordllama"
    hollow.mkdir(parents=True)
    (hollow / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(hollow.parent)}
    command = [article_search_command(), "search", "farm workers pay", "--json"]
    command += ["--index", str(demo_index), "--limit", "10"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    words = SearchEngine(demo_index, semantic=False).search(
        SearchRequest(q="farm workers pay", per_page=10)
    )
    assert [r["id"] for r in json.loads(done.stdout)["results"]] == [h.id for h in words.hits]
    lines = [line for line in done.stderr.splitlines() if "embedding model" in line]
    assert len(lines) == 1 and "Ranking by words only" in lines[0]
    # And the indexer imports without vectors, as before.
    index_dir = tmp_path / "index"
    indexed = subprocess.run(
        [article_search_command(), "index", str(DEMO_ARTICLES), "--index", str(index_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert indexed.returncode == 0, indexed.stderr
    assert not list(IndexFolder(index_dir).served().generation.build.glob(f"*{EXT}"))


# Requests in other words than their article's (judged by reading the demo articles),
# as questions: meaning re-ranks queries of more than four words and questions.
OTHER_WORDS = (
    (
        "Why did dams run dry and industry stop?",
        "2022-08-09-hydropower-shortfall-factory-shutdowns.txt",
    ),
    (
        "Do server farms strain the electricity networks?",
        "2025-05-06-data-centres-power-demand-grid.txt",
    ),
    ("Why are boats stranded as the river shrinks?", "2019-01-22-rhine-low-water-barges.txt"),
    ("Why are the skies hazy every summer now?", "2023-09-12-wildfire-smoke-season-permanent.txt"),
    ("Who saved the migrants at sea?", "2021-06-08-rescue-ships-detained-paperwork.txt"),
    ("Is there a music event for ordinary people?", "2023-05-30-festival-for-the-rest-of-us.txt"),
    ("What fungus attacks the plantations?", "2021-03-04-coffee-leaf-rust-returns.txt"),
    ("Why do rising prices squeeze households?", "2023-03-21-central-banks-hold-their-nerve.txt"),
    (
        "Why do port workers protest against robots?",
        "2020-05-06-dockworkers-walk-out-automated-cranes.txt",
    ),
    (
        "How is seawater turned into drinking water?",
        "2023-01-17-gulf-desalination-plant-fishing-coast.txt",
    ),
)


def _reciprocal_rank(engine: SearchEngine, q: str, article: str, **options) -> float:
    ids = [hit.id for hit in engine.search(SearchRequest(q=q, per_page=10, **options)).hits]
    return 1 / (ids.index(article) + 1) if article in ids else 0.0


def test_requests_in_other_words_find_their_articles(demo_index):
    engine = SearchEngine(demo_index)
    hybrid = [_reciprocal_rank(engine, q, article) for q, article in OTHER_WORDS]
    words = [_reciprocal_rank(engine, q, article, **WORDS_ONLY) for q, article in OTHER_WORDS]
    assert all(rank >= 1 / 10 for rank in hybrid)  # each in the first ten
    assert all(h >= w for h, w in zip(hybrid, words, strict=True))  # never lower than words
    assert sum(hybrid) > sum(words)


def _two_subjects(per_subject: int = 10) -> tuple[np.ndarray, GenerationVectors]:
    """A query as like one subject as the other, and candidates about either: docnums
    0..per_subject - 1 about the first, the rest about the second (each row a subject's
    direction plus a little of its own)."""
    rows = np.zeros((2 * per_subject, 256), dtype=np.float32)
    for n in range(2 * per_subject):
        rows[n, n // per_subject] = 1.0
        rows[n, 2 + n] = 0.1
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    query = np.zeros(256, dtype=np.float32)
    query[:2] = np.sqrt(0.5)
    scales, codes = quantise(rows)
    return query, GenerationVectors([(0, len(rows), SegmentVectors(scales, codes))])


def test_a_chance_match_unlike_the_other_good_matches_moves_down(monkeypatch):
    query, vectors = _two_subjects()
    # The words rank the first subject's articles high, but one of the other subject's
    # second; meaning alone cannot tell them apart (the query is as like both).
    scores = np.array([10.0, *np.linspace(8.0, 7.0, 9), 9.0, *np.linspace(1.0, 0.1, 9)])
    chance = 10
    order = np.argsort(-scores, kind="stable")
    docnums, scores = np.arange(len(scores))[order], scores[order]
    monkeypatch.setattr(hybrid, "NEIGHBOUR_WEIGHT", 0.0)
    by_blend, _ = hybrid.rerank(query, vectors, docnums, scores)
    assert list(by_blend).index(chance) == 1
    monkeypatch.undo()
    ranked, blended = hybrid.rerank(query, vectors, docnums, scores)
    assert list(ranked[:10]) == list(range(10))  # every article of the first subject first
    assert list(ranked).index(chance) == 10
    assert np.all(np.diff(blended) <= 0)  # the scores given are the order's


def test_an_article_without_a_vector_neither_gives_nor_gets_support():
    _, vectors = _two_subjects(per_subject=3)
    rows = vectors.rows(np.arange(6))
    rows[0] = np.nan  # no vector yet
    scores = np.array([5.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    support = hybrid.neighbours_support(scores, rows)
    assert support[0] == 0
    # Fewer than NEIGHBOURS others have a vector: each one's neighbours are all of them.
    assert hybrid.NEIGHBOURS >= 4
    assert support[1:] == pytest.approx([0.25, 0.25, 0.5, 0.5, 0.5])
