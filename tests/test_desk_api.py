"""The desk's JSON API (/api/admin/...) through the Flask app, with an editor's Bearer token."""

from __future__ import annotations

import pytest

from search.desk import Desk
from search.editors import EditorStore
from tests.conftest import EDITOR_NAME


class Api:
    """The test client with anna's token on every request."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, body=None, data=None):
        return self.client.open(path, method=method, json=body, data=data, headers=self.headers)


@pytest.fixture()
def api(desk_app, desk_index) -> Api:
    return Api(desk_app.test_client(), EditorStore(desk_index).new_token(EDITOR_NAME))


def test_synonyms_are_added_listed_changed_and_removed(api, desk_index):
    made = api("POST", "/api/admin/synonyms", {"words": ["kyiv", "kiev"]})
    assert made.status_code == 201
    synonym_id = made.get_json()["id"]
    assert made.headers["Location"] == f"/api/admin/synonyms/{synonym_id}"
    one_way = api("POST", "/api/admin/synonyms", {"from": ["nato"], "to": ["north atlantic"]})
    assert one_way.status_code == 201

    listed = api("GET", "/api/admin/synonyms").get_json()["synonyms"]
    assert listed == [
        {"id": synonym_id, "words": ["kyiv", "kiev"]},
        {"id": one_way.get_json()["id"], "from": ["nato"], "to": ["north atlantic"]},
    ]
    changed = api("PUT", f"/api/admin/synonyms/{synonym_id}", {"words": ["kyiv", "kiev", "kyjiw"]})
    assert changed.status_code == 200 and changed.get_json()["words"][-1] == "kyjiw"
    assert api("GET", f"/api/admin/synonyms/{synonym_id}").get_json() == changed.get_json()
    assert api("DELETE", f"/api/admin/synonyms/{synonym_id}").status_code == 204
    assert api("GET", f"/api/admin/synonyms/{synonym_id}").status_code == 404
    assert api("DELETE", f"/api/admin/synonyms/{synonym_id}").status_code == 404
    # The store agrees, and knows who did it.
    assert [s.id for s in Desk(desk_index).state().synonyms] == [one_way.get_json()["id"]]
    assert {change.editor for change in Desk(desk_index).history()} == {EDITOR_NAME}


def test_rules_and_freshness(api):
    rule = {
        "query": "elections",
        "match": "contains",
        "filters": {"theme": ["Elections"]},
        "pin": ["b.txt", "a.txt"],
        "hide": ["c.txt"],
        "starts_at": "2026-01-01T00:00:00",
        "ends_at": "2027-01-01T00:00:00+01:00",
        "note": "until the count is over",
    }
    made = api("POST", "/api/admin/rules", rule)
    assert made.status_code == 201
    rule_id = made.get_json()["id"]
    answered = made.get_json()
    assert answered["pin"] == ["b.txt", "a.txt"] and answered["ends_at"] == "2026-12-31T23:00:00Z"
    assert api("GET", "/api/admin/rules").get_json()["rules"] == [answered]
    changed = api("PUT", f"/api/admin/rules/{rule_id}", {"query": "elections", "pin": ["a.txt"]})
    assert changed.get_json()["match"] == "exact" and changed.get_json()["hide"] == []
    assert api("DELETE", f"/api/admin/rules/{rule_id}").status_code == 204
    assert api("GET", "/api/admin/rules").get_json() == {"rules": []}

    assert api("GET", "/api/admin/freshness").get_json()["weight"] == 0
    setting = {"half_life_days": 30, "weight": 0.25}
    assert api("PUT", "/api/admin/freshness", setting).get_json() == setting
    assert api("GET", "/api/admin/freshness").get_json() == setting


def test_history_and_restore(api):
    first = api("POST", "/api/admin/synonyms", {"words": ["kyiv", "kiev"]}).get_json()["id"]
    api("POST", "/api/admin/synonyms", {"words": ["gaza", "ghazzah"]})
    api("DELETE", f"/api/admin/synonyms/{first}")
    changes = api("GET", "/api/admin/history").get_json()["changes"]
    assert [(c["action"], c["kind"]) for c in changes] == [
        ("remove", "synonym"),
        ("add", "synonym"),
        ("add", "synonym"),
    ]
    assert changes[0]["editor"] == EDITOR_NAME and changes[0]["before"]["words"] == ["kyiv", "kiev"]
    assert len(api("GET", "/api/admin/history?limit=1").get_json()["changes"]) == 1
    restored = api("POST", f"/api/admin/history/{changes[1]['number']}/restore")
    assert restored.status_code == 200 and restored.get_json()["action"] == "restore"
    words = [s["words"] for s in api("GET", "/api/admin/synonyms").get_json()["synonyms"]]
    assert words == [["kyiv", "kiev"], ["gaza", "ghazzah"]]
    assert api("POST", "/api/admin/history/999/restore").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/admin/synonyms"),
        ("PUT", "/api/admin/synonyms/{synonym}"),
        ("POST", "/api/admin/rules"),
        ("PUT", "/api/admin/rules/{rule}"),
        ("PUT", "/api/admin/freshness"),
    ],
)
def test_bad_bodies_are_400s_naming_the_problem_and_change_nothing(api, desk_index, method, path):
    ids = {
        "synonym": api("POST", "/api/admin/synonyms", {"words": ["a1", "b1"]}).get_json()["id"],
        "rule": api("POST", "/api/admin/rules", {"query": "q", "pin": ["x"]}).get_json()["id"],
    }
    path = path.format(**ids)
    before = Desk(desk_index).state().to_json()
    bodies = [
        b"",
        b"not json",
        b'{"words": ["a", "b"]',
        b"\xff\xfe\x00",
        b"[" * 5000 + b"]" * 5000,
        b"null",
        b"[]",
        b'"words"',
        b"12",
        b'{"words": "kyiv"}',
        b'{"words": ["kyiv"]}',
        b'{"from": ["x"]}',
        b'{"query": "", "pin": ["x"]}',
        b'{"query": "q", "pin": ["x"], "starts_at": "tomorrow"}',
        b'{"query": "q", "pin": []}',
        b'{"half_life_days": "a week"}',
        b'{"half_life_days": -1, "weight": 2}',
        b'{"weight": NaN}',
        b'{"unknown": 1}',
    ]
    for body in bodies:
        response = api(method, path, data=body)
        assert response.status_code == 400, (body[:40], response.status_code)
        assert response.get_json()["error"]["message"], body[:40]
    assert Desk(desk_index).state().to_json() == before


def test_unknown_and_absurd_ids_are_404s(api):
    for path in (
        "/api/admin/synonyms/12345",
        "/api/admin/rules/12345",
        "/api/admin/synonyms/99999999999999999999999999",
        "/api/admin/rules/-1",
        "/api/admin/synonyms/abc",
        "/api/admin/history/99999999999999999999999999/restore",
    ):
        methods = ["POST"] if path.endswith("restore") else ["GET", "PUT", "DELETE"]
        for method in methods:
            body = {"query": "q", "pin": ["x"]} if "/rules/" in path else {"words": ["a", "b"]}
            assert api(method, path, body).status_code == 404, (method, path)
    assert api("GET", "/api/admin/history?limit=0").status_code == 400
    assert api("GET", "/api/admin/history?limit=x").status_code == 400


def test_the_api_with_the_session_cookie_needs_the_csrf_header(desk):
    desk.sign_in()
    token = desk.csrf("/admin")
    body = {"words": ["kyiv", "kiev"]}
    refused = desk.client.post("/api/admin/synonyms", json=body)
    assert refused.status_code == 403
    made = desk.client.post("/api/admin/synonyms", json=body, headers={"X-CSRF-Token": token})
    assert made.status_code == 201
    assert (
        desk.client.get("/api/admin/synonyms").get_json()["synonyms"][0]["words"] == body["words"]
    )
