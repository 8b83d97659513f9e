"""Common words' documents and weights, as arrays beside a segment's W3 posting lists.

A W3 posting block is one pickle of (id deltas, weights, values): reading a
common word's documents unpickles every posting's positions too. At a
million articles that was 4 s of the 15 to 19 s CPU a new server worker took
over the benchmark's query log for the first time (6 to 7 s once warm), and
a worker meets every word for the first time. So the codec's field writer
also writes, for each scorable field's terms in at least MIN_DOCUMENTS of a
segment's documents, their docnums (int32) and weights (float32, as W3
keeps them) as raw arrays, to one file of the segment: a search reads a
term's with two slices. The file sits inside the segment's compound file,
so it is copied, checked and deleted with the segment; Whoosh's own reader
never opens it, and the W3 lists stay whole. A segment without the file (an
older index, Whoosh's own writer) or a term not in it is read from W3.

The file: each term's docnums then weights, term after term; then a
pickled index {fieldname: (terms as a sorted numpy bytes array, where each
term's arrays start, how many documents)}; then the index's offset, 8 bytes.
"""

from __future__ import annotations

import pickle
import struct

import numpy as np

from search.whoosh_internals import version

EXT = ".frq"
# Fewer documents than this: the W3 list is quick to read, and not kept twice.
MIN_DOCUMENTS = 64
_FOOTER = struct.Struct("<q")
_DOCNUM = np.dtype("<i4")
_WEIGHT = np.dtype("<f4")


class FrequentPostingsWriter:
    """Writes a segment's frequent-terms file, a term at a time; see the module."""

    def __init__(self, file):
        self._file = file  # a Whoosh StructFile, created for the segment
        self._fields: dict[str, tuple[list[bytes], list[int], list[int]]] = {}

    def add(self, fieldname: str, btext: bytes, docnums, weights) -> None:
        """A term's whole posting list (docnums ascending); kept if it has enough of them.

        Terms holding a zero byte are left to W3 (a numpy bytes array drops trailing zeros).
        """
        if len(docnums) < MIN_DOCUMENTS or b"\x00" in btext:
            return
        terms, starts, counts = self._fields.setdefault(fieldname, ([], [], []))
        terms.append(btext)
        starts.append(self._file.tell())
        counts.append(len(docnums))
        self._file.write(np.asarray(docnums, dtype=_DOCNUM).tobytes())
        self._file.write(np.asarray(weights, dtype=_WEIGHT).tobytes())

    def close(self) -> None:
        index = {}
        for fieldname, (terms, starts, counts) in self._fields.items():
            order = np.argsort(np.array(terms, dtype=bytes), kind="stable")
            index[fieldname] = (
                np.array(terms, dtype=bytes)[order],
                np.array(starts, dtype=np.int64)[order],
                np.array(counts, dtype=np.int64)[order],
            )
        at = self._file.tell()
        self._file.write(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
        self._file.write(_FOOTER.pack(at))
        self._file.close()


class FrequentPostings:
    """A segment's frequent-terms index, read once; ``arrays`` reads a term's postings."""

    def __init__(self, index: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self._index = index

    @classmethod
    def open(cls, reader) -> FrequentPostings | None:
        """The index of ``reader``'s segment file; None without one (or the fast paths off)."""
        name = _filename(reader)
        if name is None:
            return None
        storage = reader.storage()
        file = storage.open_file(name)
        try:
            size = storage.file_length(name)
            (at,) = _FOOTER.unpack(file.get(size - _FOOTER.size, _FOOTER.size))
            return cls(pickle.loads(file.get(at, size - _FOOTER.size - at)))
        finally:
            file.close()

    def arrays(self, reader, fieldname: str, btext: bytes) -> tuple | None:
        """The term's (docnums int32, weights float64) in ``reader``'s segment, deleted
        documents included, as W3 gives them; None when the file does not hold the term."""
        found = self._index.get(fieldname)
        if found is None:
            return None
        terms, starts, counts = found
        row = int(np.searchsorted(terms, btext))
        if row == len(terms) or terms[row] != btext:
            return None
        start, count = int(starts[row]), int(counts[row])
        file = reader.storage().open_file(reader.segment().make_filename(EXT))
        try:
            docnums = np.frombuffer(file.get(start, count * _DOCNUM.itemsize), dtype=_DOCNUM)
            at = start + count * _DOCNUM.itemsize
            weights = np.frombuffer(file.get(at, count * _WEIGHT.itemsize), dtype=_WEIGHT)
        finally:
            file.close()
        return docnums.astype(np.int32), weights.astype(np.float64)


def _filename(reader) -> str | None:
    segment = reader.segment()
    if not version.FAST_PATHS or segment is None:
        return None
    name = segment.make_filename(EXT)
    return name if reader.storage().file_exists(name) else None
