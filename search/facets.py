"""Facets: what each one is (one FacetDefinition), which an archive has, and their counts.

A facet's definition is the one place that says its name (the URL
parameter, the JSON key, the ``region:`` query prefix), the field its values
come from, its label, the order its values are listed in and whether they
are offered as suggestions; the engine, the page, the JSON API, the OpenAPI
document, the feed and the suggestions all read it from here.

Which facets an archive shows is configuration: ``ARTICLE_SEARCH_FACETS``
(comma-separated names, default ``region,theme``), e.g.
``region,theme,author,report,source,year``.

Disjunctive faceting: values selected in one facet combine with OR,
different facets with AND, and a facet's counts apply every selection but
its own, so each count says how many results ticking that box would give.
The date range (from, to) applies to every facet's counts, the year facet's
too: it narrows the results like the query does.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh.fields import Schema
from whoosh.reading import IndexReader

from search import settings
from search.article import NAME_FIELDS, Names
from search.deadline import Deadline
from search.document_values import DocumentValues
from search.results import Facet, FacetValue
from search.schema import indexed_value_fields
from search.storage.docsets import DocSet, undeleted_mask
from search.storage.index_folder import IndexNotFoundError
from search.storage.segments import SegmentPieces
from search.whoosh_internals import field_doc_frequencies, field_documents

FACETS_ENV = settings.FACETS.name
# Values listed per facet, the likeliest first (selected ones always are), as
# Meilisearch's maxValuesPerFacet: an author facet over a real archive has tens
# of thousands of values with results, more than a page or a client can use.
FACET_VALUE_LIMIT = 100
# Values are counted document by document (search.document_values) when the documents
# are this many times fewer than the (document, value) pairs, else over every pair.
BY_DOCUMENT_RATIO = 8


class FacetConfigError(ValueError):
    """The facets configured name one there is not."""


class FacetNotIndexedError(IndexNotFoundError):
    """The index was written before a configured facet's field was indexed: it needs a rebuild."""


@dataclass(frozen=True)
class FacetSource:
    """What one index generation's facet values are loaded from."""

    reader: IndexReader
    undeleted: np.ndarray  # the reader's undeleted_mask
    month: np.ndarray  # year * 12 + month - 1 per docnum, -1 when undated
    segments: SegmentPieces | None = None  # where each segment's part is kept, if anywhere


@dataclass(frozen=True)
class FacetDefinition:
    """One facet: ``name`` is its URL parameter, JSON key and query prefix, ``field`` the keyword
    field of the index (and of Article and Hit) holding an article's values.

    Its values are the field's index terms; a facet whose values are worked
    out otherwise (YearFacet) says so by loading them its own way.
    """

    name: str
    field: str
    label: str
    suggested: bool = False  # its values are offered as completions in the search box
    by_count: bool = True  # values listed by count; else in the order of ValueSets.names
    value_pattern: str = ""  # a regular expression every selected value must match, if any
    value_hint: str = ""  # what value_pattern asks for, in words ("a year written YYYY")

    @classmethod
    def of(cls, names: Names) -> FacetDefinition:
        """The facet of an article's field of names (search.article)."""
        return cls(names.one, names.field, names.label, suggested=names.suggested)

    @property
    def terms_field(self) -> str | None:
        """The index field whose terms are this facet's values (a ``region:`` prefix looks
        values up in it), or None when they are not index terms."""
        return self.field

    def indexed_in(self, schema: Schema) -> bool:
        """Whether an index with ``schema`` holds this facet's values."""
        return self.field in schema and schema[self.field].indexed

    def load(self, source: FacetSource) -> ValueSets:
        """This facet's values in one generation, with the documents of each."""
        return ValueSets.load(
            source.reader, self.field, segments=source.segments, undeleted=source.undeleted
        )

    def values_of(self, item) -> tuple[str, ...]:
        """This facet's values of an Article or a Hit."""
        value = getattr(item, self.field)
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    def refusal(self, value: str) -> str | None:
        """Why ``value`` cannot be selected in this facet, or None if it can."""
        if self.value_pattern and not re.fullmatch(self.value_pattern, value):
            return f"{self.name} must be {self.value_hint}, not {value[:40]!r}"
        return None


@dataclass(frozen=True)
class YearFacet(FacetDefinition):
    """The year of an article's date, counted from the date column: no index field of its own.

    Its values are years ("2024"), newest first: a year facet reads like the
    timeline, and an archive has tens of years, not thousands.
    """

    by_count: bool = False
    value_pattern: str = "[0-9]{4}"
    value_hint: str = "a year written YYYY"

    @property
    def terms_field(self) -> None:
        return None  # the date is not in the index's terms

    def indexed_in(self, schema: Schema) -> bool:
        return "date" in schema

    def values_of(self, item) -> tuple[str, ...]:
        return (str(item.date.year),) if item.date else ()

    def load(self, source: FacetSource) -> ValueSets:
        """The years of the generation's dated articles, newest first."""
        month = source.month
        dated = np.flatnonzero(month >= 0).astype(np.int32)
        years, codes = np.unique(-(month[dated] // 12), return_inverse=True)
        codes = codes.reshape(-1).astype(np.int32)
        order = np.argsort(codes, kind="stable")
        frequencies = np.bincount(codes, minlength=len(years)).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(frequencies)))
        names = [str(-year) for year in years.tolist()]
        return ValueSets(self.field, names, frequencies, dated[order], codes[order], starts)


# The facets an operator can configure: one per field of names of an article, its source and
# the year of its date.
KNOWN_FACETS = {
    facet.name: facet
    for facet in (
        *map(FacetDefinition.of, NAME_FIELDS),
        FacetDefinition("source", "source", "Source"),
        YearFacet("year", "year", "Year"),
    )
}
DEFAULT_FACETS = ("region", "theme")


def configured_facets(names: str | None = None) -> tuple[FacetDefinition, ...]:
    """The facets ``names`` lists (comma-separated), else ``ARTICLE_SEARCH_FACETS``'s, else
    region and theme. Unknown names raise FacetConfigError saying which names there are."""
    if names is None:
        names = settings.FACETS.read()
    wanted = [name.strip().lower() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in KNOWN_FACETS]
    if unknown:
        raise FacetConfigError(
            f"unknown facet {', '.join(map(repr, unknown))} in {FACETS_ENV}: "
            f"choose from {', '.join(KNOWN_FACETS)}"
        )
    return tuple(KNOWN_FACETS[name] for name in dict.fromkeys(wanted or DEFAULT_FACETS))


def load_values(
    source: FacetSource, schema: Schema, facets: tuple[FacetDefinition, ...]
) -> dict[str, ValueSets]:
    """Per field: each facet's values with their documents (loaded the facet's own way), and
    every other indexed value field's names and counts (for lookups and completions)."""
    faceted = {facet.field for facet in facets}
    values = {
        name: ValueSets.load(
            source.reader,
            name,
            documents=False,
            segments=source.segments,
            undeleted=source.undeleted,
        )
        for name in indexed_value_fields(schema)
        if name not in faceted
    }
    for facet in facets:
        values[facet.field] = facet.load(source)
        values[facet.field].document_values(len(source.undeleted))  # made now, not in a search
    return values


def require_indexed(schema: Schema, facets: tuple[FacetDefinition, ...], where: object) -> None:
    """Raise FacetNotIndexedError if the index (in ``where``) does not index a facet's field.

    An index written before the source was indexed holds it only stored: its
    counts would be empty, so the facet is refused with what to do instead.
    """
    missing = [facet.name for facet in facets if not facet.indexed_in(schema)]
    if missing:
        names = ", ".join(missing)
        raise FacetNotIndexedError(
            f"the index in {where} was written before the {names} facet could be counted "
            f"(it does not index {names}): run `article-search index --rebuild PATH...` "
            f"to rebuild it, or leave {names} out of {FACETS_ENV}"
        )


@dataclass(frozen=True)
class ValuePart:
    """One segment's values of a keyword field, as its files hold them in any generation.

    ``names`` sorted; for a field only counted, ``frequencies`` are the
    documents per value in the segment's terms table (deleted ones too) and
    there are no pairs; for a facet, ``pair_docs`` and ``pair_values`` are its
    (document, value) pairs in the segment's docnums, grouped by value, and may
    hold documents deleted since (``ValueSets.combine`` drops them).
    """

    names: list[str]
    frequencies: np.ndarray
    pair_docs: np.ndarray  # int32, empty when only counted
    pair_values: np.ndarray  # int32 positions in names

    @classmethod
    def read(cls, leaf: IndexReader, field: str, documents: bool) -> ValuePart:
        """Read ``leaf``'s (one segment's) values of ``field``, with their documents or not."""
        if not documents:
            names, frequencies = field_doc_frequencies(leaf, field)
            empty = np.zeros(0, dtype=np.int32)
            return cls(names, frequencies, empty, empty)
        names, frequencies, docnums = field_documents(leaf, field)
        pair_values = np.repeat(np.arange(len(names), dtype=np.int32), frequencies)
        pair_docs = docnums.astype(np.int32)
        return cls(names, frequencies, pair_docs, pair_values)


@dataclass
class ValueSets:
    """Every value of one keyword field, how many documents carry it, and (for facets) which.

    The documents are kept as every (document, value) pair in two parallel
    arrays grouped by value, not as a set per value: a million-document bit
    set per value took 3.4 GB with 25,000 authors in every worker, the pairs
    take 12 bytes each. ``pair_docs[starts[i]:starts[i + 1]]`` are value i's
    documents (filters); one sum over each value's run of pairs, of whether
    their document matches, counts every value at once (facet counts), and a
    few matches are counted document by document (search.document_values).
    Fields that are only looked up and counted (authors, reports) keep no
    pairs: their counts come from the terms table.
    """

    field: str
    names: list[str]
    frequencies: np.ndarray  # documents per value (deleted ones too, for counted-only fields)
    pair_docs: np.ndarray | None = None  # intp, grouped by value; None when only counted
    pair_values: np.ndarray | None = None  # int32, the value of each pair
    starts: np.ndarray | None = None  # where each value's pairs begin, and the end
    _positions: dict[str, int] = dataclasses.field(default_factory=dict, repr=False)
    _folded: dict[str, list[str]] | None = dataclasses.field(default=None, repr=False)
    _casefold_ranks: np.ndarray | None = dataclasses.field(default=None, repr=False)
    _by_document: DocumentValues | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._positions = {name: position for position, name in enumerate(self.names)}

    @classmethod
    def load(
        cls,
        reader: IndexReader,
        field: str,
        *,
        documents: bool = True,
        segments: SegmentPieces | None = None,
        undeleted: np.ndarray | None = None,
    ) -> ValueSets:
        """Read ``field``'s values; with ``documents`` False, only their names and counts.

        Segment by segment (the combined reader looks each term up in every
        segment), each segment's part kept in ``segments`` if given, for the
        generations after this one. ``undeleted``: the reader's ``undeleted_mask``, if known.
        """
        read = functools.partial(ValuePart.read, field=field, documents=documents)
        piece = ("values", field, documents)
        parts = [
            (segments.piece(leaf, piece, read) if segments else read(leaf), offset)
            for leaf, offset in reader.leaf_readers()
        ]
        if undeleted is None:
            undeleted = undeleted_mask(reader)
        return cls.combine(field, parts, undeleted, documents=documents)

    @classmethod
    def combine(
        cls,
        field: str,
        parts: Sequence[tuple[ValuePart, int]],
        undeleted: np.ndarray,
        *,
        documents: bool,
    ) -> ValueSets:
        """One generation's values from its segments' parts (each with its docnum offset).

        ``undeleted`` says which documents are not deleted: only their pairs are kept.
        """
        if not documents:
            counted: dict[str, int] = {}
            for part, _ in parts:
                for value, frequency in zip(part.names, part.frequencies.tolist(), strict=True):
                    counted[value] = counted.get(value, 0) + frequency
            names = sorted(counted)
            frequencies = np.asarray([counted[name] for name in names], dtype=np.int64)
            return cls(field, names, frequencies)
        names = sorted(set().union(*(part.names for part, _ in parts)))
        positions = {name: position for position, name in enumerate(names)}
        # Radix sort (stable, one pass per byte) where the value numbers fit 16 bits.
        kind = np.uint16 if len(names) <= 1 << 16 else np.int32
        docs, values = [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=kind)]
        for part, offset in parts:
            codes = np.asarray([positions[name] for name in part.names], dtype=kind)
            docs.append(part.pair_docs + np.int32(offset))
            values.append(codes[part.pair_values])
        pair_docs, pair_values = np.concatenate(docs), np.concatenate(values)
        kept = undeleted[pair_docs]
        if not kept.all():
            pair_docs, pair_values = pair_docs[kept], pair_values[kept]
        if len(parts) > 1:
            # Grouped by value, each value's documents in docnum order: segments come
            # in docnum order and each part's pairs are in docnum order within a value.
            order = np.argsort(pair_values, kind="stable")
            pair_docs, pair_values = pair_docs[order], pair_values[order]
        frequencies = np.bincount(pair_values, minlength=len(names)).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(frequencies)))
        # Document numbers as numpy's index type: every count gathers with them, and an int32
        # index is converted first (at a million, the regions' counts 11.7 -> 8.9 ms).
        pair_docs, pair_values = pair_docs.astype(np.intp), pair_values.astype(np.int32)
        return cls(field, names, frequencies, pair_docs, pair_values, starts)

    def __len__(self) -> int:
        return len(self.names)

    def counts(self, matching: DocSet) -> np.ndarray:
        """How many ``matching`` documents carry each value, in the order of ``names``.

        Many documents: the pairs are grouped by value, so each value's count is
        the sum of its run of the pairs' matching flags (at a million articles 3
        to 8 ms for the regions, whatever the matches). Fewer than an eighth of
        the pairs: document by document (search.document_values: 0.1 ms for
        5,000 documents, 1.5 ms for 50,000).
        """
        if len(matching) * BY_DOCUMENT_RATIO < len(self.pair_docs):
            return self.document_values(matching.size).counts(matching.docnums())
        # np.take and sums of bytes into int32: at a million, the regions' 1.06 million
        # pairs take 1.7 ms, where indexing and summing bools into int64 took 2.5.
        inside = np.take(matching.mask(), self.pair_docs).view(np.uint8)
        counts = np.zeros(len(self.names), dtype=np.int64)
        carried = np.flatnonzero(self.starts[1:] > self.starts[:-1])  # values with pairs
        if len(carried):
            counts[carried] = np.add.reduceat(inside, self.starts[carried], dtype=np.int32)
        return counts

    def document_values(self, size: int) -> DocumentValues:
        """The values document by document (of documents below ``size``), made once."""
        if self._by_document is None or len(self._by_document.single) != size:
            self._by_document = DocumentValues.of(
                self.pair_docs, self.pair_values, len(self.names), size
            )
        return self._by_document

    def union(self, values: tuple[str, ...], size: int) -> DocSet:
        """Documents carrying any of ``values`` (unknown values match nothing)."""
        mask = np.zeros(size, dtype=bool)
        for value in values:
            position = self.position(value)
            if position is not None:
                mask[self.pair_docs[self.starts[position] : self.starts[position + 1]]] = True
        return DocSet.from_mask(mask)

    def position(self, value: str) -> int | None:
        """Where ``value`` is in ``names``, or None when the index has no such value."""
        return self._positions.get(value)

    def casefold_ranks(self) -> np.ndarray:
        """Each value's place in the values sorted ignoring case (ties in ``names`` order)."""
        if self._casefold_ranks is None:
            order = sorted(range(len(self.names)), key=lambda i: self.names[i].casefold())
            ranks = np.empty(len(self.names), dtype=np.int64)
            ranks[order] = np.arange(len(self.names))
            self._casefold_ranks = ranks
        return self._casefold_ranks

    def lookup(self, typed: str) -> list[str]:
        """The stored values equal to ``typed`` ignoring case, e.g. for ``region:europe``.

        Quotes count as spaces: a query cannot hold a quote inside a phrase, so a value's
        are written as spaces (search.query.phrase_query).
        """
        if self._folded is None:
            folded: dict[str, list[str]] = {}
            for name in self.names:
                folded.setdefault(_folded(name), []).append(name)
            self._folded = folded
        return list(self._folded.get(_folded(typed), ()))


def _folded(value: str) -> str:
    return value.replace('"', " ").casefold()


def disjunctive_facets(
    facets: tuple[FacetDefinition, ...],
    values: Mapping[str, ValueSets],
    base: DocSet,
    selected: Mapping[str, tuple[str, ...]],
    deadline: Deadline,
    count: bool = True,
) -> tuple[DocSet, dict[str, Facet]]:
    """The documents of ``base`` every selection keeps, and each facet's counts (none
    unless ``count``).

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
    for facet in facets if count else ():
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
    deadline: Deadline,
) -> Facet:
    """Count ``matching`` (all other facets' selections applied) per value.

    Listed by count (ties by name), or in the values' own order (years newest
    first) when the facet says so; a facet listed by count shows its
    FACET_VALUE_LIMIT likeliest values and says how many more have results.
    Values selected are always listed, at zero when absent (after the others
    when not by count). Counting stops at ``deadline`` and says so.
    """
    counted: list[FacetValue] = []
    unlisted = 0
    timed_out = deadline.exceeded()
    if not timed_out:
        counts = values.counts(matching)
        with_results = np.flatnonzero(counts)
        shown = with_results
        if facet.by_count and len(with_results) > FACET_VALUE_LIMIT:
            order = np.lexsort((values.casefold_ranks()[with_results], -counts[with_results]))
            shown = with_results[order[:FACET_VALUE_LIMIT]]
        positions = set(shown.tolist())
        positions.update(p for p in map(values.position, selected) if p is not None)
        for position in sorted(positions):
            value = values.names[position]
            counted.append(FacetValue(value, int(counts[position]), value in selected))
        unlisted = len(with_results) - sum(1 for v in counted if v.count)
    listed = {v.value for v in counted}
    counted += [FacetValue(v, 0, True) for v in selected if v not in listed]
    if facet.by_count:
        counted.sort(key=lambda v: (-v.count, v.value.casefold()))
    return Facet(facet.name, tuple(counted), timed_out, facet.label, unlisted)
