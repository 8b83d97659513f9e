"""The desk page's forms to and from search.desk's JSON shapes (which validate them).

A form holds what an editor typed as text; a list is typed comma-separated
(words, phrases, facet values) or one per line (article ids, which may hold
commas); times are the browser's ``datetime-local``, read as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from search.desk import Freshness, Rule, Synonym

ONE_WAY = "one-way"
MULTI_WAY = "multi-way"


def _split(text: str, separators: str) -> list[str]:
    return [part.strip() for part in re.split(separators, text or "") if part.strip()]


def phrases(text: str) -> list[str]:
    """Comma-separated words or phrases."""
    return _split(text, r"[,\n]")


def ids(text: str) -> list[str]:
    """Article ids, one per line (an id may hold a comma)."""
    return _split(text, r"[\r\n]+")


def _moment(text: str) -> str | None:
    text = (text or "").strip()
    return text or None


def synonym_json(form: Mapping[str, str]) -> dict[str, Any]:
    if form.get("kind") == ONE_WAY:
        return {"from": phrases(form.get("from", "")), "to": phrases(form.get("to", ""))}
    return {"words": phrases(form.get("words", ""))}


def synonym_form(synonym: Synonym) -> dict[str, str]:
    if synonym.words:
        return {"kind": MULTI_WAY, "words": ", ".join(synonym.words), "from": "", "to": ""}
    return {
        "kind": ONE_WAY,
        "words": "",
        "from": ", ".join(synonym.sources),
        "to": ", ".join(synonym.targets),
    }


def rule_json(form: Mapping[str, str], facet_names: Sequence[str]) -> dict[str, Any]:
    filters = {name: phrases(form.get(f"filter_{name}", "")) for name in facet_names}
    return {
        "query": form.get("query", ""),
        "match": form.get("match") or "exact",
        "filters": {name: values for name, values in filters.items() if values},
        "pin": ids(form.get("pin", "")),
        "hide": ids(form.get("hide", "")),
        "starts_at": _moment(form.get("starts_at", "")),
        "ends_at": _moment(form.get("ends_at", "")),
        "note": form.get("note", ""),
    }


def _local(moment) -> str:
    """A UTC time as a ``datetime-local`` field's value."""
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M")


def rule_form(rule: Rule, facet_names: Sequence[str]) -> dict[str, str]:
    form = {
        "query": rule.query,
        "match": rule.match,
        "pin": "\n".join(rule.pin),
        "hide": "\n".join(rule.hide),
        "starts_at": _local(rule.starts_at),
        "ends_at": _local(rule.ends_at),
        "note": rule.note,
    }
    for name in facet_names:
        form[f"filter_{name}"] = ", ".join(rule.filters.get(name, ()))
    return form


def _number(text: str) -> float | str:
    """A number typed, else the text as typed (search.desk then says what is wrong)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def freshness_json(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "half_life_days": _number(form.get("half_life_days", "")),
        "weight": _number(form.get("weight", "")),
    }


def freshness_form(freshness: Freshness) -> dict[str, str]:
    return {
        "half_life_days": f"{freshness.half_life_days:g}",
        "weight": f"{freshness.weight:g}",
    }
