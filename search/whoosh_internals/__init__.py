"""Everything that reaches beneath Whoosh's public surface, behind one boundary.

What it replaces in Whoosh, and why:

- Writing (``writing``, ``codec``, ``terms_table``): Whoosh's SegmentWriter
  makes a tuple per posting, pools and sorts them all at commit, then writes
  a posting at a time, looking up the document's field length through a file
  seek for each; its terms table asks the file for its position before every
  key. Here a pool of ours (``index.segment_writer.GroupedPostings``) keeps
  each term's postings together, the codec's field writer writes a term's
  whole list in one call, field lengths are read once per segment and the
  terms table counts its own position.
- Reading (``postings``, ``codec``): Whoosh's matcher gives one posting per
  Python call, its length and numeric columns one value per call. Here a
  posting list, a length column or a numeric column is read whole, into
  arrays, for ``search.matching.ArrayMatcher`` and the engine.
- Common words (``frequent``): a W3 block unpickles every posting's
  positions with its document numbers. The codec also writes each
  segment's common terms' docnums, weights and (from a first import)
  positions as raw arrays to one more file of the segment, inside its
  compound file; a search reads them with a few slices. Whoosh's readers
  never open it; without it (an older index, Whoosh's writer) W3 is read.
- Terms (``terms_table``): a field's terms and their document frequencies
  read from a segment's terms table in one piece, for the typing vocabulary;
  Whoosh's readers make a generator step and a TermInfo per term. One term
  is looked up, and its W3 list read, with preads (``TermsLookup``,
  ``region``): Whoosh reads the shared compound file through an 8 KB buffer
  refilled at each of a look-up's jumps (60 µs a segment; 8 µs here).
- Index files (``toc``): the TOC's file names, and an index opened at a
  chosen generation instead of the newest.

What it gains (``bench/bench.py --skip-http`` on Reuters-21578, 21,578
articles, two runs with the fast paths on and two off, each a median of
three index runs; the machine shared, load average 8 to 12): a full index
took 12.7 and 12.2 s of CPU against 82.2 and 76.6 s (wall 34.2 and 31.9 s
against 276.5 and 209.6 s), peaked at 290 MB against 404 MB, and adding
1,000 articles took 7.4 s against 12.6 to 21.3 s. Search latency was within
noise either way (p50 11 to 18 ms against 14 to 20 ms): term postings are
read once per generation, then cached.

The guard (``version``): these paths were verified against whoosh-reloaded
VERIFIED_WHOOSH. At import the installed version is checked; on any other,
or with ARTICLE_SEARCH_WHOOSH_FALLBACK set, ``fast_paths()`` is False, one
warning is logged, and everything here uses Whoosh's own code instead: new
segments are written by Whoosh's SegmentWriter and MpWriter with its W3
codec (``index_codec()``; the indexer picks the writer), ``ArticleCodec`` in
existing indexes behaves as W3, and postings, field lengths, numeric and
bytes columns are read through Whoosh's matcher and readers (``posting_arrays``
then gives (None, None), and the array matcher walks Whoosh's matcher). Kept
on every version: ``CommitHook`` (the durable commit) and ``GenerationIndex``
(an index opened at a chosen generation). They decide which files make a
generation, never what a segment holds.

How it is checked: ``tests/test_performance_paths.py`` writes the same
corpus with these writers and with Whoosh's own, and compares what the two
indexes hold (terms, postings, stored fields, lengths, spelling words, term
and block statistics) and what the array matcher finds and scores against
Whoosh's own searcher. ``tests/test_whoosh_fallback.py`` writes and searches
the demo archive with the fast paths on and off and compares the answers,
and runs the indexing, search, facet, page and API tests again with them
off; both compare the terms and typing vocabulary read in bulk with what
Whoosh's readers give. ``tests/test_whoosh_boundary.py`` checks that no
module outside this package uses a private Whoosh name.

The public surface, what the rest of the code uses:

- ``fast_paths()``: whether the fast paths are in use; ``index_codec()``: the
  codec new segments are written with (``ArticleCodec`` or Whoosh's W3).
- ``PooledSegmentWriter``, ``PooledSubWriterTask``, ``PooledMpWriter``,
  ``PostingPool``, ``CommitHook``: Whoosh's writers with hooks for the
  indexer (what a document adds, when a segment is full, how a commit is
  published).
- ``FrequentPostings``: a segment's common terms' postings and positions as
  arrays (``PositionValues``, ``MIN_DOCUMENTS``: what the pool hands the
  codec for them; ``position_keys``, ``ROW_SHIFT``: positions of several
  documents as one sorted array, as phrase checks take them).
- ``remember_idf``: a term's idf handed to a searcher, worked out from the
  document frequency its postings give (no look-up in every segment).
- ``posting_arrays``, ``posting_values``, ``length_bytes``,
  ``numeric_column``, ``bytes_column``: a segment's postings, field lengths,
  numeric and bytes columns as arrays (or a list); ``field_documents``: the
  documents of every term of a keyword field in a segment, its lists read
  in one piece (facet values); ``field_terms``, ``field_doc_frequencies``:
  a segment's terms of a field (with their document frequencies).
- ``GenerationIndex``, ``toc_filename``, ``toc_pattern``,
  ``segment_file_pattern``: an index's generations and file names.
"""

from search.whoosh_internals import version
from search.whoosh_internals.codec import (
    ArticleCodec,
    bytes_column,
    index_codec,
    length_bytes,
    numeric_column,
)
from search.whoosh_internals.frequent import (
    MIN_DOCUMENTS,
    ROW_SHIFT,
    FrequentPostings,
    PositionValues,
    position_keys,
)
from search.whoosh_internals.postings import (
    bm25_b,
    field_documents,
    posting_arrays,
    posting_values,
    remember_idf,
)
from search.whoosh_internals.terms_table import (
    TermsLookup,
    field_doc_frequencies,
    field_terms,
)
from search.whoosh_internals.toc import (
    GenerationIndex,
    segment_file_pattern,
    toc_filename,
    toc_pattern,
)
from search.whoosh_internals.writing import (
    CommitHook,
    PooledMpWriter,
    PooledSegmentWriter,
    PooledSubWriterTask,
    PostingPool,
)


def fast_paths() -> bool:
    """Whether this package's fast paths are in use (the verified Whoosh, not switched off)."""
    return version.FAST_PATHS


__all__ = [
    "ArticleCodec",
    "CommitHook",
    "FrequentPostings",
    "MIN_DOCUMENTS",
    "PositionValues",
    "ROW_SHIFT",
    "GenerationIndex",
    "PooledMpWriter",
    "PooledSegmentWriter",
    "PooledSubWriterTask",
    "PostingPool",
    "TermsLookup",
    "bm25_b",
    "bytes_column",
    "fast_paths",
    "field_documents",
    "field_doc_frequencies",
    "field_terms",
    "index_codec",
    "length_bytes",
    "numeric_column",
    "position_keys",
    "posting_arrays",
    "posting_values",
    "remember_idf",
    "segment_file_pattern",
    "toc_filename",
    "toc_pattern",
]
