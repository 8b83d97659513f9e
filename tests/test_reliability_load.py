"""Load: a short soak (bench/soak.py) against a real ``article-search serve`` on loopback:
zero errors, no traceback in the server log, worker memory flat. The full 60-second
run is ``make``-less: ``.venv/bin/python bench/soak.py`` (figures in the README).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.server, pytest.mark.slow]

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


def test_ten_second_soak_has_no_errors_and_flat_worker_memory(demo_index, tmp_path):
    figures_file = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, str(SOAK), "--index", str(demo_index), "--seconds", "10"]
        + ["--clients", "4", "--workers", "2", "--json", str(figures_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(figures_file.read_text())
    assert figures["error_count"] == 0
    assert figures["server_tracebacks"] == 0
    assert figures["requests"] > 100, figures["requests"]
    assert not figures["workers_replaced"]
    assert figures["max_rss_growth_mb"] <= 25, figures["worker_rss"]
    assert figures["latency"]["all"]["p99_ms"] < 5000, figures["latency"]
    print(run.stdout)
