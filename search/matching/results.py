"""What an evaluation gives: matches and their scores, kept in a bounded cache, and the
array arithmetic that combines them as Whoosh's matchers add scores."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from search.deadline import Deadline

EMPTY_IDS = np.zeros(0, dtype=np.int64)
EMPTY_SCORES = np.zeros(0, dtype=np.float64)
# Aligned: parts this many times fewer than the index's documents are merged by sorting.
SORTED_UNION_RATIO = 32


class SearchTimedOut(Exception):
    """The evaluation passed its ``deadline`` and was abandoned."""


def check_time(deadline: Deadline) -> None:
    """Raise SearchTimedOut once ``deadline`` is exceeded."""
    if deadline.exceeded():
        raise SearchTimedOut


@dataclass(frozen=True)
class Matches:
    """Matching documents (global docnums, ascending, no deleted ones) and their scores."""

    docnums: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Matches:
        return cls(EMPTY_IDS, EMPTY_SCORES)

    def __len__(self) -> int:
        return len(self.docnums)

    def nbytes(self) -> int:
        """The bytes of its arrays: what it costs in the matcher's cache."""
        return self.docnums.nbytes + self.scores.nbytes

    def boosted(self, boost: float) -> Matches:
        """These matches with every score times ``boost``."""
        return self if boost == 1.0 else Matches(self.docnums, self.scores * boost)

    def top(self, limit: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``limit`` (docnums, scores) by score, then docnum; ``allowed`` a bool mask."""
        docnums, scores = self.docnums, self.scores
        if allowed is not None:
            keep = allowed[docnums]
            docnums, scores = docnums[keep], scores[keep]
        if limit < len(scores):
            # Everything scoring at least the limit-th best score, ties included.
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= threshold
            docnums, scores = docnums[keep], scores[keep]
        order = np.lexsort((docnums, -scores))[:limit]
        return docnums[order], scores[order]


@dataclass(frozen=True)
class Aligned:
    """The documents of several matches together, and where each one's documents are
    among them: their scores summed over arrays of the union, not of the whole index."""

    docnums: np.ndarray  # the union, ascending
    places: tuple[np.ndarray, ...]  # per part, the rows of its docnums in ``docnums``

    @classmethod
    def of(cls, parts: list[np.ndarray], size: int) -> Aligned:
        """``parts`` (ascending docnums each) of an index of ``size`` documents, aligned.

        Parts SORTED_UNION_RATIO times fewer than the documents are merged by sorting
        them (a rare completion's three fields: 0.04 ms, where an array of every
        document took 0.2); more, over such an array. Both give the same union.
        """
        if parts and sum(len(docnums) for docnums in parts) * SORTED_UNION_RATIO < size:
            union = distinct(np.concatenate(parts)).astype(np.int64)
            return cls(
                union, tuple(np.searchsorted(union, docnums).astype(np.int32) for docnums in parts)
            )
        hit = np.zeros(size, dtype=bool)
        parts = [as_index(docnums) for docnums in parts]
        for docnums in parts:
            hit[docnums] = True
        union = np.flatnonzero(hit)
        rows = np.empty(size, dtype=np.int32)
        rows[union] = np.arange(len(union), dtype=np.int32)
        return cls(union, tuple(rows[docnums] for docnums in parts))

    def nbytes(self) -> int:
        return self.docnums.nbytes + sum(places.nbytes for places in self.places)

    def summed(self, scores: list[np.ndarray]) -> np.ndarray:
        """Each part's ``scores`` added where its documents are, part after part from 0.0,
        as ``total[part.docnums] += part.scores`` adds them over the whole index."""
        total = np.zeros(len(self.docnums), dtype=np.float64)
        for places, part in zip(self.places, scores, strict=True):
            add_at(total, places, part)
        return total


class MatchCache:
    """Matches by key (a term, a word in its fields, a phrase), or alignments of them,
    bounded in bytes, least recently used dropped first; it belongs to one matcher, so
    to one generation."""

    def __init__(self, max_bytes: int):
        self._kept: LRUCache[Hashable, Matches | Aligned] = LRUCache(
            max_bytes, getsizeof=lambda kept: kept.nbytes()
        )

    @property
    def nbytes(self) -> int:
        """The bytes of what is kept."""
        return self._kept.currsize

    def get(self, key: Hashable) -> Matches | Aligned | None:
        return self._kept.get(key)

    def remember(self, key: Hashable, found: Matches | Aligned) -> None:
        # A match list larger than the whole cache is not kept (cachetools' ValueError).
        with contextlib.suppress(ValueError):
            self._kept[key] = found


def as_index(docnums: np.ndarray) -> np.ndarray:
    """``docnums`` as numpy's index type, for using them more than once as an index.

    The cache keeps term matches' docnums as int32 (12 bytes a match, not 16);
    numpy converts an int32 index to its own type at every use: once here, not
    at each of the two or three uses (500,000 matches: 1.8 ms an update, 3.2
    with int32).
    """
    return docnums.astype(np.intp, copy=False)


def add_at(total: np.ndarray, places: np.ndarray, scores: np.ndarray) -> None:
    """``total[places] += scores`` for distinct ``places``, the same sums, in half the time.

    numpy 2's ``np.add.at`` adds in place where ``+=`` through an index gathers,
    adds and scatters: at a million articles, 316,000 places take 1.0 ms, not 1.9
    (``np.maximum.at`` likewise for a best score). With repeated places the two
    would differ (``+=`` keeps one addition); a part's places are distinct.
    """
    np.add.at(total, places, scores)


def positions_in(sorted_docnums: np.ndarray, docnums: np.ndarray) -> tuple:
    """For each of ``docnums``: its index in ``sorted_docnums``, and whether it is there."""
    where = np.searchsorted(sorted_docnums, docnums)
    inside = where < len(sorted_docnums)
    present = np.zeros(len(docnums), dtype=bool)
    present[inside] = sorted_docnums[where[inside]] == docnums[inside]
    return np.minimum(where, max(len(sorted_docnums) - 1, 0)), present


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: ``np.unique`` without its cost.

    numpy 2.4's ``np.unique`` of integers goes through a hash table: 25 ms for
    57,000 document numbers in order, where sorting and dropping repeats takes
    0.3 ms (with ``return_inverse`` it sorts).
    """
    values = np.sort(values)
    if len(values) < 2:
        return values
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def sparse_combine(parts: list[Matches], union: bool) -> tuple[np.ndarray, np.ndarray]:
    """Or (``union``) or And of a few matches, summed as the whole-index arrays sum them.

    ``bincount`` adds each document's scores in the parts' order, starting
    from 0.0, as ``total[part.docnums] += part.scores`` does part after part.
    """
    docnums = np.concatenate([part.docnums for part in parts])
    unique, inverse = np.unique(docnums, return_inverse=True)
    scores = np.concatenate([part.scores for part in parts])
    totals = np.bincount(inverse, weights=scores, minlength=len(unique))
    if union:
        return unique, totals
    complete = np.bincount(inverse, minlength=len(unique)) == len(parts)
    return unique[complete], totals[complete]


def in_order_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Add arrays one after another from 0.0, as ``total[docnums] += scores`` does."""
    total = np.zeros(len(arrays[0]))
    for scores in arrays:
        total += scores
    return total


def tree_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Add arrays in the order of Whoosh's make_binary_tree (a + (b + c) for three)."""
    if len(arrays) == 1:
        return arrays[0]
    half = len(arrays) // 2
    return tree_sum(arrays[:half]) + tree_sum(arrays[half:])
