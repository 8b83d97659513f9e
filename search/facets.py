"""Facet counts and filters from per-value document sets, computed once per index generation.

Disjunctive faceting: values selected in one facet combine with OR,
different facets with AND, and a facet's counts apply every selection but
its own, so each count says how many results ticking that box would give.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from whoosh.reading import IndexReader

from search.docsets import DocSet
from search.results import Facet, FacetValue

FACET_FIELDS = {"region": "regions", "theme": "themes"}


def _decode(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


@dataclass
class ValueSets:
    """Every value of one keyword field and the documents that carry it."""

    field: str
    sets: dict[str, DocSet]

    @classmethod
    def load(cls, reader: IndexReader, field: str, size: int) -> ValueSets:
        sets = {}
        for term in reader.lexicon(field):
            value = _decode(term)
            sets[value] = DocSet.from_docnums(reader.postings(field, term).all_ids(), size)
        return cls(field, sets)

    def union(self, values: tuple[str, ...], size: int) -> DocSet:
        """Documents carrying any of ``values`` (unknown values match nothing)."""
        result = DocSet.from_docnums((), size)
        for value in values:
            if value in self.sets:
                result = result | self.sets[value]
        return result

    def lookup(self, typed: str) -> list[str]:
        """The stored values equal to ``typed`` ignoring case, e.g. for ``region:europe``."""
        folded = typed.casefold()
        return [value for value in self.sets if value.casefold() == folded]


def facet_counts(
    name: str,
    values: ValueSets,
    matching: DocSet,
    selected: tuple[str, ...],
    deadline: float,
) -> Facet:
    """Count ``matching`` (all other facets' selections applied) per value, by count.

    Values selected but absent from the index are still listed, at zero.
    Counting stops at ``deadline`` (a perf_counter time) and says so.
    """
    counted: list[FacetValue] = []
    timed_out = False
    for value, docs in values.sets.items():
        if time.perf_counter() > deadline:
            timed_out = True
            break
        count = matching.count_with(docs)
        if count or value in selected:
            counted.append(FacetValue(value, count, value in selected))
    listed = {v.value for v in counted}
    counted += [FacetValue(v, 0, True) for v in selected if v not in listed]
    counted.sort(key=lambda v: (-v.count, v.value.casefold()))
    return Facet(name, tuple(counted), timed_out)
