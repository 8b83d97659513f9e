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
- keystroke latency over HTTP (every state, typos included): p50/p95/p99.

Usage: ``python bench/keystrokes.py [--corpus articles.jsonl] [--queries FILE] [--index DIR]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:0] = [str(ROOT), str(BENCH_DIR)]

from corpus import REUTERS  # noqa: E402
from fts5_baseline import Fts5Search, build  # noqa: E402

from bench import free_port, percentiles, start_server, stop_server  # noqa: E402

QUERY_LOG = BENCH_DIR / "typing_queries.txt"
MIN_CUT = 3
TYPO_LETTERS = 5
TOP = 10


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


class Http:
    """GET /api/search on one kept-alive connection; each request timed."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.latencies: list[float] = []

    def top(self, q: str) -> tuple[list[str], int]:
        started = time.perf_counter()
        self.connection.request("GET", "/api/search?" + urlencode({"q": q}))
        response = self.connection.getresponse()
        body = response.read()
        self.latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{response.status} for {q!r}: {body[:200]!r}")
        data = json.loads(body)
        return [hit["id"] for hit in data["results"][:TOP]], data["total"]


class Fts5:
    def __init__(self, db: Path):
        self.search = Fts5Search(db)

    def top(self, q: str) -> tuple[list[str], int]:
        data = self.search.search(urlencode({"q": q}), prefix_last=True)
        return [hit["id"] for hit in data["results"][:TOP]], data["total"]


def overlap(shown: list[str], wanted: list[str]) -> float | None:
    return len(set(shown) & set(wanted)) / len(wanted) if wanted else None


def measure(system, pairs: list[tuple[str, str]]) -> dict:
    """Mean overlap of each pair's first top 10 with its second's, and the share of empties."""
    overlaps, empty = [], 0
    for asked, wanted in pairs:
        wanted_top, _ = system.top(wanted)
        shown, total = system.top(asked)
        if wanted_top:
            overlaps.append(overlap(shown, wanted_top))
            empty += total == 0
    return {
        "overlap": statistics.fmean(overlaps) if overlaps else 0.0,
        "empty_share": empty / len(overlaps) if overlaps else 0.0,
        "states": len(overlaps),
    }


def index_corpus(corpus: Path, index_dir: Path) -> None:
    from index.indexer import index_paths

    if not (index_dir / "current").exists():
        index_paths(index_dir, [corpus])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="a JSON Lines corpus")
    parser.add_argument("--queries", type=Path, default=QUERY_LOG, help="the searches typed")
    parser.add_argument("--index", type=Path, help="an index of the corpus (else one is built)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    queries = read_queries(args.queries)
    states = [pair for query in queries for pair in mid_word_states(query)]
    typos = [pair for query in queries for pair in typo_variants(query)]
    with tempfile.TemporaryDirectory(prefix="typing-bench-") as work:
        work = Path(work)
        index_dir = args.index or work / "index"
        index_corpus(args.corpus, index_dir)
        build(args.corpus, work / "fts5.db")
        port = free_port()
        command = [sys.executable, "-m", "index.cli", "serve", "--index", str(index_dir)]
        command += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
        server, _ = start_server(command, dict(os.environ), port)
        try:
            ours = Http(port)
            for query in queries[:5]:
                ours.top(query)  # each worker's first search opens its vocabulary
            ours.latencies.clear()
            results = {
                "article-search": {"typing": measure(ours, states), "typos": measure(ours, typos)},
            }
            keystrokes = percentiles(ours.latencies)
        finally:
            stop_server(server)
        fts5 = Fts5(work / "fts5.db")
        results["FTS5 prefix"] = {"typing": measure(fts5, states), "typos": measure(fts5, typos)}
    print(f"{len(queries)} searches: {len(states)} mid-word states, {len(typos)} typo queries")
    print(f"{'figure':<44}{'article-search':>16}{'FTS5 prefix':>14}")
    rows = [
        ("mid-word overlap with the finished word's top 10", "typing", "overlap"),
        ("mid-word states with no article", "typing", "empty_share"),
        ("typo overlap with the right spelling's top 10", "typos", "overlap"),
        ("typo queries with no article", "typos", "empty_share"),
    ]
    for label, kind, key in rows:
        figures = [results[name][kind][key] for name in ("article-search", "FTS5 prefix")]
        print(f"{label:<44}" + "".join(f"{value:>16.3f}" for value in figures))
    print(
        "keystroke latency over HTTP ({} workers): p50 {p50_ms:.1f} / p95 {p95_ms:.1f} / "
        "p99 {p99_ms:.1f} ms".format(args.workers, **keystrokes)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
