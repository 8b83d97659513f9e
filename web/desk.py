"""The editors' desk as pages under /admin: synonyms, rules, freshness, a preview, the history.

Server-rendered forms that work without JavaScript: each change is a POST
carrying the CSRF token (web/editor_auth.editor_page checks it), answered
with a redirect back to the desk and a notice; a change search.desk refuses
is answered 400 with the form as typed and the reason. The preview searches
twice, with the desk and without it (SearchRequest.desk), side by side; it
takes the readers' search parameters (a facet's values, dates, order), so a
rule limited to some facet values can be seen firing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from search.desk import MATCHES, Change, DeskError, DeskNotFoundError, DeskState, Rule, Synonym
from search.results import SearchResult
from web import engine, facet_names, facets
from web.desk_api import ID, editors_desk
from web.desk_forms import (
    MULTI_WAY,
    ONE_WAY,
    freshness_form,
    freshness_json,
    rule_form,
    rule_json,
    synonym_form,
    synonym_json,
)
from web.editor_auth import add_desk_section, editor_page, signed_in_editor
from web.params import parse_search_request
from web.view import search_url

blueprint = Blueprint("desk", __name__)
blueprint.record_once(lambda state: add_desk_section(state.app, "Desk", "desk.home"))
blueprint.record_once(lambda state: add_desk_section(state.app, "History", "desk.history"))
PREVIEW_SIZE = 10
HISTORY_SHOWN = 200
MAX_TEXT = 2000  # what the filter and preview boxes take


def _page(template: str, status: int = 200, **context) -> Response:
    body = render_template(template, **context)
    return Response(body, status=status, mimetype="text/html")


def _facet_fields() -> list[tuple[str, str]]:
    """(name, label) of each facet a rule can be limited to: the archive's."""
    return [(facet.name, facet.label) for facet in facets()]


def _matches(item: Synonym | Rule, needle: str) -> bool:
    text = json.dumps(item.to_json(), ensure_ascii=False).casefold()
    return needle.casefold() in text


@dataclass(frozen=True)
class PreviewHit:
    id: str
    title: str
    pinned: bool
    only_here: bool  # not in the other column's results


@dataclass(frozen=True)
class Preview:
    with_desk: SearchResult
    without_desk: SearchResult
    reader_url: str  # the same search on the readers' page

    def hits(self, result: SearchResult) -> list[PreviewHit]:
        other = self.without_desk if result is self.with_desk else self.with_desk
        others = {hit.id for hit in other.hits}
        return [PreviewHit(h.id, h.title, h.pinned, h.id not in others) for h in result.hits]


def _preview() -> Preview | None:
    """The search the preview form asks for (a query, facet values, dates, order), twice."""
    asked = parse_search_request(request.args, facet_names())
    if not asked.q.strip():
        return None
    asked = dataclasses.replace(asked, page=1, per_page=PREVIEW_SIZE)
    search_engine = engine()
    with_desk = search_engine.search(asked)
    without = search_engine.search(dataclasses.replace(asked, desk=False))
    return Preview(with_desk, without, search_url(asked))


def _desk_page(status: int = 200, error: str | None = None, **forms) -> Response:
    """The desk: preview, synonyms and rules (filtered), the add forms, freshness."""
    state: DeskState = editors_desk().state()
    needle = request.args.get("filter", "")[:MAX_TEXT].strip()
    query = request.args.get("q", "")[:MAX_TEXT]
    synonyms = [s for s in state.synonyms if not needle or _matches(s, needle)]
    rules = [r for r in state.rules if not needle or _matches(r, needle)]
    return _page(
        "admin/desk.html",
        status,
        title="The desk",
        error=error,
        filter=needle,
        q=query,
        preview=_preview(),
        preview_filters={name: request.args.get(name, "") for name, _ in _facet_fields()},
        synonyms=synonyms,
        rules=rules,
        total_synonyms=len(state.synonyms),
        total_rules=len(state.rules),
        rule_names={rule.id: rule.query for rule in state.rules},
        facet_fields=_facet_fields(),
        matches=MATCHES,
        multi_way=MULTI_WAY,
        one_way=ONE_WAY,
        synonym_form=forms.get("synonym_form") or {"kind": MULTI_WAY},
        rule_form=forms.get("rule_form") or {"match": "exact"},
        freshness_form=forms.get("freshness_form") or freshness_form(state.freshness),
    )


def _done(message: str) -> Response:
    flash(message)
    return redirect(url_for("desk.home"), 303)


@blueprint.get("/admin")
@editor_page
def home() -> Response:
    return _desk_page(**_prefilled())


def _prefilled() -> dict:
    """The add forms filled in by the link that opened the desk (web/analytics_desk.py: a
    query readers found nothing for): ``synonym_from`` a one-way synonym from it,
    ``rule_query`` a best bet for it."""
    forms = {}
    if words := request.args.get("synonym_from", "")[:MAX_TEXT].strip():
        forms["synonym_form"] = {"kind": ONE_WAY, "from": words}
    if query := request.args.get("rule_query", "")[:MAX_TEXT].strip():
        forms["rule_form"] = {"match": "exact", "query": query}
    return forms


@blueprint.post("/admin/synonyms")
@editor_page
def add_synonym() -> Response:
    try:
        made = editors_desk().add_synonym(synonym_json(request.form), signed_in_editor())
    except DeskError as error:
        return _desk_page(400, f"The synonym was not added: {error}.", synonym_form=request.form)
    return _done(f"Synonym {made.id} added.")


@blueprint.post("/admin/rules")
@editor_page
def add_rule() -> Response:
    data = rule_json(request.form, [name for name, _ in _facet_fields()])
    try:
        made = editors_desk().add_rule(data, signed_in_editor())
    except DeskError as error:
        return _desk_page(400, f"The rule was not added: {error}.", rule_form=request.form)
    return _done(f"Rule {made.id} added.")


@blueprint.post("/admin/freshness")
@editor_page
def set_freshness() -> Response:
    try:
        editors_desk().set_freshness(freshness_json(request.form), signed_in_editor())
    except DeskError as error:
        return _desk_page(400, f"Freshness was not changed: {error}.", freshness_form=request.form)
    return _done("Freshness changed.")


def _edit_page(kind: str, item_id: int, form, status: int = 200, error: str | None = None):
    return _page(
        "admin/edit.html",
        status,
        kind=kind,
        title=f"Edit {kind} {item_id}",
        item_id=item_id,
        form=form,
        error=error,
        facet_fields=_facet_fields(),
        matches=MATCHES,
        multi_way=MULTI_WAY,
        one_way=ONE_WAY,
    )


@blueprint.route(f"/admin/synonyms/<{ID}:id>", methods=["GET", "POST"])
@editor_page
def edit_synonym(id: int) -> Response:
    desk = editors_desk()
    try:
        current = desk.synonym(id)
        if request.method == "GET":
            return _edit_page("synonym", id, synonym_form(current))
        desk.update_synonym(id, synonym_json(request.form), signed_in_editor())
    except DeskNotFoundError:
        return _gone("synonym", id)
    except DeskError as error:
        return _edit_page("synonym", id, request.form, 400, f"Not saved: {error}.")
    return _done(f"Synonym {id} saved.")


@blueprint.route(f"/admin/rules/<{ID}:id>", methods=["GET", "POST"])
@editor_page
def edit_rule(id: int) -> Response:
    desk = editors_desk()
    names = [name for name, _ in _facet_fields()]
    try:
        current = desk.rule(id)
        if request.method == "GET":
            return _edit_page("rule", id, rule_form(current, names))
        desk.update_rule(id, rule_json(request.form, names), signed_in_editor())
    except DeskNotFoundError:
        return _gone("rule", id)
    except DeskError as error:
        return _edit_page("rule", id, request.form, 400, f"Not saved: {error}.")
    return _done(f"Rule {id} saved.")


def _gone(kind: str, id: int) -> Response:
    flash(f"There is no {kind} {id} (removed meanwhile?).")
    return redirect(url_for("desk.home"), 303)


@blueprint.post(f"/admin/synonyms/<{ID}:id>/remove")
@editor_page
def remove_synonym(id: int) -> Response:
    try:
        editors_desk().remove_synonym(id, signed_in_editor())
    except DeskNotFoundError:
        return _gone("synonym", id)
    return _done(f"Synonym {id} removed (the history can bring it back).")


@blueprint.post(f"/admin/rules/<{ID}:id>/remove")
@editor_page
def remove_rule(id: int) -> Response:
    try:
        editors_desk().remove_rule(id, signed_in_editor())
    except DeskNotFoundError:
        return _gone("rule", id)
    return _done(f"Rule {id} removed (the history can bring it back).")


def _what_changed(change: Change) -> str:
    """What a change made (or removed), as the history page shows it."""
    if change.kind == "desk":
        return f"the desk as after change {change.after.get('restored')}"
    shown = change.after if change.after is not None else change.before
    if isinstance(shown, dict):
        shown = {key: value for key, value in shown.items() if key != "id"}
    return json.dumps(shown, ensure_ascii=False)


@blueprint.get("/admin/history")
@editor_page
def history() -> Response:
    changes = [(c, _what_changed(c)) for c in editors_desk().history(HISTORY_SHOWN)]
    return _page("admin/history.html", title="The desk's history", changes=changes)


@blueprint.post(f"/admin/history/<{ID}:number>/restore")
@editor_page
def restore(number: int) -> Response:
    try:
        change = editors_desk().restore(number, signed_in_editor())
    except DeskError as error:
        flash(f"Nothing restored: {error}.")
        return redirect(url_for("desk.history"), 303)
    flash(f"The desk is back as it was after change {number} (change {change.number}).")
    return redirect(url_for("desk.history"), 303)
