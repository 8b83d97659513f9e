"""Slow and idle clients: ordinary searches while many connections sit stalled.

Starts ``article-search serve`` on a free 127.0.0.1 port (the settings it uses by
default, unless ``--gunicorn-args`` changes them), times ordinary searches one after
another, then opens ``--connections`` connections that go nowhere (half never send a
byte, half trickle a request header one byte a second, each reopened when the server
closes it) and times the same searches again while they are held. Prints both
latencies and their ratio.

    .venv/bin/python bench/slow_clients.py                          # 1,000 stalled, demo index
    .venv/bin/python bench/slow_clients.py --gunicorn-args="--worker-class sync"
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

from harness import DEMO, Server, get, index_corpus

from web.gunicorn_conf import raise_open_file_limit

HEADER = b"GET /api/search?q=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: trickle\r\n"
QUERIES = ("rain", "heat pump", "central bank", "vaccine trial", "grain", "port", "wages")


class StalledConnections:
    """``count`` connections held open doing nothing useful, reopened when closed."""

    def __init__(self, port: int, count: int):
        self.port = port
        self.count = count
        self.opened = 0
        self.reopened = 0
        self.refused = 0
        self._sockets: list[socket.socket | None] = [None] * count
        self._sent = [0] * count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _open(self, slot: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            self.refused += 1
            self._sockets[slot] = None
            return
        sock.setblocking(False)
        self._sockets[slot] = sock
        self._sent[slot] = 0
        self.opened += 1

    def start(self) -> None:
        for slot in range(self.count):
            self._open(slot)
        self._thread.start()

    def _hold(self) -> None:
        """Once a second: trickle one byte on the odd slots, reopen what was closed."""
        while not self._stop.wait(1.0):
            for slot, sock in enumerate(self._sockets):
                if sock is None or self._closed_by_server(sock):
                    if sock is not None:
                        sock.close()
                    self._open(slot)
                    self.reopened += 1
                elif slot % 2 and self._sent[slot] < len(HEADER):
                    with suppress(OSError):
                        self._sent[slot] += sock.send(
                            HEADER[self._sent[slot] : self._sent[slot] + 1]
                        )

    @staticmethod
    def _closed_by_server(sock: socket.socket) -> bool:
        try:
            return sock.recv(4096) == b""  # end of stream, or a response: either way done
        except BlockingIOError:
            return False
        except OSError:
            return True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self._sockets:
            if sock is not None:
                sock.close()


def time_searches(url: str, rounds: int) -> list[float]:
    """Seconds per search, one at a time; a failed search counts as infinitely slow."""
    times = []
    for number in range(rounds):
        q = QUERIES[number % len(QUERIES)]
        started = time.perf_counter()
        try:
            status, _ = get(f"{url}/api/search?q={q.replace(' ', '+')}", timeout=10)
        except OSError:
            status = None
        times.append(time.perf_counter() - started if status == 200 else float("inf"))
    return times


def measure(index_dir: Path, args: argparse.Namespace, workdir: Path) -> dict:
    raise_open_file_limit(args.connections + 256)  # the server's own limit is in its config
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    server = Server.article_search(
        index_dir, args.workers, gunicorn_args=args.gunicorn_args, log=workdir / "server.log"
    )
    try:
        server.wait_healthy(30)
        time_searches(server.url, 10)  # warm both workers
        unloaded = time_searches(server.url, args.rounds)
        stalled = StalledConnections(server.port, args.connections)
        stalled.start()
        try:
            time.sleep(1.5)  # let the stalled connections be accepted and start trickling
            loaded = time_searches(server.url, args.rounds)
        finally:
            stalled.stop()
    finally:
        server.stop()
    unloaded_median = statistics.median(unloaded)
    loaded_median = statistics.median(loaded)
    return {
        "connections": args.connections,
        "opened": stalled.opened,
        "refused": stalled.refused,
        "file_limit": limit,
        "searches": args.rounds,
        "unloaded_median_ms": round(unloaded_median * 1000, 2),
        "stalled_median_ms": round(loaded_median * 1000, 2),
        "stalled_max_ms": round(max(loaded) * 1000, 2),
        "failed": sum(t == float("inf") for t in loaded),
        "ratio": round(loaded_median / unloaded_median, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="serve this index folder (default: the demo articles)")
    parser.add_argument("--connections", type=int, default=1000, help="stalled connections")
    parser.add_argument("--rounds", type=int, default=40, help="searches timed, each phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn arguments")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        workdir = Path(tmp)
        index_dir = index_corpus(DEMO, args.index, workdir)
        figures = measure(index_dir, args, workdir)
    print(
        f"{figures['searches']} searches, one at a time: median {figures['unloaded_median_ms']} ms "
        f"unloaded, {figures['stalled_median_ms']} ms with {figures['opened']} stalled "
        f"connections (x{figures['ratio']}; slowest {figures['stalled_max_ms']} ms, "
        f"{figures['failed']} failed, {figures['refused']} connections refused)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
