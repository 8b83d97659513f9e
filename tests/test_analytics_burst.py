"""Search analytics on a real server. A burst (bench/soak.py --burst, the overload bench's
clients) with the search page's analytics beacons among the requests: searches are answered as
without them, and it is events that are dropped (shed while searches wait, counted in
/healthz), not searches. Two workers record every event they take, and a killed server loses
none written a second before."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from search.analytics.storage import analytics_path
from tests.conftest import serving

pytestmark = [pytest.mark.server, pytest.mark.slow]

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"
SEARCH_KINDS = ("api/search", "search page", "browse")


def burst(index_dir: Path, figures: Path, *extra: str) -> dict:
    run = subprocess.run(
        [sys.executable, str(SOAK), "--index", str(index_dir), "--burst", "60"]
        + ["--seconds", "8", "--workers", "2", "--json", str(figures), *extra],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    print(run.stdout)
    return json.loads(figures.read_text())


def searches(figures: dict, outcome: str) -> int:
    return sum(figures["by_kind"].get(kind, {}).get(outcome, 0) for kind in SEARCH_KINDS)


def test_a_burst_drops_events_not_searches(demo_index, tmp_path):
    without = burst(demo_index, tmp_path / "without.json")
    with_events = burst(demo_index, tmp_path / "with.json", "--events")
    for figures in (without, with_events):
        assert figures["ok"], figures["problems"]  # nothing late, nothing failed
        assert figures["server_tracebacks"] == 0
    events = with_events["by_kind"]["event"]
    assert events["failed"] == events["late"] == 0
    # Events were turned away, and /healthz counts them.
    assert events["shed"] > 0
    assert with_events["analytics"]["recording"] is True
    assert with_events["analytics"]["dropped_total"] >= events["shed"]

    # Searches were answered about as often as without the beacons (the beacons are a
    # fifth of the requests: fewer searches were asked, so compare the share answered).
    def answered_share(figures: dict) -> float:
        asked = searches(figures, "answered") + searches(figures, "shed")
        return searches(figures, "answered") / asked

    assert answered_share(with_events) >= 0.8 * answered_share(without), (
        answered_share(with_events),
        answered_share(without),
    )


def post_event(server, body: dict) -> int:
    request = Request(f"{server.url}/api/events", data=json.dumps(body).encode())
    with urlopen(request, timeout=10) as response:  # a new connection each: either worker
        return response.status


def test_two_workers_record_every_event_and_a_kill_loses_at_most_a_second(demo_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(demo_index, index_dir, symlinks=True)
    shutil.rmtree(analytics_path(index_dir).parent, ignore_errors=True)
    with serving(index_dir, tmp_path) as server:
        sent = 0
        for n in range(300):
            event = {"type": "search", "view": f"{n:032x}", "seq": 1, "params": "q=rhine"}
            assert post_event(server, {**event, "results": 2}) == 204
            sent += 1
        time.sleep(1.0)  # the recorders write every half second
        os.killpg(server.process.pid, signal.SIGKILL)  # a crash: no exit handler runs
        server.process.wait(timeout=10)
    with closing(sqlite3.connect(analytics_path(index_dir))) as db:
        (recorded,) = db.execute("SELECT count(*) FROM searches").fetchone()
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert recorded == sent
