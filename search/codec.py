"""Whoosh's W3 codec with field lengths read once per segment instead of once per posting.

Whoosh looks up a document's field length for every posting it writes (at
commit) and every document it scores, each time through a file seek, and for
fields without lengths (ids, keywords, the spelling field) through a file
system ``stat``. ``ArticleCodec`` writes the same files; its per-document
reader loads each length column once, as bytes. Indexes written with it name
it in their segments, so their readers use it too.
"""

from __future__ import annotations

from array import array
from itertools import groupby
from operator import itemgetter

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PostingsWriter,
    _lenfield,
)
from whoosh.fields import SpellField
from whoosh.util.numeric import byte_to_length, length_to_byte

_UNREAD = object()
_field_and_term = itemgetter(0, 1)


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


def length_bytes(reader, fieldname: str) -> bytes:
    """Each document's quantised length in ``fieldname`` (Whoosh's length byte; 0 when none).

    ``reader`` is one segment's reader; works for indexes written with any W3 codec.
    """
    perdoc = getattr(reader, "_perdoc", None)
    if isinstance(perdoc, LengthCachingPerDocReader):
        lengths = perdoc._length_bytes.get(fieldname, _UNREAD)
        if lengths is _UNREAD:
            lengths = perdoc._load_lengths(fieldname)
    elif isinstance(perdoc, W3PerDocReader):
        lengths = _column_bytes(perdoc, fieldname)
    else:
        return bytes(
            length_to_byte(reader.doc_field_length(n, fieldname, 0) or 0)
            for n in range(reader.doc_count_all())
        )
    return lengths if lengths is not None else bytes(reader.doc_count_all())


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
    """Writes the pool's sorted postings a term at a time instead of a posting at a time.

    The same files as W3FieldWriter: each block is still encoded by Whoosh's
    ``W3PostingsWriter._write_block``, from the same ids, weights, values and
    length statistics that ``add_posting`` would have collected one by one.
    Spelling words are written once, not once per document that has them:
    Whoosh posts every word of every document to the spelling field at
    docnum 0, and only the field's word list is ever read.
    """

    def add(self, docnum, weight, vbytes, length):
        if isinstance(self._fieldobj, SpellField):
            if docnum == self._last_docnum:
                return
            self._last_docnum = docnum
        self._postwriter.add_posting(docnum, weight, vbytes, length)

    def start_term(self, btext):
        super().start_term(btext)
        self._last_docnum = None

    def add_postings(self, schema, lengths, items):
        # As whoosh.codec.base.FieldWriter.add_postings, which checks the order
        # and calls add() per posting; the pool hands postings over sorted.
        dfl = lengths.doc_field_length if lengths else (lambda docnum, fieldname: 0)
        current_field = None
        for (fieldname, btext), postings in groupby(items, key=_field_and_term):
            if fieldname != current_field:
                if current_field is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                current_field = fieldname
                spelling = isinstance(self._fieldobj, SpellField)
            docnums, weights, values = [], [], []
            last = None
            for _, _, docnum, weight, value in postings:
                if docnum == -1 or (spelling and docnum == last):
                    continue  # Whoosh's spelling-graph marker; a repeated spelling word
                last = docnum
                docnums.append(docnum)
                weights.append(weight)
                values.append(value)
            if not docnums:
                continue
            self.start_term(btext)
            self._write_postings(docnums, weights, values, [dfl(d, fieldname) for d in docnums])
            self.finish_term()
        if current_field is not None:
            self.finish_field()

    def _write_postings(self, docnums, weights, values, lengths) -> None:
        """Fill the postings writer's buffer a block at a time, as add_posting would."""
        writer = self._postwriter
        limit = writer._blocklimit
        for start in range(0, len(docnums), limit):
            if start:
                writer._write_block()  # a full block: add_posting writes it on the next
            end = start + limit
            writer._ids = array("I", docnums[start:end])
            writer._weights = array("f", weights[start:end])
            writer._values = [v for v in values[start:end] if v]
            known = [n for n in lengths[start:end] if n]
            writer._minlength = min(known) if known else None
            writer._maxlength = max(known) if known else 0
            writer._maxweight = max(0, max(weights[start:end]))
        # finish_term() writes the last block, as it does after add_posting


# Blocks of this many postings or fewer are stored uncompressed: zlib costs more
# (about 15 us a call, mostly setting up) than it saves on a few dozen bytes.
SMALL_BLOCK_POSTINGS = 8


class SmallBlocksPlainPostingsWriter(W3PostingsWriter):
    """W3 postings; blocks of a few postings not compressed (each block says which).

    Whoosh meant to skip compressing small blocks (its ``_write_block`` has the
    test, then overwrites the result); most terms of an index have a handful
    of postings, so this is most of its zlib calls.
    """

    def _write_block(self, last=False):
        if len(self._ids) > SMALL_BLOCK_POSTINGS or not self._compression:
            return super()._write_block(last)
        compression, self._compression = self._compression, 0
        try:
            return super()._write_block(last)
        finally:
            self._compression = compression


class ArticleCodec(W3Codec):
    """W3 with field lengths read once, spelling words written once, small blocks plain."""

    def postings_writer(self, dbfile, byteids=False):
        return SmallBlocksPlainPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def field_writer(self, storage, segment):
        return TermAtATimeFieldWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return LengthCachingPerDocReader(storage, segment)
