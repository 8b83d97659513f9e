"""A vector for every article of the segments that have none.

An incremental run embeds its new segment (and a merge's) inside its commit
(``embed_new_segments``, called by the update writer before it publishes):
one commit, words and vectors together, a few seconds for a day's articles.
A first import or a rebuild (a million articles: minutes) commits the words
first; ``add_vectors`` is its second pass, run right after under the same
lock: articles are searchable by words first, then by meaning once it commits. For each
segment of the newest generation without a vectors file (a new segment, a
merge's, or every segment of an index written before vectors), each
document's stored title and body are embedded (``search.embedding``; a
deleted document gets a row of zeros) and written to the segment's file
(``search.vectors``); then a generation with the same segments is committed,
whose manifest lists the new files. So an incremental run embeds only what it
added (and what a merge rewrote), and a run that added nothing commits nothing.
Segments are embedded in parallel, one process each, up to ``procs``.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from index.durable_commit import commit_generation
from search.embedding import article_text, load_embedder
from search.storage.index_folder import INDEX_NAME, IndexFolder, IndexNotFoundError
from search.vectors import EXT, vectors_path, write_vectors
from search.whoosh_internals import GenerationIndex


def _segments_without_vectors(ix, build: Path) -> list[str]:
    with ix.reader() as reader:
        return [
            leaf.segment().segment_id()
            for leaf, _ in reader.leaf_readers()
            if leaf.segment() is not None and not vectors_path(build, leaf).exists()
        ]


def _stored_text(stored: dict) -> str:
    return article_text(stored.get("title", ""), stored.get("body", ""))


def _write_segment_vectors(leaf, path: Path) -> int:
    """Embed every document of one segment's reader (a deleted one: zeros) into ``path``."""
    texts = [
        "" if leaf.is_deleted(docnum) else _stored_text(leaf.stored_fields(docnum))
        for docnum in range(leaf.doc_count_all())
    ]
    write_vectors(path, load_embedder().embed(texts))
    return len(texts)


def _embed_segment(build: Path, generation: int, segment_id: str) -> int:
    """Write the vectors file of one segment of the generation; returns its row count."""
    ix = GenerationIndex(FileStorage(str(build), supports_mmap=False), INDEX_NAME, generation)
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if leaf.segment() is not None and leaf.segment().segment_id() == segment_id:
                return _write_segment_vectors(leaf, vectors_path(build, leaf))
    return 0


def embed_new_segments(storage, schema, segments) -> int:
    """Before a commit publishes ``segments``: the vectors of those that have none (an
    incremental run's new segment, a merge's). Returns how many documents were embedded."""
    if load_embedder() is None:
        return 0
    embedded = 0
    for segment in segments:
        path = Path(storage.folder) / segment.make_filename(EXT)
        if not path.exists():
            with SegmentReader(storage, schema, segment) as leaf:
                embedded += _write_segment_vectors(leaf, path)
    return embedded


def add_vectors(index_dir: Path, procs: int = 1) -> int:
    """Embed the segments of the live index that have no vectors, and commit; see the module.

    Returns how many documents were embedded (0 without the model, or with nothing to do).
    """
    if load_embedder() is None:
        return 0
    try:
        served = IndexFolder(index_dir).served()
    except IndexNotFoundError:
        return 0
    ix = served.open(readonly=False)
    build, number = served.generation.build, served.generation.number
    missing = _segments_without_vectors(ix, build)
    if not missing:
        return 0
    jobs = [(build, number, segment_id) for segment_id in missing]
    if procs > 1 and len(jobs) > 1:
        # Spawned, not forked: a forked process's resident memory counts the parent's
        # (the first import's, a few hundred MB at a million) again in each process.
        with multiprocessing.get_context("spawn").Pool(min(procs, len(jobs))) as pool:
            embedded = sum(pool.starmap(_embed_segment, jobs))
    else:
        embedded = sum(_embed_segment(*job) for job in jobs)
    toc = TOC.read(ix.storage, INDEX_NAME, gen=number)
    commit_generation(ix.storage, INDEX_NAME, toc.schema, toc.segments, number + 1)
    return embedded
