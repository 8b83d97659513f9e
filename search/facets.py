"""Facets: what each one is (one FacetDefinition), which an archive has, and their counts.

A facet's definition is the one place that says its name (the URL
parameter, the JSON key, the ``region:`` query prefix), the keyword field it
counts, its label and whether its values are offered as suggestions; the
engine, the page, the JSON API, the OpenAPI document, the feed and the
suggestions all read it from here.

Which facets an archive shows is configuration: ``ARTICLE_SEARCH_FACETS``
(comma-separated names, default ``region,theme``), e.g.
``region,theme,author,report``.

Disjunctive faceting: values selected in one facet combine with OR,
different facets with AND, and a facet's counts apply every selection but
its own, so each count says how many results ticking that box would give.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.docsets import DocSet
from search.results import Facet, FacetValue

FACETS_ENV = "ARTICLE_SEARCH_FACETS"


@dataclass(frozen=True)
class FacetDefinition:
    """One facet: ``name`` is its URL parameter and JSON key, ``field`` the keyword field
    (of the index, and of Article, Hit and their JSON) holding an article's values."""

    name: str
    field: str
    label: str
    suggested: bool = False  # its values are offered as completions in the search box


# Every keyword field of the schema can be a facet.
KNOWN_FACETS = {
    facet.name: facet
    for facet in (
        FacetDefinition("region", "regions", "Region", suggested=True),
        FacetDefinition("theme", "themes", "Theme", suggested=True),
        FacetDefinition("author", "authors", "Author", suggested=True),
        FacetDefinition("report", "reports", "In-depth report"),
    )
}
DEFAULT_FACETS = ("region", "theme")


def configured_facets(names: str | None = None) -> tuple[FacetDefinition, ...]:
    """The facets ``names`` lists (comma-separated), else ``ARTICLE_SEARCH_FACETS``'s, else
    region and theme. Unknown names raise ValueError saying which names there are."""
    if names is None:
        names = os.environ.get(FACETS_ENV, "")
    wanted = [name.strip().lower() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in KNOWN_FACETS]
    if unknown:
        raise ValueError(
            f"unknown facet {', '.join(map(repr, unknown))} in {FACETS_ENV}: "
            f"choose from {', '.join(KNOWN_FACETS)}"
        )
    return tuple(KNOWN_FACETS[name] for name in dict.fromkeys(wanted or DEFAULT_FACETS))


def _decode(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


@dataclass
class ValueSets:
    """Every value of one keyword field, how many documents carry it, and (for facets) which.

    The documents are kept as every (document, value) pair in two parallel
    arrays grouped by value, not as a set per value: a million-document bit
    set per value took 3.4 GB with 25,000 authors in every worker, the pairs
    take 8 bytes each. ``pair_docs[starts[i]:starts[i + 1]]`` are value i's
    documents (filters); one bincount over the pairs whose document matches
    counts every value at once (facet counts). Fields that are only looked up
    and counted (authors, reports) keep no pairs: their counts come from the
    terms table.
    """

    field: str
    names: list[str]
    frequencies: np.ndarray  # documents per value (deleted ones too, for counted-only fields)
    pair_docs: np.ndarray | None = None  # int32, grouped by value; None when only counted
    pair_values: np.ndarray | None = None  # int32, the value of each pair
    starts: np.ndarray | None = None  # where each value's pairs begin, and the end
    _positions: dict[str, int] = dataclasses.field(default_factory=dict, repr=False)
    _folded: dict[str, list[str]] | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._positions = {name: position for position, name in enumerate(self.names)}

    @classmethod
    def load(cls, reader: IndexReader, field: str, *, documents: bool = True) -> ValueSets:
        """Read ``field``'s values; with ``documents`` False, only their names and counts."""
        if not documents:
            # Segment by segment: the combined reader looks each term up in every segment.
            counted: dict[str, int] = {}
            for leaf, _ in reader.leaf_readers():
                for term, info in leaf.iter_field(field):
                    value = _decode(term)
                    counted[value] = counted.get(value, 0) + info.doc_frequency()
            names = sorted(counted)
            frequencies = np.asarray([counted[name] for name in names], dtype=np.int64)
            return cls(field, names, frequencies)
        names, docs = [], []
        for term in reader.lexicon(field):
            names.append(_decode(term))
            docs.append(np.fromiter(reader.postings(field, term).all_ids(), dtype=np.int32))
        frequencies = np.asarray([len(d) for d in docs], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(frequencies)))
        pair_values = np.repeat(np.arange(len(docs), dtype=np.int32), frequencies)
        pair_docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32)
        return cls(field, names, frequencies, pair_docs, pair_values, starts)

    def __len__(self) -> int:
        return len(self.names)

    def counts(self, matching: DocSet) -> np.ndarray:
        """How many ``matching`` documents carry each value, in the order of ``names``."""
        inside = matching.mask()[self.pair_docs]
        return np.bincount(self.pair_values[inside], minlength=len(self.names))

    def union(self, values: tuple[str, ...], size: int) -> DocSet:
        """Documents carrying any of ``values`` (unknown values match nothing)."""
        mask = np.zeros(size, dtype=bool)
        for value in values:
            position = self._positions.get(value)
            if position is not None:
                mask[self.pair_docs[self.starts[position] : self.starts[position + 1]]] = True
        return DocSet.from_mask(mask)

    def lookup(self, typed: str) -> list[str]:
        """The stored values equal to ``typed`` ignoring case, e.g. for ``region:europe``."""
        if self._folded is None:
            folded: dict[str, list[str]] = {}
            for name in self.names:
                folded.setdefault(name.casefold(), []).append(name)
            self._folded = folded
        return list(self._folded.get(typed.casefold(), ()))


def disjunctive_facets(
    facets: tuple[FacetDefinition, ...],
    values: Mapping[str, ValueSets],
    base: DocSet,
    selected: Mapping[str, tuple[str, ...]],
    deadline: float,
) -> tuple[DocSet, dict[str, Facet]]:
    """The documents of ``base`` every selection keeps, and each facet's counts.

    A facet is counted over ``base`` with every other facet's selection applied.
    """
    size = base.size
    filters = {
        facet.name: values[facet.field].union(selected[facet.name], size)
        for facet in facets
        if selected.get(facet.name)
    }
    final = base
    for chosen in filters.values():
        final = final & chosen
    counted = {}
    for facet in facets:
        matching = base
        for name, chosen in filters.items():
            if name != facet.name:
                matching = matching & chosen
        counted[facet.name] = facet_counts(
            facet, values[facet.field], matching, selected.get(facet.name, ()), deadline
        )
    return final, counted


def facet_counts(
    facet: FacetDefinition,
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
        names = values.names
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
    return Facet(facet.name, tuple(counted), timed_out, facet.label)
