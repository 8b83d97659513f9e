"""Crashes lose nothing: the real indexer, SIGKILLed at random moments, never leaves a
broken, half-written or empty index, nor a process or lock behind.

Each trial changes the import folder (articles added, edited, deleted), starts
``article-search index`` (or ``--rebuild``) as a subprocess and kills it with SIGKILL
at a random moment of a run of a few seconds. The index must then open and hold
exactly the articles of the last run that finished (the killed run's articles only if
it had committed), no process of the killed indexer may survive, and the folder must
not stay locked. Runs that finish are the "re-run completes" half of the check.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from index.lock import indexer_lock
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import open_live_index
from tests.generated_corpus import article_id, write_articles
from tests.test_reliability_concurrency import SearchLoop

ARTICLE_SEARCH = str(Path(sys.executable).parent / "article-search")
BASE_ARTICLES = 800
BATCH = 160  # articles added, and as many deleted, before each incremental trial
INCREMENTAL_KILLS = 16
REBUILD_KILLS = 6
PARAGRAPHS = (1, 2)  # short articles, like wire stories: many of them per second


class Corpus:
    """The import folder and the ids of the articles in it."""

    def __init__(self, folder: Path, rng: random.Random):
        self.folder = folder
        self.rng = rng
        self.numbers: set[int] = set()
        self.next_number = 0
        self.edits = 0

    def add(self, count: int) -> None:
        start = self.next_number
        write_articles(self.folder, count, start=start, paragraphs=PARAGRAPHS)
        self.numbers |= set(range(start, start + count))
        self.next_number += count

    def delete(self, count: int) -> None:
        for number in self.rng.sample(sorted(self.numbers), count):
            (self.folder / article_id(number)).unlink()
            self.numbers.discard(number)

    def edit(self, count: int) -> None:
        for number in self.rng.sample(sorted(self.numbers), count):
            path = self.folder / article_id(number)
            self.edits += 1
            path.write_text(path.read_text() + f"\nEdited {self.edits} times.\n")

    def ids(self) -> set[str]:
        return {article_id(n) for n in self.numbers}


def indexed_ids(index_dir: Path) -> set[str]:
    ix, _ = open_live_index(index_dir)
    with ix.searcher() as searcher:
        ids = [fields["id"] for fields in searcher.all_stored_fields()]
        assert len(ids) == len(set(ids)) == searcher.doc_count()
    return set(ids)


def run_indexer(index_dir: Path, folder: Path, *extra: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [ARTICLE_SEARCH, "index", str(folder), "--index", str(index_dir), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line mentions ``text`` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_until_gone(index_dir: Path, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_mentioning(str(index_dir))) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def complete_run(index_dir: Path, folder: Path, *extra: str, log: Path) -> float:
    started = time.monotonic()
    process = run_indexer(index_dir, folder, *extra, log=log)
    assert process.wait(timeout=300) == 0, log.read_text()
    return time.monotonic() - started


def kill_trial(index_dir, corpus, before, extra, expected_seconds, rng, log, outcomes, seed):
    """One killed run: returns whether the kill hit a running indexer."""
    after = corpus.ids()
    # Half the kills anywhere in the run, half near its end, where commit and swap are.
    if rng.random() < 0.5:
        delay = rng.uniform(0.0, expected_seconds)
    else:
        delay = rng.uniform(0.7, 1.1) * expected_seconds
    process = run_indexer(index_dir, corpus.folder, *extra, log=log)
    try:
        process.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        killed = True
    kind = " ".join(extra) or "incremental"
    context = f"seed {seed}, {kind}, kill after {delay:.2f} s: {log.read_text()}"
    if not killed:
        assert process.returncode == 0, context

    assert not wait_until_gone(index_dir), f"indexer processes outlived the kill; {context}"
    with indexer_lock(index_dir):  # not left locked: this would raise IndexLockedError
        pass
    found = indexed_ids(index_dir)
    if not killed:
        assert found == after, context
        outcomes["finished"] += 1
    elif found == after and after != before:
        outcomes["killed after commit"] += 1
    else:
        assert found == before, (
            f"{len(found - before)} unexpected, {len(before - found)} missing; {context}"
        )
        outcomes["killed before commit"] += 1
    total = SearchEngine(index_dir).search(SearchRequest()).total
    assert total == len(found), context
    return killed


def test_sigkill_at_random_moments_never_loses_or_corrupts(tmp_path):
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    index_dir = tmp_path / "index"
    corpus = Corpus(tmp_path / "import", rng)
    log = tmp_path / "indexer.log"
    corpus.add(BASE_ARTICLES)
    complete_run(index_dir, corpus.folder, log=log)
    assert indexed_ids(index_dir) == corpus.ids()
    corpus.add(BATCH)
    corpus.delete(BATCH)
    seconds = complete_run(index_dir, corpus.folder, log=log)  # how long a trial's run takes
    assert indexed_ids(index_dir) == corpus.ids()
    outcomes = {"finished": 0, "killed before commit": 0, "killed after commit": 0}

    # Incremental runs: a batch added, a batch deleted, some edited, each time.
    kills = attempts = 0
    while kills < INCREMENTAL_KILLS:
        attempts += 1
        assert attempts < 3 * INCREMENTAL_KILLS, f"too few kills landed; seed {seed}"
        before = indexed_ids(index_dir)
        corpus.add(BATCH)
        corpus.delete(BATCH)
        corpus.edit(30)
        kills += kill_trial(index_dir, corpus, before, (), seconds, rng, log, outcomes, seed)
        if attempts % 5 == 0:  # now and then a re-run to the end, timed for the next kills
            seconds = complete_run(index_dir, corpus.folder, log=log)
            assert indexed_ids(index_dir) == corpus.ids(), f"seed {seed}"

    # The re-run after the last kill completes to exactly the folder's articles.
    complete_run(index_dir, corpus.folder, log=log)
    assert indexed_ids(index_dir) == corpus.ids()

    # Rebuilds (with the default worker processes): the live index is untouched by a
    # killed one, and the next one completes.
    corpus.add(BATCH // 3)
    corpus.delete(BATCH // 3)
    seconds = complete_run(index_dir, corpus.folder, "--rebuild", log=log)
    assert indexed_ids(index_dir) == corpus.ids()
    kills = attempts = 0
    with SearchLoop(index_dir, threads=1) as searches:  # the live index, throughout
        while kills < REBUILD_KILLS:
            attempts += 1
            assert attempts < 3 * REBUILD_KILLS, f"too few kills landed; seed {seed}"
            before = indexed_ids(index_dir)
            corpus.add(BATCH // 3)
            corpus.delete(BATCH // 3)
            kills += kill_trial(
                index_dir, corpus, before, ("--rebuild",), seconds, rng, log, outcomes, seed
            )
    assert searches.errors == [], searches.errors[:3]
    assert searches.operations > 0 and 0 not in searches.browse_totals
    complete_run(index_dir, corpus.folder, "--rebuild", log=log)
    assert indexed_ids(index_dir) == corpus.ids()
    builds = sorted(p.name for p in (index_dir / "builds").iterdir())
    assert len(builds) <= 2, builds  # the live build and at most the one before it
    print(f"\nSIGKILL trials (seed {seed}): {outcomes}", file=sys.stderr)


def test_a_rebuild_whose_worker_processes_die_is_thrown_away_not_swapped_in(
    tmp_path, monkeypatch, capsys
):
    """Whoosh's writer commits whatever its subprocesses returned, even nothing: an
    indexing process that crashes, or is killed by the OOM killer, must not make an
    incomplete (or empty) index live."""
    from index.cli import main
    from index.segment_writer import ArticleSubWriterTask

    folder, index_dir = tmp_path / "import", tmp_path / "index"
    write_articles(folder, 400, paragraphs=PARAGRAPHS)
    assert main(["index", str(folder), "--index", str(index_dir), "--procs", "1"]) == 0
    live = (index_dir / "current").resolve()
    capsys.readouterr()

    monkeypatch.setattr(ArticleSubWriterTask, "run", lambda self: os._exit(9))  # dies in the child
    status = main(["index", "--rebuild", str(folder), "--index", str(index_dir), "--procs", "2"])

    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("article-search: the new index came out with ")
    assert err.rstrip().endswith(
        "of the 400 articles written; it was thrown away and the live index left as it was"
    )
    assert (index_dir / "current").resolve() == live
    assert [p for p in (index_dir / "builds").iterdir()] == [live]
    assert indexed_ids(index_dir) == {article_id(n) for n in range(400)}
