"""Each segment's article vectors: one file beside the segment, memory-mapped when searched.

The indexer's second pass (``index.vectors``) writes, for every segment that
has none, ``<segment id>.vec``: one row per document of the segment (its
Whoosh docnum), quantised to int8 with a float32 scale per row (a unit
vector's largest component maps to 127). Named after the segment, the file
is one of the segment's files: the next commit's manifest lists it with its
size and checksum, a replica's copy carries it, and it is deleted with the
segment (``index.durable_commit.remove_unneeded_files``). Whoosh never
rewrites a segment, so neither is the file; a deleted document keeps its row,
left out by the generation's undeleted mask. A segment without the file (an index
written before vectors, or a commit the second pass has not reached yet)
ranks by words only.

Read with ``np.memmap``: every worker's view of a file is the same pages of
the page cache, not private memory (a million articles: 260 MB, once).

The file: MAGIC, then dimensions and rows (uint32 each), then each row's
scale (float32), then the rows (int8, row after row).
"""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path

import numpy as np

EXT = ".vec"
# How many rows are looked at closely per nearest article wanted (GenerationVectors.nearest).
CANDIDATES_PER_RESULT = 20
MAGIC = b"ASVEC1\x00\x00"
_HEADER = struct.Struct("<8sII")


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scales float32, codes int8) of float rows; a row of zeros gets scale 0."""
    largest = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0)
    scales = (largest / 127).astype(np.float32)
    safe = np.where(scales > 0, scales, 1)[:, None]
    codes = np.rint(vectors / safe).clip(-127, 127).astype(np.int8)
    return scales, codes


def write_vectors(path: Path, vectors: np.ndarray) -> None:
    """Write a segment's vectors file (see the module); flushed by the commit that lists it."""
    scales, codes = quantise(np.asarray(vectors, dtype=np.float32))
    temporary = path.with_name(f"{path.name}.tmp")
    with open(temporary, "wb") as out:
        out.write(_HEADER.pack(MAGIC, codes.shape[1], codes.shape[0]))
        out.write(scales.astype("<f4").tobytes())
        out.write(codes.tobytes())
    os.replace(temporary, path)


class SegmentVectors:
    """A segment's vectors as memory-mapped arrays: ``scales[n]`` and ``codes[n]`` of docnum n."""

    def __init__(self, scales: np.ndarray, codes: np.ndarray):
        self.scales, self.codes = scales, codes

    @functools.cached_property
    def signs(self) -> np.ndarray:
        """Each row's signs as bits (uint64 words): a quick first look for the nearest
        (the model was trained for its signs to keep its vectors' likeness)."""
        return _sign_words(self.codes > 0)

    def candidates(self, query: np.ndarray, allowed: np.ndarray, count: int) -> np.ndarray:
        """The ``allowed`` rows whose signs differ least from the query's (at most ``count``)."""
        rows = np.flatnonzero(allowed)
        if len(rows) <= count:
            return rows
        differing = np.bitwise_count(self.signs[rows] ^ _sign_words(query[None] > 0)).sum(1)
        return np.sort(rows[np.argpartition(differing, count - 1)[:count]])

    @classmethod
    def open(cls, path: Path) -> SegmentVectors | None:
        """The file's arrays; None if it is not a vectors file this code can read."""
        with open(path, "rb") as file:
            magic, dims, rows = _HEADER.unpack(file.read(_HEADER.size))
        if magic != MAGIC:
            return None
        mapped = np.memmap(path, dtype=np.uint8, mode="r")
        at = _HEADER.size
        scales = mapped[at : at + rows * 4].view("<f4")
        codes = mapped[at + rows * 4 : at + rows * 4 + rows * dims].view(np.int8)
        return cls(scales, codes.reshape(rows, dims))

    def similarities(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` (a unit float32 vector) with each of ``rows``."""
        return (self.codes[rows].astype(np.float32) @ query) * self.scales[rows]


def _sign_words(positive: np.ndarray) -> np.ndarray:
    return np.packbits(positive, axis=1).view(np.uint64)


def _open(path: Path | None, _leaf=None) -> SegmentVectors | None:
    return SegmentVectors.open(path) if path is not None and path.exists() else None


def vectors_path(folder: Path, leaf) -> Path | None:
    """Where the vectors file of ``leaf``'s segment in the index ``folder`` is (None for a
    reader of no segment)."""
    segment = leaf.segment()
    return None if segment is None else Path(folder) / segment.make_filename(EXT)


class GenerationVectors:
    """The vectors of every segment of a generation, by global docnum (None where missing)."""

    @classmethod
    def open(cls, reader, folder: Path, pieces) -> GenerationVectors:
        """The vectors of ``reader``'s segments in the index ``folder``, each segment's
        file opened once (kept in ``pieces``, a search.storage.segments.SegmentPieces)."""
        segments = []
        for leaf, offset in reader.leaf_readers():
            path = vectors_path(folder, leaf)
            present = path is not None and path.exists()
            # Keyed by presence: the second pass adds a file to a segment read before.
            found = pieces.piece(leaf, ("vectors", present), functools.partial(_open, path))
            segments.append((offset, leaf.doc_count_all(), found))
        return cls(segments)

    def __init__(self, segments: list[tuple[int, int, SegmentVectors | None]]):
        # (first docnum, document count, vectors) per segment, in docnum order
        self._segments = segments
        self.starts = np.array([first for first, _, _ in segments], dtype=np.int64)

    @property
    def any(self) -> bool:
        return any(vectors is not None for _, _, vectors in self._segments)

    def covered(self, size: int) -> np.ndarray:
        """A bool mask of the docnums that have a vector."""
        mask = np.zeros(size, dtype=bool)
        for first, count, vectors in self._segments:
            if vectors is not None:
                mask[first : first + count] = True
        return mask

    def similarities(self, query: np.ndarray, docnums: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with each of ``docnums``; NaN where a docnum has no vector."""
        found = np.full(len(docnums), np.nan, dtype=np.float32)
        for mine, rows, vectors in self._in_segments(docnums):
            found[mine] = vectors.similarities(query, rows)
        return found

    def rows(self, docnums: np.ndarray) -> np.ndarray:
        """The vectors of ``docnums`` as float32 rows; a row of NaN where a docnum has none."""
        dims = next((v.codes.shape[1] for _, _, v in self._segments if v is not None), 0)
        found = np.full((len(docnums), dims), np.nan, dtype=np.float32)
        for mine, rows, vectors in self._in_segments(docnums):
            found[mine] = vectors.codes[rows].astype(np.float32) * vectors.scales[rows, None]
        return found

    def _in_segments(self, docnums: np.ndarray):
        """Per segment with vectors that holds some of ``docnums``: their places in
        ``docnums``, their rows in the segment, and the segment's vectors."""
        where = np.searchsorted(self.starts, docnums, side="right") - 1
        for index, (first, _, vectors) in enumerate(self._segments):
            if vectors is None:
                continue
            mine = np.flatnonzero(where == index)
            if len(mine):
                yield mine, docnums[mine] - first, vectors

    def nearest(
        self, query: np.ndarray, allowed: np.ndarray, count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``allowed`` docnums likeliest nearest ``query`` (ascending) with their cosines:
        in each segment, the CANDIDATES_PER_RESULT * ``count`` whose signs differ least, of
        which the ``count`` most alike. Exact cosines of a few thousand rows rather than of
        every row: an int8 row must become floats to be multiplied (a million rows: seconds)."""
        docnums, alike = [], []
        for first, size, vectors in self._segments:
            if vectors is None:
                continue
            rows = vectors.candidates(
                query, allowed[first : first + size], CANDIDATES_PER_RESULT * count
            )
            docnums.append(rows + first)
            alike.append(vectors.similarities(query, rows))
        if not docnums:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        docnums, alike = np.concatenate(docnums), np.concatenate(alike)
        if len(docnums) > count:
            best = np.sort(np.argpartition(-alike, count - 1)[:count])
            docnums, alike = docnums[best], alike[best]
        return docnums, alike

    def vector(self, docnum: int) -> np.ndarray | None:
        """One article's vector (float32, not renormalised), None without one."""
        index = int(np.searchsorted(self.starts, docnum, side="right")) - 1
        first, _, vectors = self._segments[index]
        if vectors is None:
            return None
        row = docnum - first
        return vectors.codes[row].astype(np.float32) * vectors.scales[row]
