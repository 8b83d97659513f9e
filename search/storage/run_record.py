"""The indexer's run record, ``INDEX/indexer-run.json``: the last run's start, end and outcome.

``article-search index`` writes it (durably) when a run starts and when it
ends; /healthz reads it. A run that started and has no end is still going
when its process is alive, else it was stopped (killed, a power cut).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from search.storage.manifest import write_durably

RUN_RECORD_FILE = "indexer-run.json"


def iso_utc(seconds: float | None) -> str | None:
    """Seconds since the epoch as an ISO 8601 UTC time (None stays None)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunRecord:
    """The run record file (search.storage.index_folder.IndexFolder.run_record names it)."""

    def __init__(self, path: Path):
        self.path = path

    def _save(self, state: dict) -> None:
        write_durably(self.path, json.dumps(state, indent=1).encode())

    def start(self, paths: list[Path], rebuild: bool) -> dict:
        state = {
            "pid": os.getpid(),
            "started_at": time.time(),
            "finished_at": None,
            "rebuild": rebuild,
            "paths": [str(Path(path).absolute()) for path in paths],
        }
        self._save(state)
        return state

    def finish(
        self, state: dict, outcome: str, generation: str | None, documents: int | None
    ) -> None:
        """``outcome``: "ok", "skipped files" or "failed: why"."""
        state = {
            **state,
            "finished_at": time.time(),
            "outcome": outcome,
            "generation": generation,
            "documents": documents,
        }
        self._save(state)

    def last_run(self) -> dict | None:
        """The last indexer run as /healthz shows it; None when no run was recorded.

        Not its paths: /healthz is public, and they are the server's own business.
        """
        try:
            state = json.loads(self.path.read_bytes())
            started, finished = state["started_at"], state.get("finished_at")
            running = finished is None and _alive(int(state["pid"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as error:
            return {"finished": False, "running": False, "outcome": f"unreadable: {error}"}
        return {
            "started_at": iso_utc(started),
            "finished_at": iso_utc(finished),
            "finished": finished is not None,
            "running": running,
            "outcome": state.get("outcome") if finished is not None else None,
            "generation": state.get("generation"),
            "documents": state.get("documents"),
            "rebuild": bool(state.get("rebuild")),
        }
