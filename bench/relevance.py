"""Relevance benchmark: every judged collection through the /api/search code path, beside FTS5.

Each collection (bench/judged_sets.py: Cranfield, CACM, a Reuters news set) is
imported with the project's indexer into a temporary index as JSON Lines, and
each request is run exactly as typed through ``SearchEngine.search`` (what
``/api/search`` calls), without its time limits. The same documents go into an SQLite FTS5 table
(porter stemmer, bm25, title weighted 2, the request's words OR-ed) for a
baseline in the same run. Prints nDCG@10, MAP and recall@100 per collection,
their means, the ratio ours/FTS5, and a paired randomisation test of each
difference; ``--save`` keeps the per-request scores and ``--against`` tests a
run against saved ones (is a ranking change more than noise?).

    .venv/bin/python bench/relevance.py [--collections cranfield,cacm,news] [--worst N]
        [--docs N] [--queries N] [--save FILE] [--against FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from judged_sets import COLLECTIONS, Collection

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import MAX_PER_PAGE, SearchRequest

NDCG_DEPTH = 10
RECALL_DEPTH = 100
PERMUTATIONS = 20_000


def write_jsonl(documents: Iterable[dict], path: Path) -> None:
    with Path(path).open("w", encoding="utf-8") as out:
        for document in documents:
            out.write(json.dumps(document) + "\n")


# --- metrics ---


def ndcg(ranking: Sequence[str], gains: dict[str, int], depth: int = NDCG_DEPTH) -> float:
    """Normalised DCG at ``depth``, linear gain, log2(rank + 1) discount."""
    dcg = sum(gains.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:depth]))
    ideal = sorted(gains.values(), reverse=True)[:depth]
    best = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / best if best else 0.0


def average_precision(ranking: Sequence[str], relevant: Iterable[str]) -> float:
    relevant = set(relevant)
    found, total = 0, 0.0
    for rank, doc in enumerate(ranking, start=1):
        if doc in relevant:
            found += 1
            total += found / rank
    return total / len(relevant) if relevant else 0.0


def recall(ranking: Sequence[str], relevant: Iterable[str], depth: int = RECALL_DEPTH) -> float:
    relevant = set(relevant)
    return len(relevant.intersection(ranking[:depth])) / len(relevant) if relevant else 0.0


def randomisation_p(first: Sequence[float], second: Sequence[float]) -> float:
    """Two-sided paired randomisation test of mean(first) - mean(second).

    Each request's two scores are swapped at random, PERMUTATIONS times (fixed
    seed): the share of those whose mean difference is at least as large as
    the one observed. Small p: the difference is unlikely to be luck.
    """
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    if not len(differences) or not differences.any():
        return 1.0
    observed = abs(differences.mean())
    signs = np.random.default_rng(12).choice((-1.0, 1.0), size=(PERMUTATIONS, len(differences)))
    means = np.abs((signs * differences).mean(axis=1))
    return float((np.count_nonzero(means >= observed - 1e-12) + 1) / (PERMUTATIONS + 1))


@dataclass
class Scores:
    ndcg: float
    map: float
    recall: float
    per_query: dict[int, float]  # nDCG@10 per request

    def row(self) -> str:
        return f"{self.ndcg:8.3f} {self.map:8.3f} {self.recall:10.3f}"


def evaluate(rankings: dict[int, list[str]], collection: Collection) -> Scores:
    numbers = collection.judged_queries()
    per_query = {n: ndcg(rankings.get(n, []), collection.judgements[n]) for n in numbers}
    aps = [average_precision(rankings.get(n, []), collection.judgements[n]) for n in numbers]
    recalls = [recall(rankings.get(n, []), collection.judgements[n]) for n in numbers]
    count = len(numbers) or 1
    return Scores(
        sum(per_query.values()) / count, sum(aps) / count, sum(recalls) / count, per_query
    )


# --- the two systems ---


@dataclass
class Run:
    rankings: dict[int, list[str]]
    errors: dict[int, str]
    index_seconds: float
    query_seconds: float


def run_ours(collection: Collection, workdir: Path, depth: int = RECALL_DEPTH) -> Run:
    """Import through JSON Lines, index, and search each request as /api/search would."""
    if isinstance(collection.documents, Path):
        jsonl = collection.documents
    else:
        jsonl = Path(workdir) / "documents.jsonl"
        write_jsonl(collection.documents, jsonl)
    index_dir = Path(workdir) / "index"
    started = time.perf_counter()
    report = index_paths(index_dir, [jsonl], rebuild=True, procs=1)
    index_seconds = time.perf_counter() - started
    for problem in report.problems:
        print(f"import: {problem}", file=sys.stderr)
    # No time limits: on a busy machine a search past its limit, or a first search
    # before the vocabulary is ready (no completions, no corrections), would rank
    # differently, and the figures must not depend on the load.
    engine = SearchEngine(
        index_dir,
        facet_seconds=None,
        search_seconds=None,
        spelling_seconds=None,
        vocabulary_seconds=None,
    )
    rankings: dict[int, list[str]] = {}
    errors: dict[int, str] = {}
    started = time.perf_counter()
    for number, text in collection.queries.items():
        try:
            result = engine.search(SearchRequest(q=text, per_page=min(depth, MAX_PER_PAGE)))
        except Exception as error:  # a query error is a result to report, not a crash
            errors[number] = f"{type(error).__name__}: {error}"
            continue
        rankings[number] = [hit.id for hit in result.hits]
    return Run(rankings, errors, index_seconds, time.perf_counter() - started)


def fts5_query(text: str) -> str:
    """The request's words, each quoted, OR-ed: FTS5 syntax cannot be broken by prose."""
    words = re.findall(r"\w+", text.lower())
    return " OR ".join(f'"{word}"' for word in words)


def run_fts5(collection: Collection, depth: int = RECALL_DEPTH) -> Run:
    """The baseline: SQLite FTS5, porter stemmer, bm25 with the title weighted 2."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize=porter)")
    started = time.perf_counter()
    db.executemany("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)", collection.texts())
    index_seconds = time.perf_counter() - started
    rankings: dict[int, list[str]] = {}
    errors: dict[int, str] = {}
    started = time.perf_counter()
    for number, text in collection.queries.items():
        query = fts5_query(text)
        if not query:
            rankings[number] = []
            continue
        try:
            rows = db.execute(
                "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0, 2.0, 1.0) LIMIT ?",
                (query, depth),
            ).fetchall()
        except sqlite3.Error as error:
            errors[number] = str(error)
            continue
        rankings[number] = [row[0] for row in rows]
    return Run(rankings, errors, index_seconds, time.perf_counter() - started)


# --- the report ---

OURS, BASELINE = "article-search", "FTS5 bm25"


@dataclass
class Measured:
    collection: Collection
    runs: dict[str, Run]
    scores: dict[str, Scores]

    @property
    def ratio(self) -> float:
        baseline = self.scores[BASELINE].ndcg
        return self.scores[OURS].ndcg / baseline if baseline else math.inf


def measure(collection: Collection) -> Measured:
    with tempfile.TemporaryDirectory(prefix="relevance-") as workdir:
        runs = {OURS: run_ours(collection, Path(workdir)), BASELINE: run_fts5(collection)}
    scores = {name: evaluate(run.rankings, collection) for name, run in runs.items()}
    return Measured(collection, runs, scores)


def collection_report(measured: Measured, worst: int) -> list[str]:
    collection = measured.collection
    ours, baseline = measured.scores[OURS], measured.scores[BASELINE]
    numbers = collection.judged_queries()
    p = randomisation_p(
        [ours.per_query[n] for n in numbers], [baseline.per_query[n] for n in numbers]
    )
    lines = [
        f"{collection.name}: {len(collection.texts())} documents, {len(collection.queries)} "
        f"requests, {len(numbers)} with judgements",
        f"{'system':<16} {'nDCG@10':>8} {'MAP':>8} {'recall@100':>10} {'errors':>7}"
        f" {'index s':>8} {'queries s':>9}",
    ]
    for name, run in measured.runs.items():
        lines.append(
            f"{name:<16} {measured.scores[name].row()} {len(run.errors):>7}"
            f" {run.index_seconds:>8.2f} {run.query_seconds:>9.2f}"
        )
    better = sum(ours.per_query[n] > baseline.per_query[n] for n in numbers)
    worse = sum(ours.per_query[n] < baseline.per_query[n] for n in numbers)
    lines.append(
        f"ratio ours/FTS5 nDCG@10 {measured.ratio:.3f}; {better} requests better, {worse} worse,"
        f" paired randomisation p = {p:.3f}"
    )
    if collection.assessed:
        for name, run in measured.runs.items():
            top = [(n, d) for n in numbers for d in run.rankings.get(n, [])[:NDCG_DEPTH]]
            unread = sum(d not in collection.assessed.get(n, ()) for n, d in top)
            lines.append(f"{name}: {unread} of its {len(top)} first-ten results were never judged")
    for number, message in sorted(measured.runs[OURS].errors.items()):
        lines.append(f"error in request {number}: {message}")
    if worst:
        lines.append("requests furthest below the baseline (nDCG@10 ours / FTS5):")
        gaps = sorted(numbers, key=lambda n: ours.per_query[n] - baseline.per_query[n])
        for number in gaps[:worst]:
            text = " ".join(collection.queries[number].split())
            lines.append(
                f"  {number:>3} {ours.per_query[number]:.3f} / {baseline.per_query[number]:.3f}"
                f"  {text[:90]}"
            )
    return lines


def summary(results: list[Measured]) -> list[str]:
    lines = [
        "summary (nDCG@10 / MAP / recall@100; ours, then FTS5)",
        f"{'collection':<14} {'ours':>20}   {'FTS5':>20}   {'ratio':>6}",
    ]
    for measured in results:
        ours, baseline = measured.scores[OURS], measured.scores[BASELINE]
        lines.append(
            f"{measured.collection.name:<14} {ours.ndcg:6.3f} {ours.map:6.3f} {ours.recall:6.3f}"
            f"   {baseline.ndcg:6.3f} {baseline.map:6.3f} {baseline.recall:6.3f}"
            f"   {measured.ratio:6.3f}"
        )
    count = len(results)
    if count > 1:
        mean = {
            name: [
                sum(getattr(m.scores[name], k) for m in results) / count
                for k in ("ndcg", "map", "recall")
            ]
            for name in (OURS, BASELINE)
        }
        ratio = sum(m.ratio for m in results) / count
        lines.append(
            f"{'mean':<14} {mean[OURS][0]:6.3f} {mean[OURS][1]:6.3f} {mean[OURS][2]:6.3f}"
            f"   {mean[BASELINE][0]:6.3f} {mean[BASELINE][1]:6.3f} {mean[BASELINE][2]:6.3f}"
            f"   {ratio:6.3f}"
        )
    return lines


def against_saved(results: list[Measured], saved: dict) -> list[str]:
    """Each collection's nDCG@10 beside a saved run's, with the paired test of the change."""
    lines = ["against the saved run (nDCG@10 now / saved, requests better / worse, p):"]
    for measured in results:
        before = saved.get(measured.collection.name)
        if before is None:
            continue
        now = measured.scores[OURS].per_query
        numbers = [n for n in now if str(n) in before]
        first = [now[n] for n in numbers]
        second = [before[str(n)] for n in numbers]
        better = sum(a > b for a, b in zip(first, second, strict=True))
        worse = sum(a < b for a, b in zip(first, second, strict=True))
        lines.append(
            f"  {measured.collection.name:<14} {np.mean(first):.4f} / {np.mean(second):.4f}"
            f"  {better:>3} / {worse:<3}  p = {randomisation_p(first, second):.3f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--collections", default=",".join(COLLECTIONS), help="which, comma-separated"
    )
    parser.add_argument("--docs", type=int, help="only the first N documents (Cranfield, CACM)")
    parser.add_argument("--queries", type=int, help="only the first N requests of each")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst requests vs FTS5")
    parser.add_argument("--save", type=Path, help="write each request's nDCG@10 to this JSON file")
    parser.add_argument("--against", type=Path, help="compare with a run saved by --save")
    args = parser.parse_args(argv)
    if args.against and not args.against.is_file():
        parser.error(f"--against: no saved run {args.against}")
    results: list[Measured] = []
    for name in args.collections.split(","):
        if name not in COLLECTIONS:
            parser.error(f"no collection {name!r}; known: {', '.join(COLLECTIONS)}")
        options = {"max_queries": args.queries}
        if name != "news":
            options["max_docs"] = args.docs
        try:
            collection = COLLECTIONS[name](**options)
        except FileNotFoundError as missing:
            print(f"{name}: skipped, {missing.filename} is absent\n")
            continue
        measured = measure(collection)
        results.append(measured)
        print("\n".join(collection_report(measured, args.worst)) + "\n", flush=True)
    if not results:
        print("no judged collection found", file=sys.stderr)
        return 2
    print("\n".join(summary(results)))
    if args.against:
        print("\n" + "\n".join(against_saved(results, json.loads(args.against.read_text()))))
    if args.save:
        saved = {m.collection.name: m.scores[OURS].per_query for m in results}
        args.save.write_text(json.dumps(saved, indent=1))
    return 1 if any(m.runs[OURS].errors for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
