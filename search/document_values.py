"""Each document's values of a facet field, for counting the values of a few documents.

A facet's values are kept as (document, value) pairs grouped by value
(search.facets.ValueSets): counting goes over every pair, whatever the
matches, which is cheapest for hundreds of thousands of matches. A search
with a few thousand still paid for every pair: at a million articles 8 ms
for the regions' 1.06 million pairs. Here the same values are kept document
by document, so counting costs what the matches are: each document's one
value where it has one (most have), a table for those with several.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DocumentValues:
    """Every document's values: ``single[d]`` is document d's value when it has exactly
    one, else ``values`` (none) or ``values + 1`` (several, listed in the table)."""

    values: int  # how many values the field has
    single: np.ndarray  # per document
    several_docs: np.ndarray  # the documents with several values, ascending
    several_starts: np.ndarray  # where each one's values begin in several_values, and the end
    several_values: np.ndarray

    @classmethod
    def of(
        cls, pair_docs: np.ndarray, pair_values: np.ndarray, values: int, size: int
    ) -> DocumentValues:
        """From (document, value) pairs, in any order, of documents below ``size``."""
        per_document = np.bincount(pair_docs, minlength=size)
        codes = values + 2  # the values, none and several
        kind = np.uint8 if codes <= 1 << 8 else np.uint16 if codes <= 1 << 16 else np.int32
        single = np.full(size, values, dtype=kind)
        one = per_document[pair_docs] == 1
        single[pair_docs[one]] = pair_values[one]
        docs, document_values = pair_docs[~one], pair_values[~one]
        order = np.argsort(docs, kind="stable")
        several_docs, lengths = np.unique(docs[order], return_counts=True)
        single[several_docs] = values + 1
        return cls(
            values,
            single,
            several_docs,
            np.concatenate(([0], np.cumsum(lengths))),
            document_values[order],
        )

    def counts(self, docnums: np.ndarray) -> np.ndarray:
        """How many of ``docnums`` (distinct) carry each value, as int64."""
        codes = self.single[docnums]
        counted = np.bincount(codes, minlength=self.values + 2)
        counts = counted[: self.values].astype(np.int64)
        if counted[self.values + 1]:
            which = np.searchsorted(self.several_docs, docnums[codes == self.values + 1])
            starts = self.several_starts[which]
            lengths = self.several_starts[which + 1] - starts
            # Each document's run of values, one after another.
            firsts = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            places = firsts + np.arange(int(lengths.sum()))
            counts += np.bincount(self.several_values[places], minlength=self.values)
        return counts
