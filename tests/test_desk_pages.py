"""The desk's pages through the Flask app, signed in: forms that add, edit and remove,
the filter box, the preview with and without the desk, the history and restores."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from search.desk import Desk
from tests.conftest import EDITOR_NAME
from web.errors import CONTENT_SECURITY_POLICY

PINNED = "2019-06-18-baltic-herring-quota-cut.txt"  # a demo article that never says "grain"
BARGES = "2019-01-22-rhine-low-water-barges.txt"


@pytest.fixture()
def editor(desk):
    desk.sign_in()
    return desk


def form_post(editor, path: str, **fields):
    return editor.client.post(path, data={"csrf_token": editor.csrf("/admin"), **fields})


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_a_synonym_added_edited_and_removed_through_the_forms(editor, desk_index):
    added = form_post(editor, "/admin/synonyms", kind="multi-way", words="drought, dry spell")
    assert added.status_code == 303 and added.headers["Location"] == "/admin"
    page = soup(editor.client.get("/admin"))
    assert "Synonym 1 added." in page.select_one(".desk-notices").text
    assert page.select_one("#synonyms .desk-words").text == "drought, dry spell"

    edit = soup(editor.client.get("/admin/synonyms/1"))
    assert edit.select_one("#synonym-words")["value"] == "drought, dry spell"
    saved = form_post(
        editor, "/admin/synonyms/1", kind="one-way", **{"from": "nato", "to": "alliance"}
    )
    assert saved.status_code == 303
    assert Desk(desk_index).synonym(1).to_json() == {"id": 1, "from": ["nato"], "to": ["alliance"]}

    assert form_post(editor, "/admin/synonyms/1/remove").status_code == 303
    assert Desk(desk_index).state().synonyms == ()
    assert "Synonym 1 removed" in soup(editor.client.get("/admin")).text
    gone = form_post(editor, "/admin/synonyms/1/remove")
    assert gone.status_code == 303
    assert "There is no synonym 1" in soup(editor.client.get("/admin")).text
    assert editor.client.get("/admin/synonyms/1").status_code == 303


def test_a_refused_change_keeps_what_was_typed_and_says_why(editor, desk_index):
    refused = form_post(editor, "/admin/synonyms", kind="multi-way", words="drought")
    assert refused.status_code == 400
    page = soup(refused)
    assert "at least 2 different words" in page.select_one("#desk-error").text
    assert page.select_one("#new-synonym-words")["value"] == "drought"

    refused = form_post(editor, "/admin/rules", query="grain", pin="", hide="", note="kept")
    assert refused.status_code == 400
    assert "pins or hides at least one article" in soup(refused).select_one("#desk-error").text
    assert soup(refused).select_one("#new-rule-note")["value"] == "kept"

    refused = form_post(editor, "/admin/freshness", half_life_days="a week", weight="0.2")
    assert refused.status_code == 400
    assert "half_life_days must be a number" in soup(refused).select_one("#desk-error").text
    assert Desk(desk_index).history() == []


def test_a_rule_through_the_forms_and_the_preview_side_by_side(editor, desk_index):
    added = form_post(
        editor,
        "/admin/rules",
        query="Grain",
        match="contains",
        pin=f"{PINNED}\n",
        hide="",
        starts_at="2020-01-01T00:00",
        ends_at="",
        note="harvest week",
        filter_region="",
        filter_theme="",
    )
    assert added.status_code == 303
    rule = Desk(desk_index).rule(1)
    assert (rule.query, rule.match, rule.pin, rule.note) == (
        "Grain",
        "contains",
        (PINNED,),
        "harvest week",
    )
    assert rule.starts_at.isoformat() == "2020-01-01T00:00:00+00:00"
    edit = soup(editor.client.get("/admin/rules/1"))
    assert edit.select_one("#rule-starts")["value"] == "2020-01-01T00:00"
    assert edit.select_one("#rule-pin").text == PINNED

    preview = soup(editor.client.get("/admin", query_string={"q": "grain stores"}))
    with_desk = [li.select_one(".desk-id").text for li in preview.select("#preview-with li")]
    without = [li.select_one(".desk-id").text for li in preview.select("#preview-without li")]
    assert with_desk[0] == PINNED and PINNED not in without
    assert "pinned" in preview.select("#preview-with li")[0].text
    assert "rule 1" in preview.select_one("#preview-with .desk-fired").text

    saved = form_post(editor, "/admin/rules/1", query="grain", match="exact", pin="", hide=PINNED)
    assert saved.status_code == 303 and Desk(desk_index).rule(1).hide == (PINNED,)


def test_synonyms_fire_in_the_preview(editor):
    form_post(editor, "/admin/synonyms", kind="multi-way", words="barges, lighters")
    preview = soup(editor.client.get("/admin", query_string={"q": "lighters"}))
    fired = preview.select_one("#preview-with .desk-fired").text
    assert "lighters → barges" in " ".join(fired.split())
    assert BARGES in [span.text for span in preview.select("#preview-with li .desk-id")]
    assert preview.select_one("#preview-without .desk-empty").text == "No articles."
    assert preview.select("#preview-without li") == []


def test_the_filter_box_narrows_both_lists(editor):
    form_post(editor, "/admin/synonyms", kind="multi-way", words="kyiv, kiev")
    form_post(editor, "/admin/synonyms", kind="multi-way", words="gaza, ghazzah")
    form_post(editor, "/admin/rules", query="elections", pin="a.txt", note="count")
    page = soup(editor.client.get("/admin", query_string={"filter": "KIEV"}))
    assert [td.text for td in page.select("#synonyms .desk-words")] == ["kyiv, kiev"]
    assert page.select_one("#rules") is None
    assert page.select_one("#rules-count").text == "0 of 1 match “KIEV”"
    page = soup(editor.client.get("/admin", query_string={"filter": "count"}))
    assert page.select_one("#synonyms") is None and len(page.select("#rules tbody tr")) == 1


def test_the_history_page_restores_an_earlier_desk(editor, desk_index):
    form_post(editor, "/admin/synonyms", kind="multi-way", words="kyiv, kiev")
    form_post(editor, "/admin/synonyms/1/remove")
    history = soup(editor.client.get("/admin/history"))
    rows = [" ".join(tr.text.split()) for tr in history.select("#changes tbody tr")]
    assert rows[0].startswith("2") and EDITOR_NAME in rows[0] and "remove synonym 1" in rows[0]
    restored = form_post(editor, "/admin/history/1/restore")
    assert restored.status_code == 303 and restored.headers["Location"] == "/admin/history"
    assert [s.words for s in Desk(desk_index).state().synonyms] == [("kyiv", "kiev")]
    assert "back as it was after change 1" in soup(editor.client.get("/admin/history")).text
    form_post(editor, "/admin/history/99/restore")
    assert "Nothing restored" in soup(editor.client.get("/admin/history")).text


def test_what_editors_type_is_shown_as_text(editor):
    hostile = "<script>alert(1)</script>x, <img src=x onerror=alert(2)>y"
    form_post(editor, "/admin/synonyms", kind="multi-way", words=hostile)
    form_post(editor, "/admin/rules", query="<b>q</b>", pin="<i>id</i>", note="<svg onload=1>")
    for path in ("/admin", "/admin/history", "/admin/synonyms/1", "/admin/rules/2"):
        body = editor.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, path
        assert "<svg onload" not in body and "<b>q</b>" not in body, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;x" in editor.client.get("/admin").get_data(True)


def test_the_desk_pages_have_no_inline_script(editor):
    form_post(editor, "/admin/synonyms", kind="multi-way", words="kyiv, kiev")
    for path in ("/admin?q=kiev", "/admin/history", "/admin/synonyms/1", "/admin/sign-in"):
        response = editor.client.get(path, follow_redirects=True)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        page = soup(response)
        assert all(script.get("src") for script in page.find_all("script")), path
        for tag in page.find_all(True):
            assert not [name for name in tag.attrs if name.startswith("on")], (path, tag.name)
            assert not tag.get("style"), (path, tag.name)


def test_the_preview_takes_facet_values_so_a_limited_rule_can_be_seen_firing(editor):
    form_post(editor, "/admin/rules", query="grain", pin=PINNED, filter_region="Europe")
    plain = soup(editor.client.get("/admin", query_string={"q": "grain"}))
    assert "No synonym or rule fired." in plain.select_one("#preview-with").text
    europe = soup(editor.client.get("/admin", query_string={"q": "grain", "region": "Europe"}))
    assert "rule 1" in europe.select_one("#preview-with .desk-fired").text
    assert europe.select_one("#preview-region")["value"] == "Europe"
    assert europe.select_one("#preview-as-reader")["href"] == "/search?q=grain&region=Europe"
    bad = editor.client.get("/admin", query_string={"q": "grain", "sort": "sideways"})
    assert bad.status_code == 400
