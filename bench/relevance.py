"""Relevance benchmark: Cranfield through the /api/search code path, beside SQLite FTS5.

The 1,400 Cranfield abstracts are written out as the project's JSON Lines, imported
with the project's indexer into a temporary index, and every one of the 225 queries is
run, exactly as typed, through ``SearchEngine.search`` (what ``/api/search`` calls).
The same documents go into an SQLite FTS5 table (porter stemmer, bm25, title weighted
2, the query's words OR-ed) for a baseline in the same run. Prints nDCG@10 (gain
5 - code), MAP and recall@100 for both.

    .venv/bin/python bench/relevance.py [--corpus DIR] [--queries N] [--docs N] [--worst N]
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
from dataclasses import dataclass, field
from pathlib import Path

from index.indexer import index_paths
from search.engine import SearchEngine
from search.results import MAX_PER_PAGE, SearchRequest

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "cranfield"
SOURCE = "Cranfield"
NDCG_DEPTH = 10
RECALL_DEPTH = 100


@dataclass
class Collection:
    """Documents, queries (numbered 1.. in file order, as cranqrel numbers them), judgements."""

    documents: list[dict]
    queries: dict[int, str]
    # query number -> {document id: gain}, gain = 5 - code for codes 1..4
    judgements: dict[int, dict[str, int]] = field(default_factory=dict)

    def judged_queries(self) -> list[int]:
        """The queries with at least one relevant document: the ones a metric is defined for."""
        return [number for number in self.queries if self.judgements.get(number)]


def read_smart(path: Path) -> list[dict[str, str]]:
    """Records of a SMART-format file: ``.I n`` starts one, ``.X`` starts its field X."""
    records: list[dict[str, str]] = []
    current: dict[str, list[str]] = {}
    name = ""
    for line in Path(path).read_text(encoding="latin-1").splitlines():
        marker = re.match(r"\.([A-Z])(?:\s+(.*))?$", line)
        if marker and marker[1] == "I":
            current = {"I": [marker[2].strip()]}
            records.append(current)  # joined below
            name = ""
        elif marker:
            name = marker[1]
            current.setdefault(name, [])
        elif name:
            current[name].append(line)
    return [{key: " ".join(" ".join(lines).split()) for key, lines in r.items()} for r in records]


def load_cranfield(
    corpus: Path, max_docs: int | None = None, max_queries: int | None = None
) -> Collection:
    """Read cran.all.1400, cran.qry and cranqrel; optionally only the first docs/queries."""
    corpus = Path(corpus)
    documents = []
    for record in read_smart(corpus / "cran.all.1400")[:max_docs]:
        if not (record.get("T") or record.get("W")):
            continue  # two empty records (471, 995): nothing to import, never relevant
        author = record.get("A", "")
        documents.append(
            {
                "id": str(int(record["I"])),
                "title": record.get("T", ""),
                "authors": [author] if author else [],
                "source": SOURCE,
                "body": record.get("W", ""),
            }
        )
    # cranqrel numbers the queries 1..225 by their position, not by their .I numbers.
    queries = {
        number: record.get("W", "")
        for number, record in enumerate(read_smart(corpus / "cran.qry"), start=1)
    }
    if max_queries is not None:
        queries = dict(list(queries.items())[:max_queries])
    present = {d["id"] for d in documents}
    judgements: dict[int, dict[str, int]] = {}
    for line in (corpus / "cranqrel").read_text().splitlines():
        if not line.strip():
            continue
        query, doc, code = (int(x) for x in line.split())
        if query in queries and 1 <= code <= 4 and str(doc) in present:
            judgements.setdefault(query, {})[str(doc)] = 5 - code
    return Collection(documents, queries, judgements)


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


@dataclass
class Scores:
    ndcg: float
    map: float
    recall: float
    per_query: dict[int, float]  # nDCG@10 per query

    def row(self) -> str:
        return f"{self.ndcg:8.3f} {self.map:8.3f} {self.recall:10.3f}"


def evaluate(rankings: dict[int, list[str]], collection: Collection) -> Scores:
    numbers = collection.judged_queries()
    per_query = {n: ndcg(rankings.get(n, []), collection.judgements[n]) for n in numbers}
    aps = [average_precision(rankings.get(n, []), collection.judgements[n]) for n in numbers]
    recalls = [recall(rankings.get(n, []), collection.judgements[n]) for n in numbers]
    count = len(numbers) or 1
    mean_ndcg = sum(per_query.values()) / count
    return Scores(mean_ndcg, sum(aps) / count, sum(recalls) / count, per_query)


# --- the two systems ---


@dataclass
class Run:
    rankings: dict[int, list[str]]
    errors: dict[int, str]
    index_seconds: float
    query_seconds: float


def run_ours(collection: Collection, workdir: Path, depth: int = RECALL_DEPTH) -> Run:
    """Import through JSON Lines, index, and search each query as /api/search would."""
    jsonl = Path(workdir) / "cranfield.jsonl"
    write_jsonl(collection.documents, jsonl)
    started = time.perf_counter()
    report = index_paths(Path(workdir) / "index", [jsonl], rebuild=True, procs=1)
    index_seconds = time.perf_counter() - started
    if report.problems:
        for problem in report.problems:
            print(f"import: {problem}", file=sys.stderr)
    engine = SearchEngine(Path(workdir) / "index")
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
    """The query's words, each quoted, OR-ed: FTS5 syntax cannot be broken by prose."""
    words = re.findall(r"\w+", text.lower())
    return " OR ".join(f'"{word}"' for word in words)


def run_fts5(collection: Collection, depth: int = RECALL_DEPTH) -> Run:
    """The baseline: SQLite FTS5, porter stemmer, bm25 with the title weighted 2."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize=porter)")
    started = time.perf_counter()
    db.executemany(
        "INSERT INTO docs (id, title, body) VALUES (?, ?, ?)",
        ((d["id"], d["title"], d["body"]) for d in collection.documents),
    )
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


def compare(collection: Collection, workdir: Path) -> dict[str, tuple[Run, Scores]]:
    runs = {"article-search": run_ours(collection, workdir), "FTS5 bm25": run_fts5(collection)}
    return {name: (run, evaluate(run.rankings, collection)) for name, run in runs.items()}


def report(
    collection: Collection, results: dict[str, tuple[Run, Scores]], corpus: Path, worst: int
) -> str:
    judged = len(collection.judged_queries())
    lines = [
        f"Cranfield ({corpus}): {len(collection.documents)} documents, "
        f"{len(collection.queries)} queries, {judged} with judgements",
        "",
        f"{'system':<16} {'nDCG@10':>8} {'MAP':>8} {'recall@100':>10} {'errors':>7}"
        f" {'index s':>8} {'queries s':>9}",
    ]
    for name, (run, scores) in results.items():
        lines.append(
            f"{name:<16} {scores.row()} {len(run.errors):>7}"
            f" {run.index_seconds:>8.2f} {run.query_seconds:>9.2f}"
        )
    ours_run, ours = results["article-search"]
    _, baseline = results["FTS5 bm25"]
    for number, message in sorted(ours_run.errors.items()):
        lines.append(f"error in query {number}: {message}")
    if worst:
        lines += ["", "queries furthest below the baseline (nDCG@10 ours / FTS5):"]
        gaps = sorted(ours.per_query, key=lambda n: ours.per_query[n] - baseline.per_query[n])
        for number in gaps[:worst]:
            lines.append(
                f"  {number:>3} {ours.per_query[number]:.3f} / {baseline.per_query[number]:.3f}"
                f"  {collection.queries[number][:90]}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="Cranfield folder")
    parser.add_argument("--docs", type=int, help="only the first N documents")
    parser.add_argument("--queries", type=int, help="only the first N queries")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst queries vs FTS5")
    args = parser.parse_args(argv)
    if not (args.corpus / "cran.all.1400").is_file():
        print(f"no Cranfield collection in {args.corpus}", file=sys.stderr)
        return 2
    collection = load_cranfield(args.corpus, args.docs, args.queries)
    with tempfile.TemporaryDirectory(prefix="relevance-") as workdir:
        results = compare(collection, Path(workdir))
    print(report(collection, results, args.corpus, args.worst))
    return 1 if results["article-search"][0].errors else 0


if __name__ == "__main__":
    sys.exit(main())
