"""What each index segment holds, kept from one index generation to the next.

A daily import commits a generation that differs from the one served by a
new small segment, more deletions in old ones, and now and then a merge of
small segments into one new one. Whoosh never rewrites a segment: only its
deletions change. So whatever a search reads from a segment's files (its
facet values, dates, field lengths, term postings, which of its documents
hold a phrase) is read once, kept here
under the segment's identity, and a new generation is put together from
the pieces of the segments it shares with the one before plus reads of its
new segments alone; the new generation's deletions are applied when the
pieces are combined (``search.facets.ValueSets.combine``, the engine's
date columns, ``search.matching.ArrayMatcher``). Opening a generation from
scratch goes through the same combination, so both give the same answers.

A segment's identity is Whoosh's segment id (the index name and a random
id given when the segment is written: a merge writes a new segment with a
new id) with its document count, unchanged by deletions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
from cachetools import LRUCache
from whoosh.reading import IndexReader

# A segment's term postings kept for the generations after the one that read
# them: (docnums, weights) in their smallest exact types, 8 bytes a posting.
POSTINGS_BYTES = 64 * 1024 * 1024
# Phrase checks remembered (segment, phrase, document: whether the phrase is there);
# past this many, all are forgotten and checked again as searches need them.
PHRASE_CHECKS = 500_000

SegmentKey = tuple[str, int]


def segment_key(leaf: IndexReader) -> SegmentKey | None:
    """The identity of the segment ``leaf`` reads; None for a reader of no segment."""
    segment = leaf.segment()
    if segment is None:
        return None
    return (segment.segment_id(), leaf.doc_count_all())


def _postings_bytes(arrays: tuple[np.ndarray, np.ndarray]) -> int:
    return arrays[0].nbytes + arrays[1].nbytes


def compact_postings(docnums: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, weights) as int32 and float32 where that keeps every value exactly.

    Whoosh writes weights from float32 arrays, so float32 keeps them; any
    other weight keeps float64.
    """
    narrow = weights.astype(np.float32)
    if np.array_equal(narrow, weights):
        weights = narrow
    return docnums.astype(np.int32), weights


class SegmentPieces:
    """The pieces read from each segment, for every generation that still has the segment.

    ``piece(leaf, name, read)`` gives what ``read(leaf)`` gives, read once per
    segment (``name`` says which piece: a field's values, the dates, a field's
    lengths); ``postings`` keeps term postings, bounded in bytes. ``keep_only``
    forgets the segments a generation no longer has (merged away, or a rebuild).
    Used under the engine's lock, as everything of a generation is (the threading
    rule: search.engine's module docstring).
    """

    def __init__(self, postings_bytes: int = POSTINGS_BYTES, phrase_checks: int = PHRASE_CHECKS):
        self._pieces: dict[SegmentKey, dict[Any, Any]] = {}
        self._postings: LRUCache[tuple, tuple[np.ndarray, np.ndarray]] = LRUCache(
            postings_bytes, getsizeof=_postings_bytes
        )
        self._phrases: dict[tuple, dict[int, bool]] = {}
        self._phrase_checks, self._phrase_limit = 0, phrase_checks

    def piece(self, leaf: IndexReader, name: Any, read: Callable[[IndexReader], Any]) -> Any:
        """``read(leaf)``, or what it gave for this segment before."""
        key = segment_key(leaf)
        if key is None:
            return read(leaf)
        pieces = self._pieces.setdefault(key, {})
        if name not in pieces:
            pieces[name] = read(leaf)
        return pieces[name]

    def postings(self, key: SegmentKey | None, fieldname: str, btext: bytes):
        """A term's (docnums, weights) in the segment ``key`` (``segment_key``), if kept."""
        if key is None:
            return None
        return self._postings.get((key, fieldname, btext))

    def keep_postings(
        self,
        key: SegmentKey | None,
        fieldname: str,
        btext: bytes,
        arrays: tuple[np.ndarray, np.ndarray],
    ) -> None:
        if key is None:
            return
        # A list larger than the whole cache is not kept (cachetools' ValueError).
        with contextlib.suppress(ValueError):
            self._postings[(key, fieldname, btext)] = arrays

    def phrase_checks(self, leaf: IndexReader, phrase: tuple) -> dict[int, bool]:
        """Whether ``phrase`` is in each of this segment's documents checked so far (by
        segment docnum): to be filled in by the caller, ``checked`` saying how many."""
        key = segment_key(leaf)
        if key is None:
            return {}
        return self._phrases.setdefault((key, phrase), {})

    def checked(self, count: int) -> None:
        """``count`` more phrase checks were remembered; past the limit all are forgotten."""
        self._phrase_checks += count
        if self._phrase_checks > self._phrase_limit:
            self._phrases, self._phrase_checks = {}, 0

    def keep_only(self, reader: IndexReader) -> None:
        """Forget every segment but those ``reader`` reads (the generation now served)."""
        kept = {segment_key(leaf) for leaf, _ in reader.leaf_readers()}
        for key in [key for key in self._pieces if key not in kept]:
            del self._pieces[key]
        for key in [key for key in self._postings if key[0] not in kept]:
            del self._postings[key]
        for key in [key for key in self._phrases if key[0] not in kept]:
            self._phrase_checks -= len(self._phrases.pop(key))
