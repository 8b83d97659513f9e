"""Whoosh's W3 codec with field lengths read once per segment instead of once per posting.

Whoosh looks up a document's field length for every posting it writes (at
commit) and every document it scores, each time through a file seek, and for
fields without lengths (ids, keywords, the spelling field) through a file
system ``stat``. ``ArticleCodec`` writes the same files; its per-document
reader loads each length column once, as bytes. Indexes written with it name
it in their segments, so their readers use it too.
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length

_UNREAD = object()


class LengthCachingPerDocReader(W3PerDocReader):
    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}

    def _load_lengths(self, fieldname: str) -> bytes | None:
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None:
            lengths = None
        else:
            try:  # the column is one byte per document: read it whole
                lengths = reader._dbfile.get(reader._basepos, reader._count)
            except AttributeError:
                lengths = bytes(reader[n] for n in range(reader._count))
            lengths += bytes(self._doccount - len(lengths))
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


class ArticleCodec(W3Codec):
    def per_document_reader(self, storage, segment):
        return LengthCachingPerDocReader(storage, segment)
