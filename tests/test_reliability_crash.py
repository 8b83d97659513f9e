"""Crashes lose nothing: the real indexer, SIGKILLed at random moments, never leaves a
broken, half-written or empty index, nor a process or lock behind.

Each trial changes the import folder (articles added, edited, deleted), starts
``article-search index`` (or ``--rebuild``) as a subprocess and kills it with SIGKILL
when it reaches a stage of its run, watched in the index folder (not timed: a loaded
machine stretches a run tenfold), a few milliseconds later or sooner at random. The
index must then open and hold exactly the articles of the last run that finished (the
killed run's articles only if it had committed), no process of the killed indexer may
survive, and the folder must not stay locked. Kills must land on both sides of the
commit. Runs that finish are the "re-run completes" half of the check.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.harness import children
from index.lock import indexer_lock
from search.engine import SearchEngine
from search.results import SearchRequest
from search.storage.index_folder import IndexFolder
from search.storage.run_record import RUN_RECORD_FILE
from tests.conftest import article_search_command
from tests.generated_corpus import article_id, write_articles
from tests.test_reliability_concurrency import SearchLoop

pytestmark = pytest.mark.slow

# Killed at a stage, not at a time, a run needs no length: a small corpus will do.
BASE_ARTICLES = 400
BATCH = 80  # articles added, and as many deleted, before each incremental trial
INCREMENTAL_KILLS = 8
REBUILD_KILLS = 4
PARAGRAPHS = (1, 2)  # short articles, like wire stories: many of them per second
# Where a run is killed, in the order it gets there (see run_stage). Each trial kills at
# the next stage of a shuffled round of them, so every stage is tried in every round.
STAGES = ("reading", "writing", "committing", "live")
JITTER_SECONDS = 0.05  # a kill lands up to this long after its stage is seen
# Each phase's trials stop after this long even if fewer kills landed (a loaded machine),
# once kills have landed on both sides of the commit.
TRIAL_SECONDS = 60
POLL_SECONDS = 0.002


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
    ix, _ = IndexFolder(index_dir).open_served()
    with ix.searcher() as searcher:
        ids = [fields["id"] for fields in searcher.all_stored_fields()]
        assert len(ids) == len(set(ids)) == searcher.doc_count()
    return set(ids)


def run_indexer(index_dir: Path, folder: Path, *extra: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [article_search_command(), "index", str(folder), "--index", str(index_dir), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def build_files(index_dir: Path) -> set[str]:
    """Every file of every build in the index folder, as ``build/name``."""
    builds = index_dir / "builds"
    found = set()
    for build in builds.iterdir() if builds.is_dir() else ():
        with contextlib.suppress(FileNotFoundError):  # a killed rebuild's, being removed
            found.update(f"{build.name}/{name}" for name in os.listdir(build))
    return found


def live_link(index_dir: Path) -> str | None:
    with contextlib.suppress(FileNotFoundError):
        return os.readlink(index_dir / "current")
    return None


def run_stage(index_dir: Path, pid: int, files_before: set[str], link_before: str | None) -> int:
    """How far the run of process ``pid`` has got, as an index into STAGES (-1: not begun).

    reading: its run record is written (it holds the folder and reads the articles);
    writing: a file in a build; committing: a generation's manifest (written before its
    TOC, search/manifest.py); live: a new TOC in the live build, or the live build swapped
    (a rebuild).
    """
    if live_link(index_dir) != link_before:
        return 3
    new = build_files(index_dir) - files_before
    live = f"{link_before.rsplit('/', 1)[-1]}/" if link_before else None
    if live and any(name.startswith(live) and name.endswith(".toc") for name in new):
        return 3
    if any(name.endswith(".manifest") for name in new):
        return 2
    if new:
        return 1
    with contextlib.suppress(FileNotFoundError, ValueError):
        if json.loads((index_dir / RUN_RECORD_FILE).read_bytes()).get("pid") == pid:
            return 0
    return -1


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


def kill_trial(index_dir, corpus, before, extra, stage, rng, log, outcomes, seed):
    """One run, killed when it reaches ``stage`` (unless it ends first), then checked."""
    after = corpus.ids()
    seen_before = build_files(index_dir), live_link(index_dir)
    target = STAGES.index(stage)
    delay = rng.uniform(0.0, JITTER_SECONDS)
    process = run_indexer(index_dir, corpus.folder, *extra, log=log)
    deadline = time.monotonic() + 300
    while process.poll() is None and run_stage(index_dir, process.pid, *seen_before) < target:
        assert time.monotonic() < deadline, f"the indexer hangs; seed {seed}: {log.read_text()}"
        time.sleep(POLL_SECONDS)
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    kind = " ".join(extra) or "incremental"
    context = f"seed {seed}, {kind}, kill at {stage} + {delay:.3f} s: {log.read_text()}"
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


def stage_rounds(rng: random.Random):
    """The stage each trial kills at: every stage once per round, in a shuffled order."""
    while True:
        yield from rng.sample(STAGES, len(STAGES))


def both_sides_hit(outcomes: dict) -> bool:
    return outcomes["killed before commit"] > 0 and outcomes["killed after commit"] > 0


def trials_until(kills: int, outcomes: dict):
    """Yields True while another trial is due: until ``kills`` kills have landed, or
    TRIAL_SECONDS have passed once both sides of the commit were hit; at most four
    rounds of stages."""
    deadline = time.monotonic() + TRIAL_SECONDS
    for _ in range(4 * kills):
        landed = outcomes["killed before commit"] + outcomes["killed after commit"]
        if both_sides_hit(outcomes) and (landed >= kills or time.monotonic() > deadline):
            break
        yield True
    yield False


def test_sigkill_at_every_stage_of_a_run_never_loses_or_corrupts(tmp_path):
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    index_dir = tmp_path / "index"
    corpus = Corpus(tmp_path / "import", rng)
    log = tmp_path / "indexer.log"
    corpus.add(BASE_ARTICLES)
    complete_run(index_dir, corpus.folder, log=log)
    assert indexed_ids(index_dir) == corpus.ids()
    outcomes = {
        kind: {"finished": 0, "killed before commit": 0, "killed after commit": 0}
        for kind in ("incremental", "--rebuild")
    }
    stages = stage_rounds(rng)

    # Incremental runs: a batch added, a batch deleted, some edited, each time.
    trials = trials_until(INCREMENTAL_KILLS, outcomes["incremental"])
    while next(trials):
        before = indexed_ids(index_dir)
        corpus.add(BATCH)
        corpus.delete(BATCH)
        corpus.edit(30)
        kill_trial(
            index_dir, corpus, before, (), next(stages), rng, log, outcomes["incremental"], seed
        )
    assert both_sides_hit(outcomes["incremental"]), f"seed {seed}: {outcomes}"

    # The re-run after the last kill completes to exactly the folder's articles.
    complete_run(index_dir, corpus.folder, log=log)
    assert indexed_ids(index_dir) == corpus.ids()

    # Rebuilds (with the default worker processes): the live index is untouched by a
    # killed one, and the next one completes.
    trials = trials_until(REBUILD_KILLS, outcomes["--rebuild"])
    with SearchLoop(index_dir, threads=1) as searches:  # the live index, throughout
        while next(trials):
            before = indexed_ids(index_dir)
            corpus.add(BATCH // 3)
            corpus.delete(BATCH // 3)
            kill_trial(
                *(index_dir, corpus, before, ("--rebuild",), next(stages), rng, log),
                *(outcomes["--rebuild"], seed),
            )
    assert both_sides_hit(outcomes["--rebuild"]), f"seed {seed}: {outcomes}"
    assert searches.errors == [], searches.errors[:3]
    assert searches.operations > 0 and 0 not in searches.browse_totals
    complete_run(index_dir, corpus.folder, "--rebuild", log=log)
    assert indexed_ids(index_dir) == corpus.ids()
    builds = sorted(p.name for p in (index_dir / "builds").iterdir())
    assert len(builds) <= 2, builds  # the live build and at most the one before it
    print(f"\nSIGKILL trials (seed {seed}): {outcomes}", file=sys.stderr)


def forked_children(pid: int) -> list[int]:
    """The processes ``pid`` forked that run its own program (not a command it ran)."""
    with contextlib.suppress(OSError):
        program = Path(f"/proc/{pid}/cmdline").read_bytes()
        found = []
        for child in children(pid):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{child}/cmdline").read_bytes() == program:
                    found.append(child)
        return found
    return []


def test_a_rebuild_whose_worker_processes_die_is_thrown_away_not_swapped_in(tmp_path):
    """Whoosh's writer commits whatever its subprocesses returned, even nothing: an
    indexing process that crashes, or is killed by the OOM killer, must not make an
    incomplete (or empty) index live.

    The real rebuild's two indexing processes are SIGKILLed together once both have
    started (one killed alone while it held the job queue's lock would leave the
    other waiting for it)."""
    folder, index_dir = tmp_path / "import", tmp_path / "index"
    write_articles(folder, 400, paragraphs=PARAGRAPHS)
    complete_run(index_dir, folder, "--procs", "1", log=tmp_path / "first.log")
    live = (index_dir / "current").resolve()

    log = tmp_path / "rebuild.log"
    indexer = run_indexer(index_dir, folder, "--rebuild", "--procs", "2", log=log)
    deadline = time.monotonic() + TRIAL_SECONDS
    while len(workers := forked_children(indexer.pid)) < 2:
        assert indexer.poll() is None, f"the rebuild ended first: {log.read_text()}"
        assert time.monotonic() < deadline, "the rebuild never started its two processes"
        time.sleep(POLL_SECONDS)
    for worker in workers:
        os.kill(worker, signal.SIGKILL)

    assert indexer.wait(timeout=300) == 2, log.read_text()
    err = log.read_text()
    assert "article-search: the new index came out with " in err
    assert err.rstrip().endswith(
        "of the 400 articles written; it was thrown away and the live index left as it was"
    )
    assert (index_dir / "current").resolve() == live
    assert [p for p in (index_dir / "builds").iterdir()] == [live]
    assert indexed_ids(index_dir) == {article_id(n) for n in range(400)}
    assert wait_until_gone(index_dir) == []
