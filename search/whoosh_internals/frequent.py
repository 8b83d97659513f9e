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

Where the pool hands a term's positions over as arrays too (a first
import's text fields: ``PositionValues``), they are written after its
weights: each posting's position count, then the positions, each in the
smallest unsigned type that holds them. A phrase check then reads them for
the documents it asks about with a few slices (``positions``), where W3
unpickles the blocks that hold them; a merge's terms have none (W3 then).

The file: each term's arrays, term after term; then a pickled index
{fieldname: (terms as a sorted numpy bytes array, and for each term where
its arrays start, how many documents, how many positions (-1: none), the
byte sizes of its counts and positions)}; then the index's offset, 8 bytes.
"""

from __future__ import annotations

import contextlib
import pickle
import struct

import numpy as np

from search.whoosh_internals import version
from search.whoosh_internals.region import FileRegion

EXT = ".frq"
# Fewer documents than this: the W3 list is quick to read, and not kept twice.
MIN_DOCUMENTS = 64
_FOOTER = struct.Struct("<q")
_DOCNUM = np.dtype("<i4")
_WEIGHT = np.dtype("<f4")
_BYTE = np.dtype("u1")


# A position key: the document's row (its place among those asked about) above its position.
ROW_SHIFT = 32


def position_keys(counts, positions: np.ndarray) -> np.ndarray:
    """``row << ROW_SHIFT | position`` for each of ``positions``, the first ``counts[0]``
    of them row 0's, the next ``counts[1]`` row 1's, and so on."""
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return (rows << ROW_SHIFT) | positions.astype(np.int64)


class PositionValues(list):
    """A term's Whoosh values (encoded positions, one a posting) with the same positions
    as arrays: ``counts`` (one a posting) and ``positions`` (every posting's, in order)."""

    __slots__ = ("counts", "positions")

    def __init__(self, values: list, counts: np.ndarray, positions: np.ndarray):
        super().__init__(values)
        self.counts, self.positions = counts, positions


class FrequentPostingsWriter:
    """Writes a segment's frequent-terms file, a term at a time; see the module."""

    def __init__(self, file):
        self._file = file  # a Whoosh StructFile, created for the segment
        self._fields: dict[str, list[tuple]] = {}

    def add(self, fieldname: str, btext: bytes, docnums, weights, values) -> None:
        """A term's whole posting list (docnums ascending, ``values`` Whoosh's, positions as
        arrays too where a PositionValues); kept if it has enough documents.

        Terms holding a zero byte are left to W3 (a numpy bytes array drops trailing zeros).
        """
        if len(docnums) < MIN_DOCUMENTS or b"\x00" in btext:
            return
        entry = [btext, self._file.tell(), len(docnums), -1, 0, 0]
        self._file.write(np.asarray(docnums, dtype=_DOCNUM).tobytes())
        self._file.write(np.asarray(weights, dtype=_WEIGHT).tobytes())
        if isinstance(values, PositionValues):
            counts, positions = _smallest(values.counts), _smallest(values.positions)
            self._file.write(counts.tobytes())
            self._file.write(positions.tobytes())
            entry[3:] = len(positions), counts.itemsize, positions.itemsize
        self._fields.setdefault(fieldname, []).append(tuple(entry))

    def close(self) -> None:
        index = {}
        for fieldname, entries in self._fields.items():
            terms, *columns = zip(*entries, strict=True)
            term_array = np.array(terms, dtype=bytes)
            order = np.argsort(term_array, kind="stable")
            index[fieldname] = (
                term_array[order],
                *(np.array(column, dtype=np.int64)[order] for column in columns),
            )
        at = self._file.tell()
        self._file.write(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
        self._file.write(_FOOTER.pack(at))
        self._file.close()


def _smallest(values: np.ndarray) -> np.ndarray:
    """Non-negative ``values`` in the smallest little-endian unsigned type that holds them."""
    largest = int(values.max()) if len(values) else 0
    for kind in ("u1", "<u2", "<u4"):
        if largest <= np.iinfo(kind).max:
            return values.astype(kind)
    return values.astype("<u8")


class FrequentPostings:
    """A segment's frequent-terms index, read once; ``arrays`` reads a term's postings."""

    def __init__(self, index: dict[str, tuple[np.ndarray, ...]], region: FileRegion | None = None):
        # fieldname -> (terms, and a row of the module's columns per term): a term's row
        # in one step, not one numpy scalar per column.
        self._index = {
            fieldname: (terms, np.column_stack(columns))
            for fieldname, (terms, *columns) in index.items()
        }
        self._region = region  # where the file is on disk, when it is

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
            return cls(pickle.loads(file.get(at, size - _FOOTER.size - at)), FileRegion.of(file))
        finally:
            file.close()

    @contextlib.contextmanager
    def _opened(self, reader):
        """A function reading ``count`` values of a dtype at an offset of the file."""
        if self._region is not None:
            yield self._region.read
        else:
            with _opened(reader) as read:
                yield read

    def _term(self, fieldname: str, btext: bytes) -> tuple[int, ...] | None:
        """(start, documents, positions, count size, position size) of a term; None if absent."""
        found = self._index.get(fieldname)
        if found is None:
            return None
        terms, rows = found
        row = int(terms.searchsorted(btext))
        if row == len(terms) or terms[row] != btext:
            return None
        return tuple(rows[row].tolist())

    def arrays(self, reader, fieldname: str, btext: bytes) -> tuple | None:
        """The term's (docnums int32, weights float64) in ``reader``'s segment, deleted
        documents included, as W3 gives them; None when the file does not hold the term."""
        term = self._term(fieldname, btext)
        if term is None:
            return None
        start, count = term[:2]
        with self._opened(reader) as read:  # docnums then weights, in one read
            both = read(start, count * (_DOCNUM.itemsize + _WEIGHT.itemsize), _BYTE)
        split = count * _DOCNUM.itemsize
        docnums, weights = both[:split].view(_DOCNUM), both[split:].view(_WEIGHT)
        return docnums.astype(np.int32), weights.astype(np.float64)

    def positions(self, reader, fieldname: str, btext: bytes, wanted: np.ndarray):
        """The term's positions in the ``wanted`` docnums of ``reader``'s segment (sorted,
        each holding the term), as ``position_keys`` (``row``: the document's place in
        ``wanted``), ascending; None when the file has none for the term."""
        term = self._term(fieldname, btext)
        if term is None or term[2] < 0:
            return None
        start, count, total, count_size, position_size = term
        with self._opened(reader) as read:
            docnums = read(start, count, _DOCNUM)
            at = start + count * (_DOCNUM.itemsize + _WEIGHT.itemsize)
            counts = read(at, count, _unsigned(count_size)).astype(np.int64)
            positions = read(at + count * count_size, total, _unsigned(position_size))
        rows = np.searchsorted(docnums, wanted)
        taken = counts[rows]
        firsts = (np.cumsum(counts) - counts)[rows]
        # Each taken position's place: its posting's first, plus its place in the posting.
        ends = np.cumsum(taken)
        places = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            firsts - ends + taken, taken
        )
        return position_keys(taken, positions[places])


@contextlib.contextmanager
def _opened(reader):
    """A function reading ``count`` values of a dtype at an offset of the segment's file."""
    file = reader.storage().open_file(reader.segment().make_filename(EXT))
    try:
        yield lambda at, count, dtype: np.frombuffer(
            file.get(at, count * dtype.itemsize), dtype=dtype
        )
    finally:
        file.close()


def _unsigned(size: int) -> np.dtype:
    return np.dtype("u1" if size == 1 else f"<u{size}")


def _filename(reader) -> str | None:
    segment = reader.segment()
    if not version.FAST_PATHS or segment is None:
        return None
    name = segment.make_filename(EXT)
    return name if reader.storage().file_exists(name) else None
