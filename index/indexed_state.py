"""What the index remembers of its articles, kept compact for an incremental run.

An incremental run asks, per source file, whether every article imported
from it carries the file's current stamp (then the file is not read at all),
and per article read, whether it is indexed and with which content hash.
At a million articles a dict entry per article (id -> hash, file, stamp) took
2.4 GB and most of a no-change run. Here each live document is a row with its
file and stamp as small integer codes; article ids are sorted into one array
only when an article has to be looked up (a file is read), and a content hash
is read from its column only for an article being compared.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from whoosh.index import FileIndex

from search.storage.docsets import undeleted_mask
from search.whoosh_internals import bytes_column


def _codes(values: Iterable[bytes], table: dict[bytes, int]) -> np.ndarray:
    """Each value's number in ``table``, adding the values it does not hold yet."""
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32)


class IndexedArticles:
    """The live articles of an index, one row each (in document order).

    Holds a reader of the index open until ``close`` (use it as a context
    manager): ids and content hashes are read from it on demand.
    """

    def __init__(self, ix: FileIndex | None = None):
        self._reader = ix.reader() if ix is not None else None
        file_table: dict[bytes, int] = {}
        stamp_table: dict[bytes, int] = {}
        docnums, files, stamps = [], [], []
        # (segment reader, its undeleted documents' numbers within the segment)
        self._segments: list[tuple[object, np.ndarray]] = []
        for leaf, offset in self._leaves():
            undeleted = np.flatnonzero(undeleted_mask(leaf))
            self._segments.append((leaf, undeleted))
            docnums.append(undeleted + offset)
            files.append(_codes(bytes_column(leaf, "source_file"), file_table)[undeleted])
            stamps.append(_codes(bytes_column(leaf, "source_stamp"), stamp_table)[undeleted])
        self.docnums = np.concatenate(docnums) if docnums else np.zeros(0, dtype=np.int64)
        self.file_codes = np.concatenate(files) if files else np.zeros(0, dtype=np.int32)
        self._stamp_codes = np.concatenate(stamps) if stamps else np.zeros(0, dtype=np.int32)
        self.files = [name.decode("utf-8") for name in file_table]
        self._stamps = [stamp.decode("utf-8") for stamp in stamp_table]
        self._file_number = {name: number for number, name in enumerate(self.files)}
        self._stamp_number = {stamp: number for number, stamp in enumerate(self._stamps)}
        # Rows grouped by file: the rows of file f are _by_file[_file_starts[f]:...[f + 1]].
        self._by_file = np.argsort(self.file_codes, kind="stable")
        self._file_starts = np.searchsorted(
            self.file_codes[self._by_file], np.arange(len(self.files) + 1)
        )
        self._sorted_ids: np.ndarray | None = None
        self._id_rows: np.ndarray | None = None
        self._columns: dict[str, object] = {}

    def _leaves(self) -> list:
        if self._reader is None or self._reader.doc_count_all() == 0:
            return []  # an empty index's reader has no columns at all
        return list(self._reader.leaf_readers())

    def __enter__(self) -> IndexedArticles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __len__(self) -> int:
        return len(self.docnums)

    def rows_of_file(self, path: str) -> np.ndarray:
        """The rows of the articles imported from ``path`` (none: an empty array)."""
        number = self._file_number.get(path)
        if number is None:
            return self._by_file[:0]
        return self._by_file[self._file_starts[number] : self._file_starts[number + 1]]

    def all_stamped(self, rows: np.ndarray, stamp: str) -> bool:
        """Whether every one of ``rows`` was imported from a file with ``stamp``."""
        number = self._stamp_number.get(stamp)
        return number is not None and bool(np.all(self._stamp_codes[rows] == number))

    def source_file(self, row: int) -> str:
        return self.files[self.file_codes[row]]

    def source_stamp(self, row: int) -> str:
        return self._stamps[self._stamp_codes[row]]

    def article_id(self, row: int) -> str:
        return self._column("id")[int(self.docnums[row])]

    def content_hash(self, row: int) -> str:
        return self._column("content_hash")[int(self.docnums[row])]

    def _column(self, fieldname: str):
        if fieldname not in self._columns:
            self._columns[fieldname] = self._reader.column_reader(fieldname)
        return self._columns[fieldname]

    def row_of(self, article_id: str) -> int | None:
        """The row of the indexed article ``article_id``; None when it is not indexed."""
        if not len(self):
            return None
        if self._sorted_ids is None:
            self._sort_ids()
        key = article_id.encode("utf-8")
        if len(key) > self._sorted_ids.itemsize:
            # Longer than every indexed id; searching would first copy the whole
            # array to the key's wider type (8 ms a look-up at a million).
            return None
        position = int(np.searchsorted(self._sorted_ids, key))
        # Byte-string arrays drop trailing NULs: confirm with the id itself.
        while position < len(self._sorted_ids) and self._sorted_ids[position] == key:
            row = int(self._id_rows[position])
            if self.article_id(row) == article_id:
                return row
            position += 1
        return None

    def _sort_ids(self) -> None:
        ids = np.concatenate(
            [np.array(bytes_column(leaf, "id"))[kept] for leaf, kept in self._segments]
        )
        self._id_rows = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._id_rows]
