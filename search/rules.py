"""The desk's rules made ready for searching: which fire for a query, and what they do.

A rule's trigger and the reader's query are compared as terms, after the
index's analysis (case, accents, word forms, its stop words), so "Elections",
"élections" and "election" are one trigger. The query's terms are those of the
words it searches the articles' text for, in order (search.query's
``ParsedQuery.text_terms``): plain words and quoted phrases, stop words among
them, and ``title:`` words; not a negated word (``-elections``), nor a name
(``author:``) or a facet value (``region:``). A quoted phrase's words are
words like the others: "elections" is contained in ``"general elections"``.
``exact``: the query's terms are the trigger's; ``prefix``: they begin with
them; ``contains``: they hold them in a row. A rule with filters fires only
when, in each facet it names, the reader selected at least one of its values.
A rule fires from its ``starts_at`` (inclusive) to its ``ends_at``
(exclusive), read from the clock at every search: nothing has to run for it
to start or stop.

Rules are indexed by their trigger's first term (exact, prefix) or by every
term (contains), so 1,000 rules cost a few dictionary reads a search.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from whoosh.analysis import Analyzer

from search.analysis import analysed_terms
from search.desk import Rule


@dataclass(frozen=True)
class FiredRules:
    """The rules a search fired, by id (ascending), and their pins (in order) and hides."""

    ids: tuple[int, ...] = ()
    pin: tuple[str, ...] = ()
    hide: frozenset[str] = frozenset()


class RuleBook:
    """Every rule of the desk, indexed by its trigger's terms."""

    def __init__(self, rules: Sequence[Rule], analyzer: Analyzer):
        self._by_first: dict[str, list[tuple[tuple[str, ...], Rule]]] = {}
        self._by_any: dict[str, list[tuple[tuple[str, ...], Rule]]] = {}
        for rule in rules:
            terms = analysed_terms(analyzer, rule.query)
            if not terms:
                continue
            if rule.match == "contains":
                for term in set(terms):
                    self._by_any.setdefault(term, []).append((terms, rule))
            else:
                self._by_first.setdefault(terms[0], []).append((terms, rule))
        self.size = len(rules)

    def fire(
        self, terms: Sequence[str], filters: Mapping[str, tuple[str, ...]], now: dt.datetime
    ) -> FiredRules:
        """The rules a query searching the text for ``terms`` (in order, analysed) with the
        selections ``filters`` fires at ``now``."""
        query = tuple(terms)
        if not self.size or not query:
            return FiredRules()
        candidates = list(self._by_first.get(query[0], ()))
        for term in set(query):
            candidates += self._by_any.get(term, ())
        fired = sorted(
            {
                rule.id: rule
                for terms, rule in candidates
                if _triggers(rule.match, terms, query)
                and rule.active(now)
                and _selected(rule.filters, filters)
            }.items()
        )
        if not fired:
            return FiredRules()
        hide = frozenset(article for _, rule in fired for article in rule.hide)
        pins = dict.fromkeys(article for _, rule in fired for article in rule.pin)
        return FiredRules(
            tuple(rule_id for rule_id, _ in fired),
            tuple(article for article in pins if article not in hide),
            hide,
        )


def _triggers(match: str, trigger: tuple[str, ...], query: tuple[str, ...]) -> bool:
    if match == "exact":
        return query == trigger
    if match == "prefix":
        return query[: len(trigger)] == trigger
    width = len(trigger)
    return any(query[i : i + width] == trigger for i in range(len(query) - width + 1))


def _selected(wanted: Mapping[str, tuple[str, ...]], filters: Mapping[str, tuple[str, ...]]):
    return all(set(values) & set(filters.get(name, ())) for name, values in wanted.items())
