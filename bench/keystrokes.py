"""How search behaves while the reader types, beside an SQLite FTS5 prefix-query baseline.

Each search of a query log (bench/typing_queries.txt by default) is typed
letter by letter. The states measured are those where a word is cut after
three or more of its letters (and before its end); each is asked of
``/api/search`` on a real ``article-search serve`` (2 workers), and of the
FTS5 baseline with the last word as a prefix query (``"pre" *``), in the
same run:

- mid-word overlap: the share of the finished word's top 10 (the query up to
  that word, with a space after it) already shown at the state;
- the share of mid-word states answered with no article at all;
- typo overlap: each word of 5+ letters mistyped three ways (two neighbouring
  letters swapped, a letter dropped, a letter doubled), the share of the right
  spelling's top 10 found;
- the share of typo queries answered with no article;
- latency over HTTP, p50/p95/p99: of the keystroke states, of the typo queries
  and of the whole queries (each word finished, a space after it), beside
  FTS5's in the same run (in process: no HTTP in its figures);
- the server's start to its first answer, and each worker's memory.

``--size N`` grows the corpus into the scale corpus of bench/corpus.py (as
``bench/bench.py --size`` does) and indexes it with ``article-search index``
(kept under ``--work`` for the next run). Latencies are of the first pass
over the log: each state is asked once, as a reader types it.

Usage: ``python bench/keystrokes.py [--corpus articles.jsonl] [--size N] [--queries FILE]
[--index DIR] [--work DIR]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:0] = [str(ROOT), str(BENCH_DIR)]

from corpus import REUTERS, write_corpus  # noqa: E402
from fts5_baseline import Fts5Search, build  # noqa: E402

from bench import (  # noqa: E402
    TreeMemory,
    free_port,
    percentiles,
    start_server,
    stop_server,
)

QUERY_LOG = BENCH_DIR / "typing_queries.txt"
MIN_CUT = 3
TYPO_LETTERS = 5
TOP = 10
OVERLAPS = [
    ("mid-word overlap with the finished word's top 10", "typing", "overlap"),
    ("mid-word states with no article", "typing", "empty_share"),
    ("typo overlap with the right spelling's top 10", "typos", "overlap"),
    ("typo queries with no article", "typos", "empty_share"),
]
# The latencies printed: the states typed, the typo queries, the finished words' queries.
LATENCIES = {"keystroke": "keystroke", "typo": "typo query", "whole": "whole query"}


def read_queries(path: Path) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def mid_word_states(query: str) -> list[tuple[str, str]]:
    """(state, finished): each cut of a word after MIN_CUT+ letters, and that word finished."""
    words = query.split()
    states = []
    for number, word in enumerate(words):
        before = " ".join(words[:number] + [""])
        for cut in range(MIN_CUT, len(word)):
            states.append((before + word[:cut], before + word + " "))
    return states


def typo_variants(query: str) -> list[tuple[str, str]]:
    """(mistyped, right): each word of TYPO_LETTERS+ letters swapped, dropped, doubled."""
    words = query.split()
    found = []
    for number, word in enumerate(words):
        if len(word) < TYPO_LETTERS:
            continue
        middle = len(word) // 2
        mistakes = {
            word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :],  # swap
            word[:middle] + word[middle + 1 :],  # drop
            word[:middle] + word[middle] + word[middle:],  # double
        }
        for mistake in sorted(mistakes - {word}):
            found.append((" ".join(words[:number] + [mistake] + words[number + 1 :]), query))
    return found


class Timed:
    """A system asked for its top 10; each answer's time kept by kind of query."""

    def __init__(self):
        self.latencies: dict[str, list[float]] = {}

    def top(self, q: str, kind: str) -> tuple[list[str], int]:
        started = time.perf_counter()
        data = self.search(q)
        self.latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        return [hit["id"] for hit in data["results"][:TOP]], data["total"]


class Http(Timed):
    """GET /api/search on one kept-alive connection."""

    def __init__(self, port: int):
        super().__init__()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def search(self, q: str) -> dict:
        self.connection.request("GET", "/api/search?" + urlencode({"q": q}))
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status} for {q!r}: {body[:200]!r}")
        return json.loads(body)


class Fts5(Timed):
    def __init__(self, db: Path):
        super().__init__()
        self.searcher = Fts5Search(db)

    def search(self, q: str) -> dict:
        return self.searcher.search(urlencode({"q": q}), prefix_last=True)


def overlap(shown: list[str], wanted: list[str]) -> float | None:
    return len(set(shown) & set(wanted)) / len(wanted) if wanted else None


def measure(system: Timed, pairs: list[tuple[str, str]], kind: str, wanted_kind: str) -> dict:
    """Mean overlap of each pair's first top 10 with its second's, and the share of empties.

    The first of a pair is timed as ``kind``, the second as ``wanted_kind``.
    """
    overlaps, empty = [], 0
    for asked, wanted in pairs:
        wanted_top, _ = system.top(wanted, wanted_kind)
        shown, total = system.top(asked, kind)
        if wanted_top:
            overlaps.append(overlap(shown, wanted_top))
            empty += total == 0
    return {
        "overlap": statistics.fmean(overlaps) if overlaps else 0.0,
        "empty_share": empty / len(overlaps) if overlaps else 0.0,
        "states": len(overlaps),
    }


def index_corpus(corpus: Path, index_dir: Path) -> None:
    """Index ``corpus`` into ``index_dir`` with ``article-search index``, unless done before."""
    if not (index_dir / "current").exists():
        command = [sys.executable, "-m", "index.cli", "index", str(corpus)]
        subprocess.run(command + ["--index", str(index_dir)], check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="a JSON Lines corpus")
    parser.add_argument("--size", type=int, help="grow the corpus to N articles")
    parser.add_argument("--queries", type=Path, default=QUERY_LOG, help="the searches typed")
    parser.add_argument("--index", type=Path, help="an index of the corpus (else one is built)")
    parser.add_argument("--work", type=Path, help="keeps the corpus, index and FTS5 database")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--no-baseline", action="store_true", help="leave FTS5 out")
    args = parser.parse_args(argv)
    queries = read_queries(args.queries)
    states = [pair for query in queries for pair in mid_word_states(query)]
    typos = [pair for query in queries for pair in typo_variants(query)]
    systems: dict[str, Timed] = {}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="typing-bench-") as scratch:
        work = (args.work or Path(scratch)).absolute()
        work.mkdir(parents=True, exist_ok=True)
        corpus = args.corpus
        if args.size:
            corpus = write_corpus(corpus, args.size, work / f"corpus-{args.size}.jsonl")
        index_dir = args.index or work / "index"
        index_corpus(corpus, index_dir)
        port = free_port()
        command = [sys.executable, "-m", "index.cli", "serve", "--index", str(index_dir)]
        command += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
        load_before = os.getloadavg()[0]
        server, start_seconds = start_server(command, dict(os.environ), port)
        memory = TreeMemory(server.pid)
        try:
            ours = systems["article-search"] = Http(port)
            for query in queries[:5]:
                ours.top(query, "warm-up")  # each worker's first search opens its vocabulary
            results["article-search"] = {
                "typing": measure(ours, states, "keystroke", "whole"),
                "typos": measure(ours, typos, "typo", "typo-right"),
            }
        finally:
            worker_mb = memory.largest_descendant
            memory.stop()
            stop_server(server)
        if not args.no_baseline:
            fts5_db = work / "fts5.db"
            if not fts5_db.exists():
                build(corpus, fts5_db)
            fts5 = systems["FTS5 prefix"] = Fts5(fts5_db)
            results["FTS5 prefix"] = {
                "typing": measure(fts5, states, "keystroke", "whole"),
                "typos": measure(fts5, typos, "typo", "typo-right"),
            }
    load_after = os.getloadavg()[0]
    print(f"{len(queries)} searches: {len(states)} mid-word states, {len(typos)} typo queries")
    print(f"{'figure':<50}" + "".join(f"{name:>26}" for name in systems))
    for label, kind, key in OVERLAPS:
        print(f"{label:<50}" + "".join(f"{results[n][kind][key]:>26.3f}" for n in systems))
    for kind, label in LATENCIES.items():
        figures = [percentiles(system.latencies[kind]) for system in systems.values()]
        cells = ["{p50_ms:.1f} / {p95_ms:.1f} / {p99_ms:.1f}".format(**f) for f in figures]
        print(f"{label + ' p50 / p95 / p99 (ms)':<50}" + "".join(f"{c:>26}" for c in cells))
    print(f"article-search over HTTP ({args.workers} workers), FTS5 in process")
    print(f"serve start to first answer: {start_seconds:.1f} s; largest worker: {worker_mb:.0f} MB")
    print(f"load average before / after: {load_before:.1f} / {load_after:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
