"""Sets of document numbers as packed bit arrays: fast AND, OR and counting."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def undeleted_mask(reader) -> np.ndarray:
    """Per document number of ``reader`` (one segment or several): True unless deleted.

    From each segment's deletions: Whoosh's ``all_doc_ids`` yields a Python int
    per undeleted document (seconds at a million articles, at every generation opened).
    """
    mask = np.ones(reader.doc_count_all(), dtype=bool)
    for leaf, offset in reader.leaf_readers():
        if leaf.has_deletions():
            deleted = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
            mask[offset + deleted] = False
    return mask


class DocSet:
    """An immutable set of document numbers below ``size``, one bit each.

    Its document numbers are worked out once, when first asked for (a search
    asks for its results' for their timeline), or kept from the array it was
    made of (``from_sorted``).
    """

    __slots__ = ("_docnums", "bits", "size")

    def __init__(self, bits: np.ndarray, size: int, docnums: np.ndarray | None = None):
        self.bits = bits
        self.size = size
        self._docnums = docnums

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> DocSet:
        return cls(np.packbits(mask), len(mask))

    @classmethod
    def from_sorted(cls, docnums: np.ndarray, size: int) -> DocSet:
        """The set of ``docnums``, ascending with no repeats (as search.matching's Matches),
        keeping them as its docnums."""
        made = cls.from_docnums(docnums, size)
        kept = docnums.view()
        kept.flags.writeable = False
        made._docnums = kept
        return made

    @classmethod
    def from_docnums(cls, docnums: Iterable[int], size: int) -> DocSet:
        mask = np.zeros(size, dtype=bool)
        if not isinstance(docnums, np.ndarray):
            docnums = np.fromiter(docnums, dtype=np.int64)
        mask[docnums] = True
        return cls.from_mask(mask)

    def __and__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits & other.bits, self.size)

    def __or__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits | other.bits, self.size)

    def __sub__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits & ~other.bits, self.size)

    def __contains__(self, docnum: int) -> bool:
        return 0 <= docnum < self.size and bool(self.bits[docnum >> 3] & (0x80 >> (docnum & 7)))

    def __len__(self) -> int:
        return int(np.bitwise_count(self.bits).sum())

    def mask(self) -> np.ndarray:
        return np.unpackbits(self.bits, count=self.size).view(bool)

    def docnums(self) -> np.ndarray:
        """The document numbers, ascending (read-only: the set keeps them)."""
        if self._docnums is None:
            docnums = np.flatnonzero(self.mask())
            docnums.flags.writeable = False
            self._docnums = docnums
        return self._docnums
