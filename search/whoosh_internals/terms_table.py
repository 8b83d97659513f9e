"""Whoosh's terms table (an OrderedHashWriter file): written without a system call per
term, and a field's terms read in bulk.

Whoosh's HashWriter asks the file for its position (``tell()``) before every
key and writes each key in three calls; on a buffered file each ``tell()`` is
an ``lseek`` system call. ``TermsTableWriter`` counts the position itself and
writes records in batches; the bytes on disk are the ones OrderedHashWriter
writes, read by Whoosh's OrderedHashReader.

``field_terms`` and ``field_doc_frequencies`` read one field's terms (and
their document frequencies) from a segment's table in one piece, for the
typing vocabulary (search.vocabulary): Whoosh's readers make a generator step
and a TermInfo per term, 20 s of a worker's start over a million articles.

``TermsLookup`` looks one term up as Whoosh's OrderedHashReader does, with a
pread of the hash slots and one of the record (search.whoosh_internals.region):
8 µs where Whoosh's buffered reads take 60.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import calcsize

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter, _lengths, _pointer
from whoosh.system import pack_ushort

from search.whoosh_internals import version
from search.whoosh_internals.region import FileRegion

_BATCH = 4096  # records held before one write


class TermsTableWriter(OrderedHashWriter):
    """An OrderedHashWriter (keys must increase) that keeps count of its file position."""

    def __init__(self, dbfile):
        super().__init__(dbfile)
        self._position = dbfile.tell()
        self._pending: list[bytes] = []

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        position = self._position
        self.index.append(position)
        record = _lengths.pack(len(key), len(value)) + key + value
        self._pending.append(record)
        self._position = position + len(record)
        hashed = self.hashfn(key)
        self.buckets[hashed & 255].append((hashed, position))
        self.lastkey = key
        if len(self._pending) >= _BATCH:
            self._write_pending()

    def _write_pending(self) -> None:
        self.dbfile.write(b"".join(self._pending))
        self._pending.clear()

    def _write_hashes(self) -> None:
        # HashWriter._write_hashes with each table written in one call.
        self._write_pending()
        dbfile = self.dbfile
        position = dbfile.tell()
        empty = (0, 0)
        for entries in self.buckets:
            slots = 2 * len(entries)
            self.directory.append((position, slots))
            table = [empty] * slots
            for hashed, key_position in entries:
                slot = (hashed >> 8) % slots
                while table[slot] != empty:
                    slot = (slot + 1) % slots
                table[slot] = (hashed, key_position)
            data = b"".join([_pointer.pack(*entry) for entry in table])
            dbfile.write(data)
            position += len(data)


# --- reading a field's terms in bulk ----------------------------------------------------------

_SEPARATOR = b"\n"  # between terms when decoded in one piece; no analysed term holds one


def field_terms(reader, fieldname: str) -> list[str]:
    """Every term of ``fieldname`` in one segment (``reader``), in order, as text.

    Whoosh's ``lexicon`` makes three generator steps and two slices per term;
    the terms table's keys are read here in one piece and decoded at once.
    """
    records = _field_records(reader, fieldname)
    if records is None:
        return [_text(term) for term in reader.lexicon(fieldname)]
    data, keys, key_lengths = records
    return _decoded_keys(data, keys, key_lengths)


def field_doc_frequencies(reader, fieldname: str) -> tuple[list[str], np.ndarray]:
    """Every term of ``fieldname`` in one segment with its document frequency (deleted
    documents counted, as Whoosh's term info counts them), in term order.

    Whoosh's ``iter_field`` unpickles a TermInfo per term; here each
    frequency is cut from the table's bytes, all of a field's at once.
    """
    records = _field_records(reader, fieldname)
    if records is None:
        pairs = [(_text(term), info.doc_frequency()) for term, info in reader.iter_field(fieldname)]
        return [term for term, _ in pairs], np.fromiter(
            (count for _, count in pairs), dtype=np.int64, count=len(pairs)
        )
    data, keys, key_lengths = records
    # A W3 term info: flags (1 byte), total weight (4), document frequency (4, big-endian).
    frequencies = _big_endian(data, keys + key_lengths + _DOC_FREQUENCY_AT, 4)
    return _decoded_keys(data, keys, key_lengths), frequencies


# Where a key's bytes begin after its record's start: the key and value lengths, then the
# field number.
_KEY_AT = _lengths.size + 2
_DOC_FREQUENCY_AT = 1 + 4
# A W3 term info: flags (1 byte: postings inlined), total weight, document frequency,
# shortest and longest length, highest weight, first and last document; then where its
# posting list is in the postings file and its length in bytes (unless inlined).
_INFO = W3TermInfo._struct.format  # "!BfIBBfII"
_FIRST_AT, _LAST_AT, _LIST_AT = (calcsize(_INFO[:n]) for n in (7, 8, 9))
_LIST_LENGTH_AT = _LIST_AT + calcsize("!q")


@dataclass(frozen=True)
class FieldTermInfos:
    """One field's terms in one segment with what their term infos say, in term order."""

    terms: list[str]
    frequencies: np.ndarray  # documents per term (deleted ones too)
    first: np.ndarray  # each term's first and last document
    last: np.ndarray
    offsets: np.ndarray  # where each posting list is in the postings file
    lengths: np.ndarray  # its length in bytes


def field_term_infos(reader, fieldname: str) -> FieldTermInfos | None:
    """``fieldname``'s term infos in one segment, cut from its terms table's bytes at once.

    None where ``field_terms`` would ask Whoosh's reader, and when a term's
    postings are kept in its info (a W3 codec with an inline limit above 1;
    never in the codecs here): the caller then asks Whoosh's reader too.
    """
    records = _field_records(reader, fieldname)
    if records is None:
        return None
    data, keys, key_lengths = records
    info = keys + key_lengths
    if len(info) and np.frombuffer(data, dtype=np.uint8)[info].any():  # inlined postings
        return None
    return FieldTermInfos(
        _decoded_keys(data, keys, key_lengths),
        _big_endian(data, info + _DOC_FREQUENCY_AT, 4),
        _big_endian(data, info + _FIRST_AT, 4),
        _big_endian(data, info + _LAST_AT, 4),
        _big_endian(data, info + _LIST_AT, 8),
        _big_endian(data, info + _LIST_LENGTH_AT, 4),
    )


def _field_records(reader, fieldname: str) -> tuple[bytes, np.ndarray, np.ndarray] | None:
    """A segment's terms-table records of one field: (their bytes, where each term's
    text starts in them, its length); None when the fast paths are off or the segment
    is not a W3 one: the caller then asks Whoosh's reader.

    The table is an OrderedHashReader file: records (key length, value length,
    key, value) in key order, each key the field's number and the term, then
    hash tables, then an array of every record's position.
    """
    terms = getattr(reader, "_terms", None)
    if not version.FAST_PATHS or type(terms) is not W3TermsReader:
        return None
    table = terms._tindex
    if type(table) is not OrderedHashReader:
        return None
    number = terms._fieldmap.get(fieldname)
    start = None if number is None else table.closest_key_pos(pack_ushort(number))
    if start is None:
        return b"", np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    end = table.closest_key_pos(pack_ushort(number + 1)) if number < 0xFFFF else None
    end = table.endofdata if end is None else end
    dtype = np.dtype(table.extras["indextype"]).newbyteorder(">")
    positions = np.frombuffer(
        table.dbfile.get(table.indexbase, table.indexlen * table.indexsize), dtype=dtype
    ).astype(np.int64)
    # Positions increase with the keys: the field's records are one run of them.
    first, last = np.searchsorted(positions, (start, end))
    records = positions[first:last] - start
    data = table.dbfile.get(start, end - start)
    key_lengths = _big_endian(data, records, 4) - 2
    return data, records + _KEY_AT, key_lengths


def _big_endian(data: bytes, offsets: np.ndarray, size: int) -> np.ndarray:
    """The ``size``-byte big-endian unsigned integers at ``offsets`` of ``data``, as int64."""
    if not len(offsets):
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(data, dtype=np.uint8)
    return raw[offsets[:, None] + np.arange(size)].view(f">u{size}").reshape(-1).astype(np.int64)


def _decoded_keys(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> list[str]:
    """The UTF-8 texts at ``starts`` (of ``lengths`` bytes) in ``data``, decoded at once.

    The texts are gathered into one buffer, a separator after each, decoded
    and split in C; a text holding the separator (none of an analysed field's
    terms does) sends them all through a slice and a decode each.
    """
    if not len(starts):
        return []
    total = int(lengths.sum())
    before = np.cumsum(lengths) - lengths  # bytes of the texts before each
    gathered = np.arange(total) + np.repeat(starts - before, lengths)
    joined = np.full(total + len(starts), ord(_SEPARATOR), dtype=np.uint8)
    joined[np.arange(total) + np.repeat(np.arange(len(starts)), lengths)] = np.frombuffer(
        data, dtype=np.uint8
    )[gathered]
    texts = joined[:-1].tobytes().decode("utf-8").split(_SEPARATOR.decode())
    if len(texts) == len(starts):
        return texts
    ends = (starts + lengths).tolist()
    return [data[s:e].decode("utf-8") for s, e in zip(starts.tolist(), ends, strict=True)]


def _text(term: str | bytes) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


# --- looking one term up ------------------------------------------------------------------

# Hash slots read at once: a slot holds its key's hash and record position (12 bytes), and
# a look-up rarely goes past the second.
_SLOTS_READ = 4
# Bytes read with a record's key: a W3 term info is 33 bytes (its value's length, read
# first, says when more are needed).
_INFO_READ = 64


class TermsLookup:
    """A segment's W3 terms table and posting lists, read with preads.

    Gives what W3TermsReader.term_info and its posting file's ``get`` give,
    from the same bytes: the table's hash directory is Whoosh's own (read
    when the segment was opened), the slots and records are read here.
    """

    def __init__(self, terms: W3TermsReader, table: FileRegion, postings: FileRegion):
        index = terms._tindex
        self._directory = index.tables  # per hash byte: (where its slots start, how many)
        self._hash = index.hashfn
        self._fieldmap = terms._fieldmap
        self._table = table
        self._postings = postings

    @classmethod
    def open(cls, reader) -> TermsLookup | None:
        """The look-up of ``reader``'s segment; None where Whoosh's reader must be asked (the
        fast paths off, another codec, a table or posting file not on disk)."""
        terms = getattr(reader, "_terms", None)
        if not version.FAST_PATHS or type(terms) is not W3TermsReader:
            return None
        if type(terms._tindex) is not OrderedHashReader:
            return None
        table, postings = FileRegion.of(terms._tindex.dbfile), FileRegion.of(terms._postfile)
        if table is None or postings is None:
            return None
        return cls(terms, table, postings)

    def info(self, fieldname: str, btext: bytes) -> W3TermInfo | None:
        """The term's info; None when the segment lacks the term."""
        number = self._fieldmap.get(fieldname)
        if number is None:
            return None
        value = self._value(pack_ushort(number) + btext)
        return None if value is None else W3TermInfo.from_bytes(value)

    def posting_bytes(self, at: int, size: int) -> bytes:
        """``size`` bytes of the segment's posting file from ``at``."""
        return self._postings.exactly(at, size)

    def _value(self, key: bytes) -> bytes | None:
        """HashReader.ranges_for_key's first value for ``key``, read with preads."""
        keyhash = self._hash(key)
        start, slots = self._directory[keyhash & 255]
        slot = (keyhash >> 8) % slots if slots else 0
        probed = 0
        while probed < slots:
            run = min(_SLOTS_READ, slots - slot, slots - probed)
            data = self._table.bytes_at(start + slot * _pointer.size, run * _pointer.size)
            for slot_hash, position in _pointer.iter_unpack(data):
                if not position:  # an empty slot: the key is not in the table
                    return None
                if slot_hash == keyhash:
                    found = self._record_value(position, key)
                    if found is not None:
                        return found
            probed += run
            slot = (slot + run) % slots
        return None

    def _record_value(self, position: int, key: bytes) -> bytes | None:
        """The value of the record at ``position`` if its key is ``key``."""
        data = self._table.bytes_at(position, _lengths.size + len(key) + _INFO_READ)
        key_length, value_length = _lengths.unpack_from(data)
        end = _lengths.size + key_length
        if key_length != len(key) or data[_lengths.size : end] != key:
            return None
        if len(data) < end + value_length:
            data += self._table.exactly(position + len(data), end + value_length - len(data))
        return data[end : end + value_length]
