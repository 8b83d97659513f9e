"""Slow clients and overload against a real ``article-search serve`` on loopback, through
the benchmark scripts that measure them (bench/slow_clients.py, bench/soak.py --burst).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from search.engine import SEARCH_SECONDS

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_bench(script: str, *args: str, figures: Path) -> dict:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(run.stdout)
    assert figures.exists(), run.stdout + run.stderr
    return json.loads(figures.read_text())


def test_searches_answer_as_fast_while_1000_connections_stall(demo_index, tmp_path):
    figures = run_bench(
        "slow_clients.py",
        *("--index", str(demo_index), "--connections", "1000", "--rounds", "30"),
        figures=tmp_path / "slow.json",
    )
    assert figures["opened"] >= 1000 and figures["refused"] == 0, figures
    assert figures["failed"] == 0, figures
    assert figures["stalled_median_ms"] <= 2 * figures["unloaded_median_ms"], figures


def test_200_clients_at_once_are_answered_in_time_or_shed_quickly(demo_index, tmp_path):
    figures = run_bench(
        "soak.py",
        *("--index", str(demo_index), "--burst", "200", "--seconds", "8", "--workers", "2"),
        figures=tmp_path / "burst.json",
    )
    outcomes = figures["outcomes"]
    assert outcomes["late"]["count"] == 0 and outcomes["failed"]["count"] == 0, figures
    assert outcomes["answered"]["count"] > 0, figures
    assert outcomes["shed"]["count"] > 0, figures  # 200 at once is more than 2 workers hold
    # Told quickly, not after a long wait (the bound is loose: the machine may be shared).
    assert outcomes["shed"]["p90_ms"] < 1000 * SEARCH_SECONDS, figures
    assert figures["server_tracebacks"] == 0, figures
    assert figures["ok"]
