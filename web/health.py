"""What /healthz reports: the generation served, its age, the last indexer run, and problems.

``status`` is "ok", or "degraded" with each reason in ``problems``: the
index is still answering, but an operator should look (docs/operations.md, "What to
watch").
"""

from __future__ import annotations

import time
from pathlib import Path

from search.results import IndexStats
from search.storage.index_folder import IndexFolder
from search.storage.run_record import iso_utc


def health_report(stats: IndexStats, index_dir: Path) -> dict:
    run = IndexFolder(index_dir).run_record.last_run()
    problems = []
    if stats.damaged:
        problems.append(
            f"newer generations are damaged ({' | '.join(stats.damaged)}); serving "
            f"{stats.generation}: run 'article-search index' to repair"
        )
    if not stats.verified:
        problems.append(
            f"generation {stats.generation} has no manifest to check it against (written "
            "before checksums, or its manifest is lost): run 'article-search index --rebuild'"
        )
    if run is not None:
        if not run["finished"] and not run["running"]:
            problems.append(f"the last index run, started {run['started_at']}, did not finish")
        elif run["finished"] and str(run["outcome"]).startswith("failed"):
            problems.append(f"the last index run {run['outcome']}")
        elif run["finished"] and run["generation"] not in (None, stats.generation):
            problems.append(
                f"the last index run ended on generation {run['generation']}, "
                f"but {stats.generation} is served"
            )
    committed = stats.committed_at
    return {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "documents": stats.documents,
        "generation": stats.generation,
        "committed_at": iso_utc(committed),
        "generation_age_seconds": round(time.time() - committed, 1) if committed else None,
        "verified": stats.verified,
        "damaged": list(stats.damaged),
        "last_index_run": run,
    }
