"""Posting lists read whole from Whoosh's W3 blocks, for ``search.matching.ArrayMatcher``.

Whoosh's matcher gives one posting per call (``id()``, ``weight()``,
``value()``, ``next()``); these read a W3 leaf matcher's blocks as the
tuples they are pickled as (id deltas, weights, values) and turn them into
arrays, or pick the values of a few documents, unpickling only the blocks
that hold them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from io import BytesIO
from pickle import load, loads

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3LeafMatcher, W3TermsReader
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound

from search.whoosh_internals import version
from search.whoosh_internals.terms_table import (
    FieldTermInfos,
    TermsLookup,
    _text,
    field_term_infos,
)

_BLOCK_SIZE = struct.Struct("!i")  # a block's length, as W3 writes it (pack_int)


def posting_arrays(
    reader, fieldname: str, btext: bytes, lookup: TermsLookup | None = None
) -> tuple | None:
    """A segment's whole posting list for a term: (docnums, weights); None when the
    segment lacks the term.

    Deleted documents included. Reads Whoosh's W3 blocks directly (a pickled
    tuple of id deltas, weights and values each), the whole list in one read
    (Whoosh's matcher seeks and reads twice per block, and unpickles each
    block's header from the file: most of the time for a common word's
    thousands of blocks), found with one look-up of the terms table (asking
    whether the segment has the term, then for its matcher, took two, and the
    matcher reads the first block's header); with the segment's ``lookup``
    (TermsLookup), both read with preads. (None, None) for any other kind of
    list, and when the fast paths are off: the caller then walks Whoosh's own
    matcher.
    """
    terms = getattr(reader, "_terms", None)
    if not version.FAST_PATHS or not isinstance(terms, W3TermsReader):
        return (None, None) if (fieldname, btext) in reader else None
    if lookup is not None:
        info, read = lookup.info(fieldname, btext), lookup.posting_bytes
    else:
        try:
            info = terms.term_info(fieldname, btext)
        except TermNotFound:
            info = None
        read = terms._postfile.get
    if info is None:
        return None
    if info.is_inlined():
        return None, None
    stream = BytesIO(read(info._offset, _length(info)))
    if stream.read(len(WHOOSH3_HEADER_MAGIC)) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no W3 posting list at {info._offset} for {fieldname}:{btext!r}")
    return _read_blocks(stream)


def bm25_b(weighting, fieldname: str) -> float:
    """BM25F's B for ``fieldname``, as its ``scorer`` picks it (a ``<field>_B`` keyword
    argument, else ``B``)."""
    return weighting._field_B.get(fieldname, weighting.B)


def remember_idf(searcher, fieldname: str, btext: bytes, idf: float) -> None:
    """Give ``searcher`` (a top-level one) a term's idf, as its own ``idf`` would remember it:
    the scorers made for the term then take it from there, where working it out asks every
    segment's terms table for the term's document frequency."""
    searcher._idf_cache.setdefault((fieldname, btext), idf)


def _leaf_matcher(reader, fieldname: str, btext: bytes):
    """The term's matcher over the segment's postings, deleted documents included."""
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):  # deletions: the caller drops them itself
        matcher = matcher.child
    return matcher


def _whole_list(matcher: W3LeafMatcher) -> BytesIO:
    """A W3 matcher's posting blocks, read from its file in one piece."""
    start = matcher._baseoffset
    return BytesIO(matcher._postfile.get(start, matcher._startoffset + _length(matcher) - start))


def _length(holder) -> int:
    """A posting list's length in bytes (Whoosh reads it back from a term info as a 1-tuple)."""
    length = holder._length
    return length[0] if isinstance(length, tuple) else length


def _blocks(stream: BytesIO) -> Iterator[tuple[int, int, Callable[[], tuple]]]:
    """Each W3 block from ``stream``'s position to the last: (posting count, its largest
    docnum, a function unpickling its (id deltas, weights, values)).

    Only the headers are read as the blocks go by; a block's data is
    decompressed and unpickled when its function is called.
    """
    while True:
        (size,) = _BLOCK_SIZE.unpack(stream.read(_BLOCK_SIZE.size))
        block_end = stream.tell() + abs(size)  # negative: the last block
        count, maxid, _, compression, _, _ = load(stream)
        start = stream.tell()
        stream.seek(block_end)
        data = stream.getbuffer()[start:block_end]
        yield count, maxid, partial(_unpickle, data, compression)
        if size < 0:
            break


def _unpickle(data: memoryview, compression: int) -> tuple:
    return loads(zlib.decompress(data) if compression else data)


def _read_blocks(stream: BytesIO) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, weights) of the W3 blocks from ``stream``'s position to the last block."""
    ids, weights = [], []
    for count, _, unpickle in _blocks(stream):
        deltas, block_weights, _ = unpickle()
        ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
        if block_weights is None:
            weights.append(np.ones(count))
        elif isinstance(block_weights, float):
            # Whoosh widens a block's common weight through a float32 array.
            weights.append(np.full(count, float(np.float32(block_weights))))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
    return np.concatenate(ids), np.concatenate(weights)


def field_documents(reader, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every term of ``fieldname`` in one segment, in order, with its documents: (the
    terms, how many documents each has, their docnums one term after another, int64).

    Deleted documents may be among them. Whoosh looks each term up in the
    terms table and builds a matcher that reads its first block (25 µs a
    term: 21 s CPU for a million articles' 25,000 authors in 23 segments);
    here the field's term infos are cut from the terms table at once
    (``field_term_infos``), a term in one or two documents (most authors in a
    segment) is answered by its info's first and last document, and the other
    posting lists are read in one piece and cut at each term's extent. Where
    the term infos cannot be read so, Whoosh's own matcher gives each term's
    documents (deleted ones left out).
    """
    infos = field_term_infos(reader, fieldname)
    if infos is None:
        terms, documents = [], []
        for term in reader.lexicon(fieldname):
            terms.append(_text(term))
            documents.append(np.fromiter(reader.postings(fieldname, term).all_ids(), np.int64))
    else:
        terms, documents = infos.terms, _documents(reader, infos)
    counts = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    docnums = np.concatenate(documents) if documents else np.zeros(0, dtype=np.int64)
    return terms, counts, docnums


def _documents(reader, infos: FieldTermInfos) -> list:
    """Each term's docnums (a tuple or an array), from its term info or its posting list."""
    documents: list = [None] * len(infos.terms)
    few = np.flatnonzero(infos.frequencies <= 2)
    for row, first, last, count in zip(
        *(a.tolist() for a in (few, infos.first[few], infos.last[few], infos.frequencies[few])),
        strict=True,
    ):
        documents[row] = (first, last)[:count]
    rows = np.flatnonzero(infos.frequencies > 2)
    if len(rows):
        starts, ends = infos.offsets[rows], infos.offsets[rows] + infos.lengths[rows]
        first = int(starts.min())
        data = memoryview(reader._terms._postfile.get(first, int(ends.max()) - first))
        magic = len(WHOOSH3_HEADER_MAGIC)
        for row, start, end in zip(
            rows.tolist(), (starts - first).tolist(), (ends - first).tolist(), strict=True
        ):
            if data[start : start + magic] != WHOOSH3_HEADER_MAGIC:
                raise ValueError(f"no W3 posting list for term {infos.terms[row]!r} in {reader}")
            documents[row] = _read_blocks(BytesIO(data[start + magic : end]))[0]
    return documents


def posting_values(reader, fieldname: str, btext: bytes, wanted: np.ndarray) -> dict[int, bytes]:
    """The posting values (encoded positions) of a term for the ``wanted`` docnums of a segment.

    The list is read in one piece, and only the W3 blocks whose id range
    holds a wanted document are unpickled; ``wanted`` is sorted and every one
    of them has the term.
    """
    matcher = _leaf_matcher(reader, fieldname, btext)
    found: dict[int, bytes] = {}
    if not version.FAST_PATHS or type(matcher) is not W3LeafMatcher:
        for docnum in wanted.tolist():
            matcher.skip_to(docnum)
            found[docnum] = matcher.value()
        return found
    first = 0
    for _, maxid, unpickle in _blocks(_whole_list(matcher)):
        last = int(np.searchsorted(wanted, maxid, side="right"))
        if last > first:
            deltas, _, values = unpickle()
            ids = np.cumsum(np.asarray(deltas, dtype=np.int64))
            where = np.searchsorted(ids, wanted[first:last]).tolist()
            for docnum, index in zip(wanted[first:last].tolist(), where, strict=True):
                found[docnum] = values[index]
            first = last
        if first == len(wanted):
            break
    return found
