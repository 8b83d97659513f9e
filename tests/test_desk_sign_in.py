"""Signing in to the desk through the Flask app: sessions, cookies, CSRF, tokens, locks, replicas.

Every admin route is checked against the app's own URL map, so a route added
later is covered by the signed-out, revoked-token and missing-CSRF checks too.
"""

from __future__ import annotations

import logging
import re
import shutil
import stat

import pytest

from search.desk import DESK_FILE, Desk
from search.editors import (
    ACCOUNT_FAILURES,
    CLIENT_FAILURES,
    EDITORS_DB,
    FAILURE_WINDOW_SECONDS,
    SESSION_IDLE_SECONDS,
    SESSION_SECONDS,
    EditorStore,
)
from search.settings import SettingError
from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD
from web import create_app
from web.editor_auth import is_desk_path
from web.secret_key import SECRET_KEY_FILE

SAFE = {"GET", "HEAD", "OPTIONS"}
OPEN_ROUTES = {"/admin/sign-in"}  # the form itself, before signing in


def desk_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every guarded desk route, with 1 for each URL variable."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not is_desk_path(rule.rule) or rule.rule in OPEN_ROUTES:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def cookie_header(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie")


def test_there_are_desk_routes_to_check(desk_app):
    routes = desk_routes(desk_app)
    assert ("GET", "/admin") in routes
    assert ("POST", "/admin/sign-out") in routes
    assert ("GET", "/api/admin/me") in routes


def test_signed_out_every_desk_route_redirects_or_401s_without_data(desk_app):
    client = desk_app.test_client()
    for method, path in desk_routes(desk_app):
        response = client.open(path, method=method, json={} if method != "GET" else None)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert set(response.get_json()) == {"error"}
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["Location"].startswith("/admin/sign-in")
        assert EDITOR_NAME not in response.get_data(as_text=True)


def test_sign_in_shows_the_desk_then_sign_out_ends_the_session_everywhere(desk):
    assert desk.client.get("/admin").headers["Location"] == "/admin/sign-in?next=/admin"
    response = desk.sign_in()
    assert response.status_code == 303 and response.headers["Location"] == "/admin"
    page = desk.client.get("/admin")
    assert page.status_code == 200
    assert "Signed in as" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    signed_in_cookie = desk.client.get_cookie("article_search_desk").value

    response = desk.client.post("/admin/sign-out", data={"csrf_token": desk.csrf("/admin")})
    assert response.status_code == 303
    assert desk.client.get("/admin").status_code == 303
    # The cookie as it was before signing out is worth nothing now (a stolen copy, say).
    desk.client.set_cookie("article_search_desk", signed_in_cookie)
    assert desk.client.get("/admin").status_code == 303
    assert desk.client.get("/api/admin/me").status_code == 401


def test_the_session_cookie_is_httponly_strict_expiring_and_secure_behind_tls(desk):
    response = desk.sign_in()
    cookie = cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain HTTP (a test client): a Secure cookie would be lost

    # Over TLS (gunicorn sets the scheme from nginx's X-Forwarded-Proto: test_desk_serve.py).
    tls = desk.client.application.test_client()
    form = tls.get("/admin/sign-in", base_url="https://localhost")
    assert "; Secure" in cookie_header(form)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True))[1]
    form = {"csrf_token": token, "name": EDITOR_NAME, "password": EDITOR_PASSWORD}
    signed_in = tls.post("/admin/sign-in", data=form, base_url="https://localhost")
    assert signed_in.status_code == 303 and "; Secure" in cookie_header(signed_in)


def test_a_new_session_id_at_sign_in_and_none_for_readers(desk):
    desk.csrf()
    before = desk.client.get_cookie("article_search_desk").value
    desk.sign_in()
    after = desk.client.get_cookie("article_search_desk").value
    assert before != after
    reader = desk.client.get("/search", query_string={"q": "water"})
    assert "Set-Cookie" not in reader.headers


def test_sign_in_without_the_forms_csrf_token_is_refused(desk):
    desk.csrf()
    form = {"name": EDITOR_NAME, "password": EDITOR_PASSWORD}
    assert desk.client.post("/admin/sign-in", data=form).status_code == 400
    form["csrf_token"] = "forged"
    assert desk.client.post("/admin/sign-in", data=form).status_code == 400
    assert desk.client.get("/admin").status_code == 303


def test_with_a_session_but_no_csrf_token_nothing_changes(desk_app, desk):
    desk.sign_in()
    for method, path in desk_routes(desk_app):
        if method in SAFE:
            continue
        if path.startswith("/api/"):
            response = desk.client.open(path, method=method, json={})
            assert response.status_code == 403, (method, path)
        else:
            response = desk.client.open(path, method=method, data={"csrf_token": "forged"})
            assert response.status_code == 403, (method, path)
    assert desk.client.get("/admin").status_code == 200  # sign-out without a token did not


def test_next_after_sign_in_stays_on_the_desk(desk):
    token = desk.csrf()
    for target in ("//evil.example/admin", "https://evil.example/", "/search", "/\\evil"):
        form = {"csrf_token": token, "name": EDITOR_NAME, "password": EDITOR_PASSWORD}
        response = desk.client.post("/admin/sign-in", data={**form, "next": target})
        assert response.headers["Location"] == "/admin", target
        desk.client.post("/admin/sign-out", data={"csrf_token": desk.csrf("/admin")})
        token = desk.csrf()


@pytest.mark.slow
def test_api_tokens_work_until_revoked(desk_app, desk_index):
    store = EditorStore(desk_index)
    token = store.new_token(EDITOR_NAME)
    client = desk_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/admin/me", headers=auth).get_json() == {"editor": EDITOR_NAME}
    for bad in (f"Bearer {token}x", "Bearer ", f"Basic {token}", token, "Bearer ast_x_y"):
        response = client.get("/api/admin/me", headers={"Authorization": bad})
        assert response.status_code == 401, bad
    assert store.revoke_tokens(EDITOR_NAME) == 1
    # Revoked: refused at once, by the same process that had checked it before.
    for method, path in desk_routes(desk_app):
        if path.startswith("/api/"):
            response = client.open(path, method=method, headers=auth, json={})
            assert response.status_code == 401, (method, path)


def test_removing_an_editor_signs_them_out_and_ends_their_tokens(desk_app, desk, desk_index):
    token = EditorStore(desk_index).new_token(EDITOR_NAME)
    desk.sign_in()
    EditorStore(desk_index).remove(EDITOR_NAME)
    assert desk.client.get("/admin").status_code == 303
    response = desk_app.test_client().get(
        "/api/admin/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


@pytest.mark.slow
def test_a_burst_of_wrong_passwords_locks_the_name_then_the_client(desk, caplog):
    caplog.set_level(logging.WARNING)
    wrong = "not the password at all"
    for attempt in range(ACCOUNT_FAILURES):
        response = desk.sign_in(password=wrong, **{"X-Forwarded-For": f"10.0.0.{attempt}"})
        assert response.status_code == 401
    # Locked for the name, from any client, even with the right password.
    response = desk.sign_in(**{"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert desk.client.get("/admin").status_code == 303
    log = caplog.text
    assert wrong not in log and EDITOR_PASSWORD not in log
    assert f"sign-in failed for '{EDITOR_NAME}' from 10.0.0.4" in log

    # One client trying many names is locked for every name.
    client = {"X-Forwarded-For": "10.1.1.1"}
    for attempt in range(CLIENT_FAILURES):
        assert desk.sign_in(name=f"guess{attempt}", password=wrong, **client).status_code == 401
    assert desk.sign_in(name="another", password=wrong, **client).status_code == 429
    # A name that is no editor's is not logged (it could be a password typed in the wrong box).
    assert "guess1" not in caplog.text


def test_the_accounts_database_holds_no_password_token_or_session_in_clear(desk_index, desk):
    token = EditorStore(desk_index).new_token(EDITOR_NAME)
    desk.sign_in(password="wrong password typed")
    desk.sign_in(name=EDITOR_PASSWORD, password="x" * 12)  # the password in the name box
    desk.sign_in()
    session_cookie = desk.client.get_cookie("article_search_desk").value
    import base64
    import json

    payload = session_cookie.split(".")[0]
    session_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
    files = [p for p in desk_index.iterdir() if p.name.startswith(EDITORS_DB)]
    stored = b"".join(path.read_bytes() for path in files)
    assert b"scrypt$" in stored  # the hashes are there, read from the same bytes
    # The token's secret is what follows its second underscore; it may hold underscores itself.
    token_secret = token.split("_", 2)[2]
    for secret in (EDITOR_PASSWORD, "wrong password typed", token, token_secret, session_id):
        assert len(secret) >= 12, secret
        assert secret.encode() not in stored, secret
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_secret_key_is_made_once_and_kept_private(desk_index, desk, monkeypatch):
    desk.sign_in()
    key_file = desk_index / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    # Another process (worker, restart) reads the same key: the session still holds.
    other = create_app({"INDEX_DIR": desk_index, "TESTING": True}).test_client()
    other.set_cookie("article_search_desk", desk.client.get_cookie("article_search_desk").value)
    assert other.get("/admin").status_code == 200
    monkeypatch.setenv("ARTICLE_SEARCH_SECRET_KEY", "too short")
    with pytest.raises(SettingError, match="ARTICLE_SEARCH_SECRET_KEY"):
        create_app({"INDEX_DIR": desk_index})


def test_a_replica_has_no_desk_even_with_accounts_a_session_and_a_token(desk_index, desk, tmp_path):
    token = EditorStore(desk_index).new_token(EDITOR_NAME)
    desk.sign_in()
    # The worst case: a replica's folder that somehow holds the accounts too.
    replica = tmp_path / "replica"
    shutil.copytree(desk_index, replica, symlinks=True)
    Desk(desk_index).copy_to(replica / DESK_FILE)  # what publish leaves: the desk, as a copy
    client = create_app({"INDEX_DIR": replica, "TESTING": True}).test_client()
    client.set_cookie("article_search_desk", desk.client.get_cookie("article_search_desk").value)
    for path in ("/admin", "/admin/sign-in", "/api/admin/me", "/admin/nothing", "/api/admin"):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, path
        assert "Set-Cookie" not in response.headers
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.post("/admin/sign-in", data={"name": EDITOR_NAME}).status_code == 404
    assert client.get("/search", query_string={"q": "water"}).status_code == 200


def _age(index_dir, table: str, column: str, seconds: float) -> None:
    """Move every row's time in the accounts database ``seconds`` into the past."""
    import sqlite3

    with sqlite3.connect(index_dir / EDITORS_DB) as db:
        db.execute(f"UPDATE {table} SET {column} = {column} - ?", (seconds,))


def test_a_session_ends_after_its_lifetime_in_use_or_not(desk, desk_index):
    desk.sign_in()
    _age(desk_index, "sessions", "created_at", SESSION_SECONDS - 120)
    assert desk.client.get("/admin").status_code == 200  # used all day: still signed in
    _age(desk_index, "sessions", "created_at", 121)
    assert desk.client.get("/admin").status_code == 303
    assert desk.client.get("/api/admin/me").status_code == 401


def test_a_session_ends_after_an_hour_unused(desk, desk_index):
    desk.sign_in()
    _age(desk_index, "sessions", "last_seen_at", SESSION_IDLE_SECONDS - 120)
    assert desk.client.get("/admin").status_code == 200  # and this use counts
    _age(desk_index, "sessions", "last_seen_at", SESSION_IDLE_SECONDS - 120)
    assert desk.client.get("/admin").status_code == 200
    _age(desk_index, "sessions", "last_seen_at", SESSION_IDLE_SECONDS + 1)
    assert desk.client.get("/admin").status_code == 303


def test_a_lock_lifts_when_the_failures_are_old_enough(desk, desk_index):
    for _ in range(ACCOUNT_FAILURES):
        assert desk.sign_in(password="not the password at all").status_code == 401
    assert desk.sign_in().status_code == 429
    _age(desk_index, "sign_in_failures", "at", FAILURE_WINDOW_SECONDS)
    assert desk.sign_in().status_code == 303


def test_a_desk_that_cannot_write_its_folder_answers_503_not_500(tmp_path, demo_index):
    missing = create_app({"INDEX_DIR": tmp_path / "no-index-yet"}).test_client()
    for path in ("/admin/sign-in", "/admin", "/api/admin/synonyms"):
        response = missing.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
    broken = tmp_path / "broken"
    shutil.copytree(demo_index, broken, symlinks=True)
    (broken / EDITORS_DB).mkdir()  # not a database SQLite can open
    client = create_app({"INDEX_DIR": broken}).test_client()
    form = client.get("/admin/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True))[1]
    signing_in = {"csrf_token": token, "name": EDITOR_NAME, "password": EDITOR_PASSWORD}
    assert client.post("/admin/sign-in", data=signing_in).status_code == 503
    assert (
        client.get("/api/admin/me", headers={"Authorization": "Bearer ast_1_x"}).status_code == 503
    )
