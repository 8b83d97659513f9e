"""Whoosh's writers with their pool, segment cutting and commit handed to our code.

``PooledSegmentWriter`` is Whoosh's SegmentWriter whose postings go to a pool
of ours (``PostingPool``) that keeps each term's postings together, written a
term at a time by ``ArticleCodec``'s field writer. ``PooledMpWriter`` is
Whoosh's multi-process writer whose processes (``PooledSubWriterTask``) may
cut their work into several segments. ``CommitHook`` hands the last step of
a commit (writing the TOC) to ``publish_toc``. The indexer (``index/``)
fills in the hooks: what a document adds to the pool, when a segment is
full, how a generation is published.
"""

from __future__ import annotations

import queue
from collections.abc import Iterable, Iterator
from typing import Protocol

from whoosh.fields import SpellField
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from search.whoosh_internals.codec import length_bytes_of


class PostingPool(Protocol):
    """What PooledSegmentWriter needs of its pool: Whoosh's pool interface (``add``,
    ``cleanup``) and the postings to write, grouped by field and term."""

    @property
    def fieldnames(self) -> Iterable[str]: ...

    def term_postings(self, fieldname: str) -> Iterator[tuple[bytes, list, list, list]]:
        """(term, docnums, weights, values) of each term of a field, in term order."""

    def spelling_words(self, fieldname: str) -> set[str]: ...

    def add(self, item: tuple) -> None:
        """One posting ``(fieldname, btext, docnum, weight, value)`` (Whoosh's merges)."""

    def cleanup(self) -> None: ...


class CommitHook:
    """Mixin for Whoosh's writers: the commit's last step, writing the TOC of the new
    generation, done by ``publish_toc`` instead of Whoosh's ``_commit_toc``."""

    def publish_toc(self, segments: list) -> None:
        raise NotImplementedError

    def _commit_toc(self, segments) -> None:
        self.publish_toc(segments)


class PooledSegmentWriter(SegmentWriter):
    """SegmentWriter with ``make_pool``'s pool, each term written in one call.

    Subclasses give ``make_pool`` and ``add_fields`` (what a document adds to
    the pool and to ``self.perdocwriter``). Term vectors are not supported.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        if any(field.vector for _, field in self.schema.items()):
            raise ValueError(f"{type(self).__name__} does not write term vectors")
        self.pool = self.make_pool(self.schema)

    def make_pool(self, schema) -> PostingPool:
        raise NotImplementedError

    def add_fields(self, docnum: int, fields: dict, fieldnames: list[str]) -> None:
        """Add document ``docnum``'s ``fieldnames`` (sorted, checked) from ``fields``."""
        raise NotImplementedError

    def add_document(self, **fields) -> None:
        self._check_state()
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(self.schema, fieldnames)
        self.add_fields(self.docnum, fields, fieldnames)
        self._added = True
        self.docnum += 1

    def finish_segment(self):
        """Write the segment out and return it, without committing it."""
        return self._finalize_segment()

    def close_segment(self) -> None:
        """Close the segment's files without writing it or deleting the shared temporary
        folder (as ``cancel()`` would)."""
        self._close_segment()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        writer = self.fieldwriter
        try:
            for fieldname in sorted(self.pool.fieldnames):
                field = self.schema[fieldname]
                if isinstance(field, SpellField):
                    words = sorted(w.encode("utf-8") for w in self.pool.spelling_words(fieldname))
                    if words:
                        # Whoosh posts spelling words at docnum 0 with a frequency of 1;
                        # only the word list is searched, but a merge reads postings too.
                        writer.start_field(fieldname, field)
                        writer.write_terms_alike(words, 0, pack_uint(1))  # Frequency's value
                        writer.finish_field()
                    continue
                started = False
                field_lengths = length_bytes_of(lengths, fieldname)
                for btext, docnums, weights, values in self.pool.term_postings(fieldname):
                    if not started:
                        writer.start_field(fieldname, field)
                        started = True
                    writer.write_term(btext, docnums, weights, values, field_lengths)
                if started:
                    writer.finish_field()
            writer.close()
        finally:
            lengths.close()


class PooledSubWriterTask(SubWriterTask):
    """Whoosh's indexing subprocess, its writer from ``new_writer``; it writes a
    segment out whenever ``segment_full`` says so, and gives the list of its
    segments as its result."""

    def new_writer(self, ix) -> SegmentWriter:
        raise NotImplementedError

    def segment_full(self, documents: int, segments: list) -> bool:
        """Whether the writer, holding ``documents``, should write its segment out now;
        ``segments``: the ones this process wrote before."""
        return False

    def segment_written(self) -> None:
        """Called after a segment is written out, before the next writer is made."""

    def run(self) -> None:
        # As SubWriterTask.run with multisegment, but for the writer's class.
        ix = self.storage.open_index(self.indexname)
        self.writer = self.new_writer(ix)
        segments = []
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
            if self.segment_full(self.writer.docnum, segments):
                segments.append(self.writer.finish_segment())
                self.segment_written()
                self.writer = self.new_writer(ix)
        if not self.running:
            self.writer.cancel()
            return
        if self.writer.docnum or not segments:
            segments.append(self.writer.finish_segment())
        else:
            # Not cancel(): that deletes the temporary folder every writer shares.
            self.writer.close_segment()
        self.resultqueue.put((None, None, segments), timeout=5)


class PooledMpWriter(MpWriter):
    """Whoosh's multi-process writer, each process a ``new_task`` (a PooledSubWriterTask)
    giving a list of segments, all of them added to the index as they are."""

    def __init__(self, ix, procs: int, **kwargs):
        super().__init__(ix, procs=procs, multisegment=True, **kwargs)

    def new_task(self, *args) -> PooledSubWriterTask:
        """The task for one more process, made from SubWriterTask's ``args``."""
        raise NotImplementedError

    def before_enqueue(self) -> None:
        """Called before a batch of documents is handed to the processes."""

    def _new_task(self):
        task = self.new_task(
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        self.tasks.append(task)
        task.start()
        return task

    def _enqueue(self):
        self.before_enqueue()
        super()._enqueue()

    def _commit(self, mergetype, optimize, merge):
        # MpWriter._commit's multisegment path, each process giving a list of segments.
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        for task in self.tasks:
            task.join()
        for _ in self.tasks:
            try:
                _, _, segments = self.resultqueue.get(timeout=1)
            except queue.Empty:  # a process died: the indexer counts what was written
                continue
            finalsegments += segments
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()
