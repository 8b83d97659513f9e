"""A Whoosh segment writer that keeps each term's postings together as they arrive.

Whoosh's SegmentWriter makes a tuple per posting, adds it to a pool that
estimates its size one posting at a time, sorts all of them at commit and
groups them again by term. Here the text fields' words go into TextPostings
(one number per word, cut into postings by numpy at the end), and other
fields' postings into per-term lists: documents arrive in docnum order, so
a term's postings come sorted already and only the terms need sorting.
Each term is written in one call (``search.whoosh_internals``' writers and codec).
The segment holds the postings Whoosh's writer would write. Whoosh's
``_boost`` document keys and term vectors are not supported (the article
schema uses neither).

The pool is not spilled to disk: it holds what the segment will hold. A
first import bounds it with a memory budget instead: each indexing process
writes its segment out when its share of the budget is used and starts
another (ArticleMpWriter, MemoryBudget).
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import defaultdict
from collections.abc import Iterator

from whoosh import formats
from whoosh.analysis import IDTokenizer
from whoosh.fields import Schema, SpellField
from whoosh.multiproc import MpWriter
from whoosh.writing import SegmentWriter

from index.durable_commit import DurableCommit
from index.memory import release_freed_memory, resident_bytes
from index.text_postings import TextPostings, streams
from index.vectors import embed_new_segments
from search.whoosh_internals import (
    PooledMpWriter,
    PooledSegmentWriter,
    PooledSubWriterTask,
    fast_paths,
    index_codec,
)

# A segment holds at least this many documents before the budget may cut it.
MIN_SEGMENT_DOCUMENTS = 1_000
# A process's memory while writing a segment, over what it held at the segment's
# start, as a multiple of what collecting the segment added: writing sorts and
# encodes every posting again. Kept above the ratio bench/bench.py's indexing
# peak shows on the realistic corpus, so a segment is cut before the budget is.
WRITE_PEAK = 5.0


class GroupedPostings:
    """The pool: text fields as TextPostings, other fields' postings as
    {field: {term: ([docnums], [weights], [values])}}, spelling words as sets."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.texts: dict[str, TextPostings] = {}
        self.terms: dict[str, dict[bytes, tuple[list, list, list]]] = defaultdict(dict)
        self.spelling: dict[str, set[str]] = defaultdict(set)

    @property
    def fieldnames(self) -> set[str]:
        spelled = {self._spelling_field(name) for name in self.texts} - {None}
        return set(self.texts) | set(self.terms) | set(self.spelling) | spelled

    def _spelling_field(self, fieldname: str) -> str | None:
        """The separate spelling field that takes ``fieldname``'s words, if any."""
        field = self.schema[fieldname]
        return field.spelling_fieldname(fieldname) if field.separate_spelling() else None

    def add_text(self, fieldname: str, docnum: int, text: str) -> int:
        """A document's text in a field that ``streams``; its length in the field."""
        postings = self.texts.get(fieldname)
        if postings is None:
            postings = self.texts[fieldname] = TextPostings(self.schema[fieldname])
        return postings.add(docnum, text)

    def term_postings(self, fieldname: str) -> Iterator[tuple[bytes, list, list, list]]:
        """(term, docnums, weights, values) of each term of a field, in term order."""
        text = self.texts.get(fieldname)
        others = self.terms.get(fieldname)
        if not others:  # a first import: only what documents added
            yield from text.postings() if text else ()
            return
        combined = {btext: postings for btext, *postings in text.postings()} if text else {}
        for btext, postings in others.items():  # a merge's postings, and their documents'
            if btext not in combined:
                combined[btext] = postings
                continue
            added = combined[btext]
            if added[0][-1] < postings[0][0]:  # merged after the documents added (commit)
                combined[btext] = [a + b for a, b in zip(added, postings, strict=True)]
            else:  # add_reader called between documents: put them in docnum order
                joined = sorted([*zip(*added, strict=True), *zip(*postings, strict=True)])
                combined[btext] = [list(column) for column in zip(*joined, strict=True)]
        for btext, (docnums, weights, values) in sorted(combined.items()):
            yield btext, docnums, weights, values

    def spelling_words(self, fieldname: str) -> set[str]:
        """The words of a spelling field, from merges and from the fields it spells."""
        words = set(self.spelling.get(fieldname, ()))
        for name, text in self.texts.items():
            if self._spelling_field(name) == fieldname:
                words.update(text.spelling_words())
        return words

    def add(self, item: tuple) -> None:
        """One posting ``(fieldname, btext, docnum, weight, value)``, as Whoosh's pool takes it.

        Whoosh's merges (``add_reader``) come this way, term after term, in docnum order.
        """
        fieldname, btext, docnum, weight, value = item
        if isinstance(self.schema[fieldname], SpellField):
            self.spelling[fieldname].add(btext.decode("utf-8"))
        elif docnum >= 0:  # Whoosh's spelling-graph marker is -1
            self.add_field(fieldname, docnum, [(btext, 0, weight, value)])

    def add_field(self, fieldname: str, docnum: int, items) -> int:
        """A document's postings in one field, as ``field.index`` gives them:
        (btext, frequency, weight, value); returns the frequencies' sum."""
        terms = self.terms[fieldname]
        length = 0
        for btext, frequency, weight, value in items:
            length += frequency
            postings = terms.get(btext)
            if postings is None:
                terms[btext] = postings = ([], [], [])
            postings[0].append(docnum)
            postings[1].append(weight)
            postings[2].append(value)
        return length

    def cleanup(self) -> None:
        """Nothing was written to disk (Whoosh's pool interface)."""
        self.texts.clear()
        self.terms.clear()
        self.spelling.clear()


def indexes_whole(field) -> bool:
    """Whether ``field`` indexes a string value as one term, as an ID field does: its
    analyzer the bare IDTokenizer (no lowercasing), its format Existence. Such a value is
    posted here without the analyzer's token and generator steps."""
    return (
        field.indexed
        and type(getattr(field, "analyzer", None)) is IDTokenizer
        and type(field.format) is formats.Existence
        and not field.separate_spelling()
        and not field.scorable
    )


class ArticleSegmentWriter(DurableCommit, PooledSegmentWriter):
    """Whoosh's SegmentWriter with GroupedPostings for its pool and a durable commit
    (same arguments)."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self._streamed = {name for name, field in self.schema.items() if streams(field)}
        self._whole = {name for name, field in self.schema.items() if indexes_whole(field)}

    def make_pool(self, schema: Schema) -> GroupedPostings:
        return GroupedPostings(schema)

    def add_fields(self, docnum: int, fields: dict, fieldnames: list[str]) -> None:
        schema, pool, perdoc = self.schema, self.pool, self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if fieldname in self._streamed and isinstance(value, str):
                    # Its spelling words are the stream's vocabulary, taken at the end.
                    length = pool.add_text(fieldname, docnum, value)
                elif fieldname in self._whole and isinstance(value, str):
                    boost = field.format.field_boost
                    pool.add_field(fieldname, docnum, ((value.encode("utf-8"), 1, boost, b""),))
                elif field.indexed:
                    frequencies = pool.add_field(fieldname, docnum, field.index(value))
                    length = frequencies if field.scorable else 0
                    if field.separate_spelling():
                        spelling = pool.spelling[field.spelling_fieldname(fieldname)]
                        spelling.update(field.spellable_words(value))
                stored_value = fields.get(f"_stored_{fieldname}", value)
                perdoc.add_field(fieldname, field, stored_value if field.stored else None, length)
                column = field.column_type
                if column and stored_value is not None:
                    perdoc.add_column_value(fieldname, column, field.to_column_value(stored_value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()


class MemoryBudget:
    """A memory budget shared by the main indexing process and its segment writers.

    The main process (reading articles, remembering ids) notes what it holds
    as it hands out work; each of the ``procs`` indexing processes may then
    hold an equal share of the rest. Writing a segment takes far more memory
    for a moment than collecting it (numpy sorts and cuts every posting): a
    process writes its first segment out while what it held at the segment's
    start plus WRITE_PEAK times what the segment has added still fits its
    share, and every later one at the first one's number of articles: memory
    freed by a written segment stays with the allocator, so a later segment's
    growth no longer shows in the process's resident memory (a million
    articles, cut by memory each time, peaked at 1.7 GB for a 1 GB budget).
    """

    def __init__(self, total_bytes: int, procs: int):
        self.total_bytes = total_bytes
        self.procs = procs
        self._main = multiprocessing.Value("q", resident_bytes(), lock=False)

    def note_main_process(self) -> None:
        self._main.value = resident_bytes()

    def segment_full(self, documents: int, held_at_start: int) -> bool:
        """Whether the calling indexing process should write its first segment out now."""
        if documents < MIN_SEGMENT_DOCUMENTS:
            return False
        share = (self.total_bytes - self._main.value) / self.procs
        added = resident_bytes() - held_at_start
        return held_at_start + WRITE_PEAK * added > share


class ArticleSubWriterTask(PooledSubWriterTask):
    """Whoosh's indexing subprocess, its segments written by ArticleSegmentWriter.

    With a budget it writes a segment whenever its share of the budget is
    used, then starts another: its result is the list of its segments.
    """

    def __init__(self, *args, budget: MemoryBudget | None = None):
        super().__init__(*args)
        self.budget = budget
        self.held_at_start = 0  # the process's memory when its segment started

    def new_writer(self, ix) -> ArticleSegmentWriter:
        writer = ArticleSegmentWriter(ix, _lk=False, **self.kwargs)
        self.held_at_start = resident_bytes()
        return writer

    def segment_full(self, documents: int, segments: list) -> bool:
        if self.budget is None:
            return False
        if segments:
            return documents >= segments[0].doc_count_all()
        return self.budget.segment_full(documents, self.held_at_start)

    def run(self) -> None:
        # A segment being collected is millions of lists, tuples and strings that live
        # until it is written: Python's cycle collector would walk them again and again
        # (10-15 % of the process's CPU). Nothing here needs it sooner than the end of a
        # segment, where release_freed_memory collects.
        gc.disable()
        super().run()

    def segment_written(self) -> None:
        release_freed_memory()


class ArticleMpWriter(DurableCommit, PooledMpWriter):
    """Whoosh's multi-process writer, ArticleSegmentWriter in each process, one
    segment per process or, with a ``budget`` (bytes for all the processes),
    as many as keep them within it; with a durable commit."""

    def __init__(self, ix, procs: int, budget: int | None = None, **kwargs):
        super().__init__(ix, procs, **kwargs)
        self.budget = MemoryBudget(budget, procs) if budget else None

    def new_task(self, *args) -> ArticleSubWriterTask:
        return ArticleSubWriterTask(*args, budget=self.budget)

    def before_enqueue(self) -> None:
        if self.budget is not None:
            self.budget.note_main_process()


class DurableSegmentWriter(DurableCommit, SegmentWriter):
    """Whoosh's own SegmentWriter with a durable commit (the fast paths off)."""


class DurableMpWriter(DurableCommit, MpWriter):
    """Whoosh's own multi-process writer with a durable commit (the fast paths off)."""


class EmbeddingCommit(DurableCommit):
    """Mixin: a durable commit whose new segments get their vectors first (index.vectors)."""

    def publish_toc(self, segments: list) -> None:
        embed_new_segments(self.storage, self.schema, segments)
        super().publish_toc(segments)


class ArticleUpdateWriter(EmbeddingCommit, ArticleSegmentWriter):
    """An incremental run's writer: its segment embedded within its commit."""


class DurableUpdateWriter(EmbeddingCommit, DurableSegmentWriter):
    """The same with Whoosh's own SegmentWriter (the fast paths off)."""


def update_writer(ix) -> SegmentWriter:
    """The writer for an incremental run: ArticleSegmentWriter, or Whoosh's own
    SegmentWriter when the fast paths are off; either embeds its segments in its commit."""
    if fast_paths():
        return ArticleUpdateWriter(ix, codec=index_codec())
    return DurableUpdateWriter(ix, codec=index_codec())


def build_writer(ix, procs: int, budget_bytes: int) -> MpWriter:
    """The writer for a new build, ``procs`` processes within ``budget_bytes``:
    ArticleMpWriter, or Whoosh's own MpWriter when the fast paths are off (its
    processes then keep to Whoosh's pool limit, spilling postings to disk past it,
    instead of the budget)."""
    if fast_paths():
        return ArticleMpWriter(ix, procs, budget=budget_bytes, codec=index_codec())
    return DurableMpWriter(ix, procs=procs, multisegment=True, codec=index_codec())
