"""The desk's sign-in and API against a real ``article-search serve`` with 2 workers.

An API change answers on every worker within 2 s; a session made on one worker
holds on the other and ends on both; failed sign-ins on either worker count
towards one lock; schemathesis runs every admin route signed in with a token.
Which worker answers is read from /proc (tests/test_desk_serve.Workers).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from index.indexer import index_paths
from search.desk import Desk
from search.editors import ACCOUNT_FAILURES, EditorStore
from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD, serving
from tests.test_desk_serve import ARTICLES, LIVE_SECONDS, Workers

pytestmark = pytest.mark.server

SESSION_COOKIE = "article_search_desk"


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk-admin-serve")
    lines = [
        json.dumps({"id": id, "title": f"Report {id}", "body": body, "date": date, "regions": [r]})
        for id, body, date, r in ARTICLES
    ]
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    index_dir = folder / "index"
    assert not index_paths(index_dir, [folder / "articles.jsonl"], procs=1).problems
    EditorStore(index_dir).add(EDITOR_NAME, EDITOR_PASSWORD)
    with serving(index_dir, folder, workers=2) as server:
        server.token = EditorStore(index_dir).new_token(EDITOR_NAME)
        yield server


@pytest.fixture()
def workers(desk_server):
    workers = Workers(desk_server)
    yield workers
    workers.close()
    Desk(desk_server.index_dir).restore(0, "test")


def ask(connection, method: str, path: str, body: bytes | None = None, headers=None):
    """(status, headers, body) of one request on a kept-alive connection."""
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.headers, response.read()


def _session(headers) -> str | None:
    found = re.search(rf"{SESSION_COOKIE}=([^;]*)", headers.get("Set-Cookie") or "")
    return found.group(1) if found else None


def test_an_api_change_answers_on_every_worker_within_2_s(desk_server, workers):
    auth = {"Authorization": f"Bearer {desk_server.token}", "Content-Type": "application/json"}
    for pid in workers.connections:
        assert [hit["id"] for hit in workers.search(pid, q="kiev ")["results"]] == ["kiev"]
    first = next(iter(workers.connections.values()))
    body = json.dumps({"words": ["kyiv", "kiev"]}).encode()
    status, _, answer = ask(first, "POST", "/api/admin/synonyms", body, auth)
    assert status == 201, answer
    synonym_id = json.loads(answer)["id"]

    def applied(answer: dict) -> bool:
        return [s["id"] for s in answer["synonyms_applied"]] == [synonym_id]

    seconds = workers.seconds_until(applied, q="kiev ")
    assert max(seconds.values()) < LIVE_SECONDS, seconds

    last = list(workers.connections.values())[-1]
    status, _, _ = ask(last, "DELETE", f"/api/admin/synonyms/{synonym_id}", None, auth)
    assert status == 204
    seconds = workers.seconds_until(lambda a: a["synonyms_applied"] == [], q="kiev ")
    assert max(seconds.values()) < LIVE_SECONDS, seconds


def _sign_in_form(connection) -> tuple[str, str]:
    """(session cookie, CSRF token) of a fresh sign-in form."""
    status, headers, page = ask(connection, "GET", "/admin/sign-in")
    assert status == 200
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    return _session(headers), token


def _post_sign_in(connection, cookie: str, token: str, password: str):
    form = urlencode({"csrf_token": token, "name": EDITOR_NAME, "password": password})
    headers = {
        "Cookie": f"{SESSION_COOKIE}={cookie}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return ask(connection, "POST", "/admin/sign-in", form.encode(), headers)


def test_a_session_made_on_one_worker_holds_on_the_other_and_ends_on_both(workers):
    one, other = workers.connections.values()
    cookie, token = _sign_in_form(one)
    status, headers, _ = _post_sign_in(one, cookie, token, EDITOR_PASSWORD)
    assert status == 303
    signed_in = {"Cookie": f"{SESSION_COOKIE}={_session(headers)}"}
    for connection in (one, other):
        status, _, page = ask(connection, "GET", "/admin", headers=signed_in)
        assert status == 200 and b"Signed in as" in page
    page = ask(other, "GET", "/admin", headers=signed_in)[2]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = urlencode({"csrf_token": token}).encode()
    headers = {**signed_in, "Content-Type": "application/x-www-form-urlencoded"}
    assert ask(other, "POST", "/admin/sign-out", form, headers)[0] == 303
    for connection in (one, other):
        assert ask(connection, "GET", "/admin", headers=signed_in)[0] == 303


def test_failed_sign_ins_on_either_worker_count_towards_one_lock(workers):
    connections = list(workers.connections.values())
    for attempt in range(ACCOUNT_FAILURES):
        connection = connections[attempt % 2]
        cookie, token = _sign_in_form(connection)
        assert _post_sign_in(connection, cookie, token, "wrong password here")[0] == 401
    for connection in connections:
        cookie, token = _sign_in_form(connection)
        status, headers, _ = _post_sign_in(connection, cookie, token, EDITOR_PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) > 0


@pytest.mark.slow
def test_schemathesis_finds_nothing_wrong_with_the_admin_api_signed_in(desk_server, tmp_path):
    """``st run`` over every /api/admin route with a token: no 5xx, documented statuses,
    content types and schemas, bad bodies rejected. Schema-valid bodies may still be
    refused by the desk's own checks (two spellings of one word, a phrase without a
    letter), so acceptance of every schema-valid body is not checked."""
    st = Path(sys.executable).with_name("st")
    here = Path(__file__).parent
    command = [
        str(st),
        "--config-file", str(here / "schemathesis.toml"),
        "run", f"{desk_server.url}/openapi.json",
        "--include-path-regex", "^/api/admin",
        "-H", f"Authorization: Bearer {desk_server.token}",
        "--checks", "all",
        "--exclude-checks", "positive_data_acceptance",
        "--max-examples", "25",
        "--request-timeout", "30",
        "--seed", str(random.randrange(2**32)),
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    output = run.stdout + run.stderr
    Desk(desk_server.index_dir).restore(0, "test")
    # A warning (schema-valid bodies the desk refuses, as said above) is not a failure.
    assert run.returncode == 0, output[-6000:]
    assert re.search(r"Test cases:\s+\d+ generated, \d+ passed", output), output[-3000:]
    assert "failed" not in output.split("Test cases:")[1].splitlines()[1], output[-3000:]


def test_the_cookie_is_secure_behind_a_tls_proxy_and_only_then(workers):
    connection = next(iter(workers.connections.values()))
    # nginx on the same host (a peer in FORWARDED_ALLOW_IPS) says the client came over TLS.
    _, headers, _ = ask(connection, "GET", "/admin/sign-in", headers={"X-Forwarded-Proto": "https"})
    cookie = headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    _, headers, _ = ask(connection, "GET", "/admin/sign-in")
    assert "Secure" not in headers["Set-Cookie"]
