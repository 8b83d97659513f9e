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
import os
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from corpus import REUTERS, write_corpus
from fts5_baseline import Fts5Search, build
from harness import HttpSearches, Server, TimedSearches, TreeMemory, index_corpus, percentiles
from query_logs import TYPING_LOG, mid_word_states, read_query_log, typo_variants

OVERLAPS = [
    ("mid-word overlap with the finished word's top 10", "typing", "overlap"),
    ("mid-word states with no article", "typing", "empty_share"),
    ("typo overlap with the right spelling's top 10", "typos", "overlap"),
    ("typo queries with no article", "typos", "empty_share"),
]
# A keystroke state is asked as the search page asks it while the reader types: without
# facet counts and the timeline (they follow once the reader pauses; FTS5 skips them too).
KEYSTROKE = {"counts": "0"}
# The latencies printed: the states typed, the typo queries, the finished words' queries.
LATENCIES = {"keystroke": "keystroke", "typo": "typo query", "whole": "whole query"}


class Fts5(TimedSearches):
    def __init__(self, db: Path):
        super().__init__()
        self.searcher = Fts5Search(db)

    def search(self, q: str, **params: str) -> dict:
        return self.searcher.search(urlencode({"q": q, **params}), prefix_last=True)


def overlap(shown: list[str], wanted: list[str]) -> float | None:
    return len(set(shown) & set(wanted)) / len(wanted) if wanted else None


def measure(
    system: TimedSearches,
    pairs: list[tuple[str, str]],
    kind: str,
    wanted_kind: str,
    **params: str,
) -> dict:
    """Mean overlap of each pair's first top 10 with its second's, and the share of empties.

    The first of a pair is timed as ``kind`` (asked with ``params``), the second as
    ``wanted_kind``.
    """
    overlaps, empty = [], 0
    for asked, wanted in pairs:
        wanted_top, _ = system.top(wanted, wanted_kind)
        shown, total = system.top(asked, kind, **params)
        if wanted_top:
            overlaps.append(overlap(shown, wanted_top))
            empty += total == 0
    return {
        "overlap": statistics.fmean(overlaps) if overlaps else 0.0,
        "empty_share": empty / len(overlaps) if overlaps else 0.0,
        "states": len(overlaps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REUTERS, help="a JSON Lines corpus")
    parser.add_argument("--size", type=int, help="grow the corpus to N articles")
    parser.add_argument("--queries", type=Path, default=TYPING_LOG, help="the searches typed")
    parser.add_argument("--index", type=Path, help="an index of the corpus (else one is built)")
    parser.add_argument("--work", type=Path, help="keeps the corpus, index and FTS5 database")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--no-baseline", action="store_true", help="leave FTS5 out")
    args = parser.parse_args(argv)
    queries = read_query_log(args.queries)
    states = [pair for query in queries for pair in mid_word_states(query)]
    typos = [pair for query in queries for pair in typo_variants(query)]
    systems: dict[str, TimedSearches] = {}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="typing-bench-") as scratch:
        work = (args.work or Path(scratch)).absolute()
        work.mkdir(parents=True, exist_ok=True)
        corpus = args.corpus
        if args.size:
            corpus = write_corpus(corpus, args.size, work / f"corpus-{args.size}.jsonl")
        index_dir = index_corpus(corpus, args.index, work)
        load_before = os.getloadavg()[0]
        server = Server.article_search(index_dir, args.workers)
        server.wait_healthy()
        memory = TreeMemory(server.process.pid)
        try:
            ours = systems["article-search"] = HttpSearches(server.port)
            for query in queries[:5]:
                ours.top(query, "warm-up")  # each worker's first search opens its vocabulary
            results["article-search"] = {
                "typing": measure(ours, states, "keystroke", "whole", **KEYSTROKE),
                "typos": measure(ours, typos, "typo", "typo-right"),
            }
        finally:
            worker_mb = memory.largest_descendant
            memory.stop()
            server.stop()
        if not args.no_baseline:
            fts5_db = work / "fts5.db"
            if not fts5_db.exists():
                build(corpus, fts5_db)
            fts5 = systems["FTS5 prefix"] = Fts5(fts5_db)
            results["FTS5 prefix"] = {
                "typing": measure(fts5, states, "keystroke", "whole", **KEYSTROKE),
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
    print(
        f"serve start to first answer: {server.start_seconds:.1f} s; "
        f"largest worker: {worker_mb:.0f} MB"
    )
    print(f"load average before / after: {load_before:.1f} / {load_after:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
