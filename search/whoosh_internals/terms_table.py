"""Whoosh's terms table (an OrderedHashWriter file), written without a system call per term.

Whoosh's HashWriter asks the file for its position (``tell()``) before every
key and writes each key in three calls; on a buffered file each ``tell()`` is
an ``lseek`` system call. ``TermsTableWriter`` counts the position itself and
writes records in batches; the bytes on disk are the ones OrderedHashWriter
writes, read by Whoosh's OrderedHashReader.
"""

from __future__ import annotations

from whoosh.filedb.filetables import OrderedHashWriter, _lengths, _pointer

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
