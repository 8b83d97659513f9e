"""What the benchmark scripts share: ports, the servers they start, memory, percentiles.

Every script in this folder runs as ``python bench/SCRIPT.py``. Python puts the
script's own folder first on sys.path, so a script imports this module as
``harness`` and the library modules beside it (``corpus``, ``query_logs``,
``fts5_baseline``, ``judged_sets``) by their names; scripts never import each
other and never edit sys.path. The project's packages (search, index, web)
come from the checkout installed in the venv (``make install``).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import parse_qsl, urlencode
from urllib.request import Request, urlopen

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEMO = ROOT / "demo" / "articles"
# The console script, run by the interpreter running the benchmark (the venv's).
ARTICLE_SEARCH = [sys.executable, "-m", "index.cli"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------


def die_with_parent() -> None:
    """In a started server's process, before exec: SIGTERM it when the script dies.

    A benchmark killed outright (a test's timeout, ^C twice, SIGKILL) runs no
    ``finally``; without this its server outlives it, holding a port and CPU.
    Pass as ``preexec_fn`` to subprocess.Popen.
    """
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def index_corpus(corpus: Path, given: Path | str | None, workdir: Path) -> Path:
    """The index a script measures: ``given`` (its ``--index``), else ``workdir``/index;
    ``corpus`` indexed into it with ``article-search index`` unless done before."""
    index_dir = Path(given) if given else Path(workdir) / "index"
    if not (index_dir / "current").exists():
        log(f"indexing {corpus} into {index_dir}")
        command = [*ARTICLE_SEARCH, "index", str(corpus), "--index", str(index_dir)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return index_dir


# --- memory ----------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """A process's resident memory (VmRSS), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (a gunicorn master's workers), in order of pid."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return sorted(found)


def process_tree(pid: int) -> list[int]:
    """``pid`` first, then every process descended from it."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending += children(current)
    return tree


class TreeMemory:
    """Samples the summed resident memory of a process and its descendants (``peak``),
    and the largest of any one descendant (``largest_descendant``): a server's worker,
    even one that was replaced (gunicorn recycles workers) before the end."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self.largest_descendant = 0.0
        self.descendants: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = process_tree(self.pid)
            sizes = [rss_mb(p) or 0.0 for p in tree]
            self.peak = max(self.peak, sum(sizes))
            self.largest_descendant = max(self.largest_descendant, *sizes[1:], 0.0)
            self.descendants.update(tree[1:])
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


# --- figures ---------------------------------------------------------------------------


def percentiles(samples_ms: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict:
    """``{"p50_ms": ..., "p95_ms": ..., "p99_ms": ...}`` of samples in milliseconds."""
    values = np.percentile(samples_ms, points)
    return {f"p{point}_ms": float(value) for point, value in zip(points, values, strict=True)}


# --- servers ---------------------------------------------------------------------------


def get(
    url: str, timeout: float = 30, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """GET ``url``, or POST ``body`` to it; (status, body), whatever the status."""
    try:
        with urlopen(Request(url, data=body, headers=headers or {}), timeout=timeout) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


class Server:
    """A server process on a free loopback port, in its own session, stopped whole.

    ``command`` is called with the port and returns the command line. The server
    gets its own XDG_RUNTIME_DIR (gunicorn's control socket is then its own, not the
    user's ~/.gunicorn) and dies with the script (``die_with_parent``). Its output
    goes to ``log`` when given.
    """

    def __init__(self, command, env: dict | None = None, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.runtime = tempfile.TemporaryDirectory(prefix="bench-server-")
        env = {**(os.environ if env is None else env), "XDG_RUNTIME_DIR": self.runtime.name}
        self.command = command(self.port)
        self.started = time.perf_counter()
        with open(log or os.devnull, "wb") as out:
            self.process = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.start_seconds: float | None = None

    @classmethod
    def article_search(
        cls,
        index_dir: Path,
        workers: int = 2,
        recycle: bool = True,
        gunicorn_args: str = "",
        log: Path | None = None,
        env: dict | None = None,
    ) -> Server:
        """``article-search serve`` over ``index_dir``, logging at warning level.

        ``recycle=False`` switches gunicorn's worker recycling (max_requests) off, so
        a leak shows as growth; ``gunicorn_args`` are added as on its command line.
        """
        env = {**(os.environ if env is None else env), "ARTICLE_SEARCH_LOG_LEVEL": "warning"}
        more = [gunicorn_args] + ([] if recycle else ["--max-requests 0"])
        if any(more):
            # GUNICORN_CMD_ARGS overrides web/gunicorn_conf.py, as on the command line.
            env["GUNICORN_CMD_ARGS"] = " ".join(filter(None, more))

        def command(port: int) -> list[str]:
            return [
                *ARTICLE_SEARCH,
                "serve",
                "--index",
                str(index_dir),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ]

        return cls(command, env, log)

    def wait_healthy(self, seconds: float = 120) -> dict:
        """The first 200 answer of /healthz (its JSON); ``start_seconds`` set at the first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}): {self.log_tail()}")
            with contextlib.suppress(OSError):
                status, body = get(f"{self.url}/healthz", timeout=2)
                if status == 200:
                    if self.start_seconds is None:
                        self.start_seconds = time.perf_counter() - self.started
                    return json.loads(body)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not healthy after {seconds:g} s: {' '.join(self.command)}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log else " ".join(self.command)

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        """SIGTERM the server's process group, then SIGKILL what lingers."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers outliving the master would still be in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.runtime.cleanup()


# --- searching -------------------------------------------------------------------------


class TimedSearches:
    """A system asked for its top ``top``; each answer's time (ms) kept by kind of query."""

    def __init__(self, top: int = 10):
        self.latencies: dict[str, list[float]] = {}
        self.top_count = top

    def search(self, q: str, **params: str) -> dict:
        """The answer to ``q`` with the other query ``params`` (e.g. ``counts="0"``)."""
        raise NotImplementedError

    def top(self, q: str, kind: str, **params: str) -> tuple[list[str], int]:
        started = time.perf_counter()
        data = self.search(q, **params)
        self.latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        return [hit["id"] for hit in data["results"][: self.top_count]], data["total"]


class HttpSearches(TimedSearches):
    """GET /api/search on one kept-alive connection."""

    def __init__(self, port: int):
        super().__init__()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def search(self, q: str, **params: str) -> dict:
        self.connection.request("GET", "/api/search?" + urlencode({"q": q, **params}))
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status} for {q!r}: {body[:200]!r}")
        return json.loads(body)


def in_process_search(index_dir: Path):
    """What /api/search does for one query string, in process: ``search(query_string,
    desk=True)`` -> the answer's JSON object (``desk=False``: as if the desk were empty)."""
    from werkzeug.datastructures import MultiDict

    from search.engine import SearchEngine
    from search.serialize import result_json
    from web.params import parse_search_request

    engine = SearchEngine(index_dir)

    def search(query_string: str, desk: bool = True) -> dict:
        args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
        request = dataclasses.replace(parse_search_request(args), desk=desk)
        return result_json(engine.search(request))

    return search
