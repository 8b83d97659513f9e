"""Concurrency: searches never fail nor see a half-built or empty index while the real
indexer re-indexes and rebuilds under them; a second indexer is turned away cleanly.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from traceback import format_exc

import pytest

from index.lock import indexer_lock
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder
from tests.conftest import article_search_command, cli
from tests.generated_corpus import REGIONS, THEMES, article_id, vocabulary, write_articles

pytestmark = pytest.mark.slow

PARAGRAPHS = (1, 2)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [article_search_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def indexed_ids(index_dir: Path) -> set[str]:
    ix, _ = IndexFolder(index_dir).open_served()
    with ix.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


class SearchLoop:
    """Threads searching one SearchEngine as fast as they can, counting what they see."""

    def __init__(self, index_dir: Path, threads: int = 2):
        self.engine = SearchEngine(index_dir, refresh_seconds=0.0)
        self.errors: list[str] = []
        self.browse_totals: Counter[int] = Counter()
        self.generations: set[str] = set()
        self.operations = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(threads)
        ]

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        words = vocabulary(20_000)
        while not self._stop.is_set():
            try:
                self._one(rng, words)
            except Exception as error:  # every failure is a finding, whatever its type
                self.errors.append(f"{type(error).__name__}: {error}\n{format_exc()}")
            self.operations += 1

    def _one(self, rng: random.Random, words: list[str]) -> None:
        engine = self.engine
        browse = engine.search(SearchRequest(sort=rng.choice(["newest", "oldest"])))
        self.browse_totals[browse.total] += 1
        self.generations.add(engine.stats().generation)
        q = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        result = engine.search(
            SearchRequest(
                q=q,
                filters={
                    "region": tuple(rng.sample(REGIONS, rng.randint(0, 2))),
                    "theme": tuple(rng.sample(THEMES, rng.randint(0, 1))),
                },
                page=rng.randint(1, 3),
            )
        )
        assert len(result.hits) <= result.total
        for hit in result.hits:
            for facet, values in (("region", hit.regions), ("theme", hit.themes)):
                chosen = result.request.selected(facet)
                assert not chosen or set(values) & set(chosen)
        for hit in result.hits[:2] + browse.hits[:1]:
            # The article may be gone in a newer generation; looking it up must not fail.
            engine.article(hit.id)
            engine.related(hit.id, limit=3)
        engine.suggest(rng.choice(words)[:3])

    def __enter__(self) -> SearchLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def test_searches_through_reindex_and_rebuild_never_fail_nor_see_an_empty_index(tmp_path):
    folder, index_dir = tmp_path / "import", tmp_path / "index"
    write_articles(folder, 1200, paragraphs=PARAGRAPHS)
    assert cli("index", str(folder), "--index", str(index_dir)).returncode == 0
    sizes = {1200}

    with SearchLoop(index_dir) as loop:
        time.sleep(0.5)
        # A re-index: 400 added, 200 deleted, 100 edited.
        write_articles(folder, 400, start=1200, paragraphs=PARAGRAPHS)
        for number in range(0, 200):
            (folder / article_id(number)).unlink()
        for number in range(200, 300):
            path = folder / article_id(number)
            path.write_text(path.read_text() + "\nEdited.\n")
        run = cli("index", str(folder), "--index", str(index_dir))
        assert run.returncode == 0, run.stderr
        sizes.add(1400)
        time.sleep(0.5)
        # A rebuild of a changed folder, then another re-index.
        write_articles(folder, 100, start=1600, paragraphs=PARAGRAPHS)
        run = cli("index", "--rebuild", str(folder), "--index", str(index_dir))
        assert run.returncode == 0, run.stderr
        sizes.add(1500)
        time.sleep(0.5)
        for number in range(300, 350):
            (folder / article_id(number)).unlink()
        run = cli("index", str(folder), "--index", str(index_dir))
        assert run.returncode == 0, run.stderr
        sizes.add(1450)
        time.sleep(1.0)

    assert loop.errors == [], "\n".join(loop.errors[:3])
    assert loop.operations > 20, "the search threads hardly ran"
    # Every browse saw a whole index: one of the finished runs' sizes, never 0 or between.
    assert set(loop.browse_totals) <= sizes, loop.browse_totals
    assert 1450 in loop.browse_totals, "the searches never reached the last generation"
    assert len(loop.generations) >= 4, loop.generations
    assert len(indexed_ids(index_dir)) == 1450


@pytest.fixture()
def big_folder(tmp_path):
    folder = tmp_path / "import"
    write_articles(folder, 800, paragraphs=PARAGRAPHS)
    return folder


@pytest.mark.parametrize("second", [(), ("--rebuild",)], ids=["incremental", "rebuild"])
def test_a_second_indexer_is_refused_with_a_clear_message(tmp_path, big_folder, second):
    index_dir = tmp_path / "index"
    first = start("index", "--rebuild", str(big_folder), "--index", str(index_dir))
    try:
        # Wait until the first holds the lock (it writes its pid into the lock file).
        deadline = time.monotonic() + 60
        lock_file = index_dir / "indexer.lock"
        while time.monotonic() < deadline and not (
            lock_file.exists() and lock_file.read_text().strip() == str(first.pid)
        ):
            time.sleep(0.02)
        refused = cli("index", *second, str(big_folder), "--index", str(index_dir), timeout=60)
        assert first.poll() is None, "the first indexer finished too soon for this test"
    finally:
        out, err = first.communicate(timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"article-search: another indexer is running on {index_dir} (pid {first.pid}); "
        "wait for it to finish, then run this again"
    )
    assert refused.stdout == ""
    assert first.returncode == 0, err
    assert indexed_ids(index_dir) == {article_id(n) for n in range(800)}
    with indexer_lock(index_dir):  # free again
        pass


def test_indexers_started_at_the_same_moment_one_runs_the_others_are_refused(tmp_path):
    folder = tmp_path / "import"
    write_articles(folder, 200, paragraphs=PARAGRAPHS)
    index_dir = tmp_path / "index"
    runs = [start("index", str(folder), "--index", str(index_dir)) for _ in range(4)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    codes = {code for code, _, _ in results}
    assert 0 in codes and codes <= {0, 2}, results
    for code, _, err in results:
        assert code == 0 or "another indexer is running" in err
        assert "Traceback" not in err
    assert indexed_ids(index_dir) == {article_id(n) for n in range(200)}
    again = cli("index", str(folder), "--index", str(index_dir))
    assert again.returncode == 0 and "added 0, updated 0, removed 0" in again.stdout
