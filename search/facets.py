"""Facet counts and filters from per-value document sets, computed once per index generation.

Disjunctive faceting: values selected in one facet combine with OR,
different facets with AND, and a facet's counts apply every selection but
its own, so each count says how many results ticking that box would give.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.docsets import DocSet
from search.results import Facet, FacetValue

FACET_FIELDS = {"region": "regions", "theme": "themes"}


def _decode(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


@dataclass
class ValueSets:
    """Every value of one keyword field and the documents that carry it.

    Held twice: a DocSet per value (for filters) and, for counting, every
    (document, value) pair as two parallel arrays, so one bincount over the
    pairs whose document matches counts every value at once.
    """

    field: str
    sets: dict[str, DocSet]
    pair_docs: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_values: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def load(cls, reader: IndexReader, field: str, size: int) -> ValueSets:
        sets, docs = {}, []
        for term in reader.lexicon(field):
            value = _decode(term)
            docnums = np.fromiter(reader.postings(field, term).all_ids(), dtype=np.int64)
            sets[value] = DocSet.from_docnums(docnums, size)
            docs.append(docnums)
        pair_values = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
        pair_docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        return cls(field, sets, pair_docs, pair_values)

    def counts(self, matching: DocSet) -> np.ndarray:
        """How many ``matching`` documents carry each value, in the order of ``sets``."""
        inside = matching.mask()[self.pair_docs]
        return np.bincount(self.pair_values[inside], minlength=len(self.sets))

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
    timed_out = time.perf_counter() > deadline
    if not timed_out:
        counts = values.counts(matching)
        names = list(values.sets)
        shown = counts > 0
        for position, value in enumerate(names):
            if value in selected:
                shown[position] = True
        for position in np.flatnonzero(shown).tolist():
            value = names[position]
            counted.append(FacetValue(value, int(counts[position]), value in selected))
    listed = {v.value for v in counted}
    counted += [FacetValue(v, 0, True) for v in selected if v not in listed]
    counted.sort(key=lambda v: (-v.count, v.value.casefold()))
    return Facet(name, tuple(counted), timed_out)
