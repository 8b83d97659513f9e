"""The desk against a real ``article-search serve`` with 2 workers: a synonym, a rule and a
freshness change each answer on every worker within 2 s; a rule stops at its end time with
nobody doing anything; the feed and the CLI's search apply rules too.

Which worker answers is read from /proc: each test holds a keep-alive connection to
each worker (the worker whose open files hold the server's side of the connection).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from bench.harness import children
from index.indexer import index_paths
from index.publish import publish
from search.desk import Desk
from tests.conftest import article_search_command, serving

pytestmark = pytest.mark.server

LIVE_SECONDS = 2.0
FILLER = "The council met on Tuesday to discuss the budget and the new ferry timetable."
TODAY = dt.datetime.now(dt.UTC).date()
ARTICLES = [
    ("kyiv", "Kyiv transport news.", "2024-01-10", "Europe"),
    ("kiev", "Kiev transport news from the archive.", "2024-01-10", "Europe"),
    ("vote-1", "Elections were held.", "2024-01-10", "Europe"),
    ("vote-2", "Elections were held in the north.", "2024-01-10", "Asia"),
    ("vote-3", "The count goes on.", "2024-01-10", "Europe"),
    ("dredging-old", "Canal dredging plan. Dredging again.", "2001-03-01", "Asia"),
    ("dredging-new", "Canal dredging plan.", (TODAY - dt.timedelta(7)).isoformat(), "Asia"),
] + [(f"filler-{n}", FILLER, "2020-01-01", "Asia") for n in range(10)]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("desk-serve")
    lines = [
        json.dumps({"id": id, "title": f"Report {id}", "body": body, "date": date, "regions": [r]})
        for id, body, date, r in ARTICLES
    ]
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not index_paths(folder / "index", [folder / "articles.jsonl"], procs=1).problems
    return folder / "index"


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    with serving(index_dir, tmp_path_factory.mktemp("desk-serve-run"), workers=2) as server:
        yield server


@pytest.fixture()
def desk(index_dir):
    desk = Desk(index_dir)
    yield desk
    desk.restore(0, "test")


def _owner(pids: set[int], server_port: int, client_port: int) -> int | None:
    """The worker holding the server's side of the connection from ``client_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if local == server_port and remote == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


class Workers:
    """One keep-alive connection to each worker of the server."""

    def __init__(self, server, workers: int = 2):
        self.server = server
        self.host, self.port = urlsplit(server.url).hostname, urlsplit(server.url).port
        self.pids = set(children(server.process.pid))
        assert len(self.pids) == workers, self.pids
        self.connections: dict[int, http.client.HTTPConnection] = {}
        for _ in range(40):
            if len(self.connections) == workers:
                return
            connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self._ask(connection, "/healthz")
            pid = _owner(self.pids, self.port, connection.sock.getsockname()[1])
            if pid is None or pid in self.connections:
                connection.close()
            else:
                self.connections[pid] = connection
        pytest.fail(f"could not reach every worker: {self.connections}")

    @staticmethod
    def _ask(connection, path: str) -> dict:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[:300]
        assert not response.will_close, "the server closed a keep-alive connection"
        return json.loads(body)

    def search(self, pid: int, **params) -> dict:
        return self._ask(self.connections[pid], f"/api/search?{urlencode(params, doseq=True)}")

    def seconds_until(self, condition, **params) -> dict[int, float]:
        """For each worker, seconds from now until its answer to the search satisfies
        ``condition`` (asked every 50 ms, each worker in turn); fails after 10 s."""
        began, seen = time.monotonic(), {}
        while len(seen) < len(self.connections) and time.monotonic() - began < 10:
            for pid in self.connections:
                if pid not in seen and condition(self.search(pid, **params)):
                    seen[pid] = time.monotonic() - began
            time.sleep(0.05)
        assert len(seen) == len(self.connections), f"not seen on every worker: {seen}"
        return seen

    def close(self):
        for connection in self.connections.values():
            connection.close()


@pytest.fixture()
def workers(server):
    workers = Workers(server)
    yield workers
    workers.close()


def _ids(answer: dict) -> list[str]:
    return [hit["id"] for hit in answer["results"]]


def test_a_synonym_is_live_on_every_worker_within_2_s(workers, desk):
    for pid in workers.connections:
        assert _ids(workers.search(pid, q="kiev ")) == ["kiev"]
    synonym = desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
    seconds = workers.seconds_until(lambda a: "kyiv" in _ids(a), q="kiev ")
    assert max(seconds.values()) < LIVE_SECONDS, seconds
    answer = workers.search(next(iter(workers.connections)), q="kie")  # while typing
    assert set(_ids(answer)) == {"kyiv", "kiev"}
    assert answer["synonyms_applied"][0]["id"] == synonym.id
    desk.remove_synonym(synonym.id, "ana")
    seconds = workers.seconds_until(lambda a: _ids(a) == ["kiev"], q="kiev ")
    assert max(seconds.values()) < LIVE_SECONDS, seconds


def test_a_rule_is_live_on_every_worker_within_2_s(workers, desk):
    rule = desk.add_rule({"query": "elections", "pin": ["vote-3", "kyiv"]}, "ana")
    seconds = workers.seconds_until(lambda a: a["rules_applied"] == [rule.id], q="elections")
    assert max(seconds.values()) < LIVE_SECONDS, seconds
    for pid in workers.connections:
        assert _ids(workers.search(pid, q="Elections"))[:2] == ["vote-3", "kyiv"]
        # Pins left out by the reader's filter leave no gap.
        assert _ids(workers.search(pid, q="elections", region="Asia")) == ["vote-2"]
        europe = workers.search(pid, q="elections", region="Europe")
        assert _ids(europe) == ["vote-3", "kyiv", "vote-1"]


def test_a_freshness_change_is_live_on_every_worker_within_2_s(workers, desk):
    for pid in workers.connections:
        assert _ids(workers.search(pid, q="canal dredging")) == ["dredging-old", "dredging-new"]
    desk.set_freshness({"half_life_days": 90, "weight": 0.5}, "ana")
    newest_first = ["dredging-new", "dredging-old"]
    seconds = workers.seconds_until(lambda a: _ids(a) == newest_first, q="canal dredging")
    assert max(seconds.values()) < LIVE_SECONDS, seconds


def test_a_rule_stops_at_its_end_time_with_nobody_doing_anything(workers, desk):
    ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    rule = desk.add_rule(
        {"query": "elections", "pin": ["kyiv"], "ends_at": ends_at.isoformat()}, "a"
    )
    seconds = workers.seconds_until(lambda a: a["rules_applied"] == [rule.id], q="elections")
    assert max(seconds.values()) < LIVE_SECONDS, seconds
    time.sleep(max(0.0, (ends_at - dt.datetime.now(dt.UTC)).total_seconds()))
    for pid in workers.connections:
        answer = workers.search(pid, q="elections")
        assert answer["rules_applied"] == [] and "kyiv" not in _ids(answer)


def test_the_feed_and_the_cli_apply_rules(server, desk, index_dir):
    desk.add_rule({"query": "elections", "pin": ["kyiv"], "hide": ["vote-2"]}, "ana")
    time.sleep(LIVE_SECONDS)
    status, feed = server.get("/search.atom", {"q": "elections"})
    assert status == 200 and b"Report vote-1" in feed and b"Report kyiv" in feed
    assert b"Report vote-2" not in feed
    found = subprocess.run(
        [article_search_command(), "search", "elections", "--json", "--index", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    answer = json.loads(found.stdout)
    assert _ids(answer)[0] == "kyiv" and "vote-2" not in _ids(answer)
    assert answer["rules_applied"] == [desk.state().rules[0].id]


@pytest.mark.skipif(not shutil.which("rsync"), reason="rsync (Debian's package)")
def test_a_replica_serves_the_desk_it_was_published(index_dir, desk, tmp_path):
    replica = tmp_path / "replica"
    rule = desk.add_rule({"query": "elections", "pin": ["kyiv"]}, "ana")
    publish(index_dir, str(replica))
    with serving(replica, tmp_path) as served:
        assert served.search(q="elections")["rules_applied"] == [rule.id]
        desk.add_synonym({"words": ["kyiv", "kiev"]}, "ana")
        assert _ids(served.search(q="kiev ")) == ["kiev"]  # not published yet
        publish(index_dir, str(replica))
        workers = Workers(served)
        try:
            seconds = workers.seconds_until(lambda a: "kyiv" in _ids(a), q="kiev ")
        finally:
            workers.close()
        assert max(seconds.values()) < LIVE_SECONDS, seconds
