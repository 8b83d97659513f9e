"""Whoosh's W3 codec with field lengths read once per segment instead of once per posting.

Whoosh looks up a document's field length for every posting it writes (at
commit) and every document it scores, each time through a file seek, and for
fields without lengths (ids, keywords, the spelling field) through a file
system ``stat``. ``ArticleCodec`` writes what W3 writes (see
TermAtATimeFieldWriter), read by W3's own reader; its per-document reader
loads each length column once, as bytes. Indexes written with it name
it in their segments, so their readers use it too.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Sequence
from itertools import groupby, islice
from operator import itemgetter, sub
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import SpellField
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.whoosh_internals import version
from search.whoosh_internals.frequent import EXT as FREQUENT_EXT
from search.whoosh_internals.frequent import FrequentPostingsWriter
from search.whoosh_internals.terms_table import TermsTableWriter

_UNREAD = object()
_field_and_term = itemgetter(0, 1)
_TERMINFO = W3TermInfo._struct


def _column_bytes(perdoc: W3PerDocReader, fieldname: str) -> bytes | None:
    """A segment's length column for ``fieldname``, one byte per document; None if none."""
    reader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:
        return None
    try:  # the column is one byte per document: read it whole
        lengths = reader._dbfile.get(reader._basepos, reader._count)
    except AttributeError:
        lengths = bytes(reader[n] for n in range(reader._count))
    return lengths + bytes(perdoc._doccount - len(lengths))


def numeric_column(reader, fieldname: str) -> np.ndarray:
    """A segment's numeric column as one array (values not written: the column's default).

    Whoosh's column reader unpacks one value per call (0.9 s for 200,000
    dates); its fixed-width big-endian values are read here in one piece.
    Any other kind of column goes through Whoosh's reader.
    """
    column = reader.column_reader(fieldname, translate=False)
    count = reader.doc_count_all()
    if not version.FAST_PATHS or type(column) is not NumericColumn.Reader:
        return np.fromiter(column, count=count, dtype=np.uint64)
    raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    values = np.full(count, column._default, dtype=np.dtype(column._typecode))
    values[: column._count] = np.frombuffer(raw, dtype=np.dtype(column._typecode).newbyteorder(">"))
    return values


def bytes_column(reader, fieldname: str) -> list[bytes]:
    """A segment's bytes column as a list, one value a document (b"" where none was written).

    Whoosh's reader seeks and reads once per value; a variable-length column's
    values are read here in one piece and cut at their lengths.
    """
    column = reader.column_reader(fieldname, translate=False)
    count = reader.doc_count_all()
    if not version.FAST_PATHS or type(column) is not VarBytesColumn.Reader:
        return list(islice(column, count))
    lengths = np.frombuffer(column._lengths, dtype=column._lengths.typecode)[:count]
    ends = np.cumsum(lengths, dtype=np.int64)
    raw = column._dbfile.get(column._basepos, int(ends[-1]) if len(ends) else 0)
    starts = (ends - lengths).tolist()
    values = [raw[start:end] for start, end in zip(starts, ends.tolist(), strict=True)]
    values.extend(b"" for _ in range(count - len(values)))
    return values


def length_bytes(reader, fieldname: str) -> bytes:
    """Each document's quantised length in ``fieldname`` (Whoosh's length byte; 0 when none).

    ``reader`` is one segment's reader; works for indexes written with any W3 codec.
    """
    if not version.FAST_PATHS:
        return _lengths_one_by_one(reader, fieldname)
    lengths = length_bytes_of(getattr(reader, "_perdoc", reader), fieldname)
    return lengths if lengths is not None else bytes(reader.doc_count_all())


def length_bytes_of(perdoc, fieldname: str) -> bytes | None:
    """A per-document reader's length bytes for ``fieldname``; None when it keeps none."""
    if isinstance(perdoc, LengthCachingPerDocReader):
        lengths = perdoc._length_bytes.get(fieldname, _UNREAD)
        return perdoc._load_lengths(fieldname) if lengths is _UNREAD else lengths
    if isinstance(perdoc, W3PerDocReader):
        return _column_bytes(perdoc, fieldname)
    if perdoc is None:
        return None
    return _lengths_one_by_one(perdoc, fieldname)


def _lengths_one_by_one(reader, fieldname: str) -> bytes:
    """Each document's length byte in ``fieldname``, asked of Whoosh's reader one by one."""
    return bytes(
        length_to_byte(reader.doc_field_length(n, fieldname, 0) or 0)
        for n in range(reader.doc_count_all())
    )


class LengthCachingPerDocReader(W3PerDocReader):
    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}

    def _load_lengths(self, fieldname: str) -> bytes | None:
        lengths = _column_bytes(self, fieldname)
        self._length_bytes[fieldname] = lengths
        return lengths

    def _cached_reader(self, fieldname, column):
        # Remember a missing column too, instead of asking the file system again.
        if fieldname not in self._readers:
            self._readers[fieldname] = (
                self.column_reader(fieldname, column) if self.has_column(fieldname) else None
            )
        return self._readers[fieldname]

    def doc_field_length(self, docnum, fieldname, default=0):
        lengths = self._length_bytes.get(fieldname, _UNREAD)
        if lengths is _UNREAD:
            lengths = self._load_lengths(fieldname)
        if lengths is None:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lbyte = lengths[docnum] if docnum < len(lengths) else 0
        # As Whoosh: a zero length byte gives None.
        return byte_to_length(lbyte) if lbyte else None


class TermAtATimeFieldWriter(W3FieldWriter):
    """Writes a term's whole posting list in one call instead of a posting at a time.

    What W3FieldWriter writes, read by Whoosh's W3 reader: the same blocks
    (delta-coded ids, float32 weights, values, each block's info tuple, pickled
    and, past SMALL_BLOCK_POSTINGS, compressed; the data pickled with
    BLOCK_PICKLE_PROTOCOL), the same term infos, from the same ids, weights,
    values and length bytes ``add_posting`` would have collected one by one:
    ``write_term`` does that work without a method call per posting.
    Spelling words are written once, not once per document that has them:
    Whoosh posts every word of every document to the spelling field at
    docnum 0, and only the field's word list is ever read. A scorable
    field's common terms also go to the segment's frequent-terms file
    (search.whoosh_internals.frequent).
    """

    def __init__(self, codec, storage, segment):
        # W3FieldWriter.__init__ with TermsTableWriter for the terms table.
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = TermsTableWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False
        self._postings_end: int | None = None  # where the next block goes (known after a tell)
        self._frequent = FrequentPostingsWriter(self._create_file(FREQUENT_EXT))

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._postings_end = None  # Whoosh's own postings writer may have written since

    def add_postings(self, schema, lengths, items):
        # Whoosh's stock writers (merges, incremental runs) hand postings over
        # sorted by field, term and docnum, as one stream.
        current_field = None
        for (fieldname, btext), postings in groupby(items, key=_field_and_term):
            if fieldname != current_field:
                if current_field is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                current_field = fieldname
                spelling = isinstance(self._fieldobj, SpellField)
                field_lengths = length_bytes_of(lengths, fieldname)
            docnums, weights, values = [], [], []
            for _, _, docnum, weight, value in postings:
                if docnum < 0 or (spelling and docnums and docnum == docnums[-1]):
                    continue  # Whoosh's spelling-graph marker; a repeated spelling word
                docnums.append(docnum)
                weights.append(weight)
                values.append(value)
            if docnums:
                self.write_term(btext, docnums, weights, values, field_lengths)
        if current_field is not None:
            self.finish_field()

    def write_term(
        self,
        btext: bytes,
        docnums: Sequence[int],
        weights: Sequence[float],
        values: Sequence[bytes | None],
        lengths: bytes | None,
    ) -> None:
        """Write one term of the open field: postings in docnum order; ``lengths`` holds
        each document's length byte in this field (None: the field keeps none)."""
        limit, level = self._codec._blocklimit, self._codec._compression
        fixed_size = self._format.fixed_value_size()
        count = len(docnums)
        total_weight = 0.0
        max_weight = 0
        min_length = max_length = 0
        written = [WHOOSH3_HEADER_MAGIC]
        for first in range(0, count, limit):
            block, weight, block_max_weight, block_min, block_max = _block(
                docnums[first : first + limit],
                weights[first : first + limit],
                values[first : first + limit],
                lengths,
                fixed_size,
                level,
                last=first + limit >= count,
            )
            written.append(block)
            total_weight += weight
            max_weight = max(max_weight, block_max_weight)
            if block_min:
                min_length = min(min_length, block_min) if min_length else block_min
            max_length = max(max_length, block_max)
        terminfo = _TERMINFO.pack(
            False,
            total_weight,
            count,
            min_length,
            max_length,
            max_weight,
            docnums[0],
            docnums[-1],
        )
        self._tindex.add(pack_ushort(self._fieldid) + btext, terminfo + self._write(written))
        if self._fieldobj.scorable:
            self._frequent.add(self._fieldname, btext, docnums, weights, values)

    def write_terms_alike(self, btexts: Iterable[bytes], docnum: int, value: bytes) -> None:
        """Write terms of the open field that each have one posting, ``docnum`` with
        weight 1 and ``value``, all pointing at one copy of that posting list.

        For the spelling field, where Whoosh posts every word at docnum 0: its
        readers follow each term's extent, wherever it points.
        """
        fixed_size = self._format.fixed_value_size()
        block, *_ = _block((docnum,), (1.0,), (value,), None, fixed_size, 0, last=True)
        terminfo = _TERMINFO.pack(False, 1.0, 1, 0, 0, 1.0, docnum, docnum)
        extent = self._write([WHOOSH3_HEADER_MAGIC, block])
        add, prefix = self._tindex.add, pack_ushort(self._fieldid)
        for btext in btexts:
            add(prefix + btext, terminfo + extent)

    def close(self):
        super().close()
        self._frequent.close()

    def _write(self, parts: list[bytes]) -> bytes:
        """Append ``parts`` to the postings file; their extent, as a term info ends."""
        start = self._postings_end
        if start is None:
            start = self._postfile.tell()
        data = b"".join(parts)
        self._postfile.write(data)
        self._postings_end = start + len(data)
        return pack_long(start) + pack_int(len(data))


def _block(
    ids: Sequence[int],
    raw_weights: Sequence[float],
    values: Sequence[bytes | None],
    lengths: bytes | None,
    fixed_size: int | None,
    level: int,
    last: bool,
) -> tuple[bytes, float, float, int, int]:
    """One W3 posting block as W3PostingsWriter._write_block writes it, with its
    statistics: (bytes, sum of float32 weights, max weight, min and max length bytes)."""
    stored_weights = array("f", raw_weights)
    if len(ids) == 1:  # most terms: a shortcut with the same result
        docnum, first_weight = ids[0], stored_weights[0]
        deltas = (docnum,)
        mini_weights = None if first_weight == 1.0 else first_weight
        kept_values = [values[0]] if values[0] else []
        weight_sum, block_max_weight = first_weight, max(0, raw_weights[0])
        block_min = block_max = lengths[docnum] if lengths is not None else 0
    else:
        # Each step a C loop (map, set, bytes): blocks of many postings cost most.
        deltas = (ids[0], *map(sub, ids[1:], ids[:-1]))
        distinct_weights = set(stored_weights)
        if distinct_weights == {1.0}:
            mini_weights = None
        elif len(distinct_weights) == 1:
            mini_weights = stored_weights[0]
        else:
            mini_weights = tuple(stored_weights)
        kept_values = values if all(values) else [v for v in values if v]
        weight_sum, block_max_weight = sum(stored_weights), max(0, max(raw_weights))
        block_min = block_max = 0
        if lengths is not None:
            block_lengths = bytes(map(lengths.__getitem__, ids))
            block_max = max(block_lengths)
            if block_max:
                block_min = min(block_lengths.replace(b"\x00", b""))
    if fixed_size is None or fixed_size < 0:
        mini_values = tuple(kept_values)
    elif fixed_size == 0:
        mini_values = None
    else:
        mini_values = b"".join(kept_values)
    data = dumps((deltas, mini_weights, mini_values), BLOCK_PICKLE_PROTOCOL)
    level = level if len(ids) > SMALL_BLOCK_POSTINGS else 0
    if level:
        data = zlib.compress(data, level)
    info = dumps((len(ids), ids[-1], block_max_weight, level, block_min, block_max), 2)
    size = len(info) + len(data)
    return (
        pack_int(-size if last else size) + info + data,
        weight_sum,
        block_max_weight,
        block_min,
        block_max,
    )


# Whoosh pickles a block's data with protocol 2, where each bytes value (the
# encoded positions) becomes a call to codecs.encode: protocol 5 pickles them
# as bytes, six times faster and half the size. Whoosh's reader unpickles any
# protocol.
BLOCK_PICKLE_PROTOCOL = 5

# Blocks of this many postings or fewer are stored uncompressed (each block says
# which): zlib costs more (about 15 us a call, mostly setting up) than it saves
# on a few dozen bytes. Whoosh meant to skip them too: its ``_write_block`` has
# the test, then overwrites the result.
SMALL_BLOCK_POSTINGS = 8


class ArticleCodec(W3Codec):
    """W3 with field lengths read once, terms written whole, small blocks plain.

    With the fast paths off it is W3 itself: indexes that name it still open.
    """

    def field_writer(self, storage, segment):
        if not version.FAST_PATHS:
            return super().field_writer(storage, segment)
        return TermAtATimeFieldWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        if not version.FAST_PATHS:
            return super().per_document_reader(storage, segment)
        return LengthCachingPerDocReader(storage, segment)


def index_codec() -> W3Codec:
    """The codec to write new segments with: ArticleCodec, or Whoosh's own W3 codec
    when the fast paths are off."""
    return ArticleCodec() if version.FAST_PATHS else W3Codec()
