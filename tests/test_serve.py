"""The real server end to end: `article-search serve` (gunicorn, 2 workers) over HTTP,
while `article-search index` adds an article and `--rebuild` swaps the index under it.
"""

import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from tests.conftest import (
    DEMO_ARTICLES,
    LiveServer,
    article_search_command,
    matching_demo_articles,
    serving,
)

pytestmark = pytest.mark.server

NEW_ARTICLE_ID = "2025-09-02-quillmoor-kelp-cooperative.txt"
NEW_WORD = "quillmoor"  # in no demo article
NEW_ARTICLE = """\
Quillmoor Kelp Cooperative Opens Its First Drying Shed

By [Ines Vidal](#)

Demo Wire, September 2, 2025

Region: [Oceania](#)

Theme: [Food and Agriculture](#)

The Quillmoor kelp cooperative opened its first drying shed on Tuesday, after three seasons of
selling wet seaweed to a processor two hundred kilometres away at whatever price was offered.

Members say drying the harvest themselves should double what they earn from each tonne.
"""
REFRESH_WAIT_SECONDS = 10  # the engine re-checks the generation about once a second
CONSECUTIVE = 6  # answers in a row that must agree: requests spread over both workers


def run_cli(*args: str) -> str:
    finished = subprocess.run(
        [article_search_command(), *args], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, f"article-search {args}: {finished.stderr}{finished.stdout}"
    return finished.stdout


def wait_for(condition, what: str, server: LiveServer) -> None:
    """Poll until ``condition()`` is true CONSECUTIVE times in a row, or fail."""
    deadline = time.monotonic() + REFRESH_WAIT_SECONDS
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if condition() else 0
        if streak >= CONSECUTIVE:
            return
        time.sleep(0.05)
    pytest.fail(f"not seen within {REFRESH_WAIT_SECONDS} s: {what}\n{server.log_tail()}")


class RequestLoop:
    """Searches and health checks in a thread, counting every failure."""

    def __init__(self, server: LiveServer, q: str):
        self.server, self.q = server, q
        self.totals: Counter = Counter()
        self.generations: list[str] = []
        self.failures: list[str] = []
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path, params in (("/api/search", {"q": self.q}), ("/healthz", None)):
                self.requests += 1
                try:
                    data = self.server.json(path, params)
                except (AssertionError, OSError, ValueError) as error:
                    self.failures.append(f"{path}: {error}")
                    continue
                if "total" in data:
                    self.totals[data["total"]] += 1
                else:
                    self.generations.append(data["generation"])

    @contextmanager
    def running(self):
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=15)


@pytest.fixture(scope="module")
def reindexed_server(tmp_path_factory):
    """A server over an index the tests may change: demo articles copied to a temp folder."""
    workdir = tmp_path_factory.mktemp("serve")
    articles = workdir / "articles"
    shutil.copytree(DEMO_ARTICLES, articles)
    index_dir = workdir / "index"
    run_cli("index", str(articles), "--index", str(index_dir), "--procs", "1")
    with serving(index_dir, workdir, workers=2) as server:
        server.articles = articles
        yield server


def test_serves_health_search_pages_and_static_files(reindexed_server):
    server = reindexed_server
    health = server.json("/healthz")
    assert health["status"] == "ok"
    assert health["documents"] == len(list(DEMO_ARTICLES.glob("*.txt")))

    expected = matching_demo_articles("heat")
    result = server.search(q="heat", per_page=50)
    assert result["total"] == len(expected)
    assert {hit["id"] for hit in result["results"]} == expected

    status, page = server.get("/search", {"q": "heat"})
    assert status == 200
    assert b'id="search-form"' in page and b'data-total="%d"' % len(expected) in page
    assert server.get("/static/app.js")[0] == 200
    assert server.get("/static/app.css")[0] == 200
    assert server.get("/articles/no-such-article.txt")[0] == 404


def test_new_article_is_found_without_restart(reindexed_server):
    server = reindexed_server
    assert server.search(q=NEW_WORD, semantic="0")["total"] == 0
    before = server.json("/healthz")["documents"]
    pid = server.process.pid

    (server.articles / NEW_ARTICLE_ID).write_text(NEW_ARTICLE, encoding="utf-8")
    with RequestLoop(server, "heat").running() as loop:
        summary = run_cli("index", str(server.articles), "--index", str(server.index_dir))
        assert "added 1," in summary

        def found() -> bool:
            hits = server.search(q=NEW_WORD)["results"]
            counted = server.json("/healthz")["documents"] == before + 1
            return counted and [hit["id"] for hit in hits] == [NEW_ARTICLE_ID]

        wait_for(found, f"{NEW_ARTICLE_ID} in /api/search?q={NEW_WORD} and /healthz", server)

    assert server.process.poll() is None and server.process.pid == pid  # no restart
    assert server.json("/healthz")["documents"] == before + 1
    assert loop.failures == [], loop.failures[:5]
    assert server.get(f"/articles/{NEW_ARTICLE_ID}")[0] == 200
    oceania = server.search(q=NEW_WORD, region="Oceania")
    assert oceania["total"] == 1
    assert {"value": "Oceania", "count": 1, "selected": True} in oceania["facets"]["region"]


def test_rebuild_while_serving_fails_no_request(reindexed_server):
    server = reindexed_server
    expected_total = server.search(q="heat")["total"]
    documents = server.json("/healthz")["documents"]

    with RequestLoop(server, "heat").running() as loop:
        # Two swaps: the second removes the build the workers' first generation lived in.
        for _ in range(2):
            old = server.json("/healthz")["generation"]
            run_cli("index", "--rebuild", str(server.articles), "--index", str(server.index_dir))
            new_build = (server.index_dir / "current").resolve().name
            assert not old.startswith(new_build + "/")
            wait_for(
                lambda build=new_build: server.json("/healthz")["generation"].startswith(build),
                f"generation of build {new_build} in /healthz",
                server,
            )
        time.sleep(0.3)  # a few more requests on the final generation

    assert loop.failures == [], loop.failures[:5]
    assert loop.requests > 20, "the request loop hardly ran"
    assert set(loop.totals) == {expected_total}, loop.totals
    assert server.json("/healthz")["documents"] == documents
    assert len({generation.split("/")[0] for generation in loop.generations}) >= 3


def test_a_pasted_page_is_searched_up_to_what_gunicorn_reads(reindexed_server):
    server = reindexed_server
    pasted = "Heat pump installers said sales stalled after the subsidy cut. " * 110
    assert 6_500 < len(pasted) < 8_000  # a request line gunicorn still reads
    status, body = server.get("/api/search", {"q": pasted})
    assert status == 200, server.log_tail()
    data = json.loads(body)
    assert data["truncated"] and data["total"] > 0
    status, page = server.get("/search", {"q": pasted})
    assert status == 200 and b"only its first part was searched" in page
    # Past gunicorn's request-line limit, the only refusal left: 414, before the app.
    assert server.get("/api/search", {"q": pasted * 2})[0] == 414


def test_a_worker_opens_the_index_before_its_first_request(demo_index, tmp_path, caplog):
    from web import EXTENSION, create_app, gunicorn_conf

    app = create_app({"INDEX_DIR": demo_index, "TESTING": True})
    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=app, log=logging.getLogger("worker")))
    assert app.extensions[EXTENSION]._engine is not None
    # No index: the worker still boots, and its requests say what is wrong.
    missing = create_app({"INDEX_DIR": tmp_path / "none", "TESTING": True})
    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=missing, log=logging.getLogger("worker")))
    assert "opening the index before the first request failed" in caplog.text
    assert missing.test_client().get("/healthz").status_code == 503


def test_a_missing_module_stops_serve_with_one_line_naming_it(demo_index, tmp_path):
    """gunicorn's gevent worker imports ``packaging.version``; shadow ``packaging`` with a
    plain module, as an install without it would leave things, and serve must say so once."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "packaging.py").write_text('"""Not the real packaging: it has no version."""\n')
    finished = subprocess.run(
        [article_search_command(), "serve", "--index", str(demo_index), "--bind", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(shadow)},
    )
    assert finished.returncode == 2
    assert finished.stdout == ""
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert "'packaging.version' is missing" in lines[0]
    assert "gunicorn.workers.ggevent" in lines[0]
    assert "make install-run" in lines[0]
