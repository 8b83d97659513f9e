"""Import Reuters-21578 in both formats, time it, and check the two indexes agree.

Indexes ``text/`` (21,578 text-export files) and ``articles.jsonl`` (the same
stories, one per line) into two temporary indexes, prints the time, articles
per second and skipped count of each, then compares every story as the engine
returns it (``SearchEngine.article``): date, authors, regions, themes, reports,
source, and the title wherever the JSON has one. ``NN/reuters-ID.txt`` is the
JSON id ``reuters-ID``. Exits 1 on any mismatch, skipped file or missing story.

    .venv/bin/python bench/import_reuters.py [--corpus DIR] [--procs N]

Corpus: Reuters-21578, Distribution 1.0 (../shared/corpora/reuters21578).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from index.indexer import IndexReport, index_paths
from search.engine import SearchEngine

STORIES = 21_578
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "reuters21578"
COMPARED = ("date", "authors", "regions", "themes", "reports")


def timed_index(index_dir: Path, path: Path, procs: int | None) -> IndexReport:
    started = time.perf_counter()
    report = index_paths(index_dir, [path], procs=procs)
    elapsed = time.perf_counter() - started
    rate = report.added / elapsed if elapsed else 0.0
    print(
        f"{path.name:<15} {elapsed:7.1f} s  {rate:7.0f} articles/s  "
        f"added {report.added}, skipped {report.skipped}, in the index {report.documents}"
    )
    for problem in report.problems[:20]:
        print(f"    skipped {problem}")
    return report


def compare(text_engine: SearchEngine, json_engine: SearchEngine, corpus: Path) -> list[str]:
    """Every disagreement between the two indexes, one line each."""
    text_ids = {
        path.stem: path.relative_to(corpus / "text").as_posix()
        for path in (corpus / "text").glob("*/*.txt")
    }
    mismatches: list[str] = []
    compared = 0
    with open(corpus / "articles.jsonl", encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            story_id = raw["id"]
            from_json = json_engine.article(story_id)
            text_id = text_ids.get(story_id)
            from_text = text_engine.article(text_id) if text_id else None
            if from_json is None or from_text is None:
                mismatches.append(f"{story_id}: json {from_json is not None}, text {text_id}")
                continue
            compared += 1
            names = list(COMPARED)
            if (raw.get("title") or "").strip():
                names.append("title")
            if from_text.date is not None:
                names.append("source")  # source and date share one line in the text export
            for name in names:
                text_value, json_value = getattr(from_text, name), getattr(from_json, name)
                if text_value != json_value:
                    mismatches.append(f"{story_id} {name}: text {text_value!r} json {json_value!r}")
    print(f"compared {compared} stories field by field: {len(mismatches)} mismatches")
    return mismatches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--procs", type=int, default=None, help="indexer processes (all cores)")
    args = parser.parse_args()
    corpus = args.corpus
    if not (corpus / "articles.jsonl").is_file() or not (corpus / "text").is_dir():
        print(f"Reuters-21578 corpus not found in {corpus}", file=sys.stderr)
        return 2
    print(f"corpus: Reuters-21578, Distribution 1.0 ({corpus})")
    print(f"cores: {os.cpu_count()}, indexer processes: {args.procs or 'all cores'}")
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="import-reuters-") as temporary:
        reports = {}
        for name, path in (("text", corpus / "text"), ("json", corpus / "articles.jsonl")):
            report = timed_index(Path(temporary, name), path, args.procs)
            reports[name] = report
            if report.skipped:
                failures.append(f"{name}: {report.skipped} skipped")
            if report.added != STORIES or report.documents != STORIES:
                failures.append(f"{name}: {report.added} added, {report.documents} in the index")
        started = time.perf_counter()
        text_engine = SearchEngine(Path(temporary, "text"))
        json_engine = SearchEngine(Path(temporary, "json"))
        mismatches = compare(text_engine, json_engine, corpus)
        print(f"comparison took {time.perf_counter() - started:.1f} s")
    for mismatch in mismatches[:30]:
        print(f"    {mismatch}")
    failures += mismatches
    print("FAILED" if failures else "OK: all 21,578 stories imported from both formats and agree")
    for failure in failures[:5]:
        if failure not in mismatches:
            print(f"    {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
