"""A Whoosh segment writer that keeps each term's postings together as they arrive.

Whoosh's SegmentWriter makes a tuple per posting, adds it to a pool that
estimates its size one posting at a time, sorts all of them at commit and
groups them again by term. Here the text fields' words go into TextPostings
(one number per word, cut into postings by numpy at the end), and other
fields' postings into per-term lists: documents arrive in docnum order, so
a term's postings come sorted already and only the terms need sorting.
Each term is written in one call (``search.codec.TermAtATimeFieldWriter.write_term``).
The segment holds the postings Whoosh's writer would write. Whoosh's
``_boost`` document keys and term vectors are not supported (the article
schema uses neither).

The pool is not spilled to disk: it holds what the segment will hold.
bench/bench.py measured the indexer's peak memory (all its processes) at
270 MB for Reuters' 21,578 stories and 919 MB for 200,000 articles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from whoosh.fields import Schema, SpellField
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from index.text_postings import TextPostings, streams
from search.codec import length_bytes_of


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


class ArticleSegmentWriter(SegmentWriter):
    """SegmentWriter with GroupedPostings for its pool; takes the same arguments."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        if any(field.vector for _, field in self.schema.items()):
            raise ValueError("ArticleSegmentWriter does not write term vectors")
        self.pool = GroupedPostings(self.schema)
        self._streamed = {name for name, field in self.schema.items() if streams(field)}

    def add_document(self, **fields) -> None:
        self._check_state()
        schema, docnum, pool = self.schema, self.docnum, self.pool
        perdoc = self.perdocwriter
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
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
        self._added = True
        self.docnum += 1

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


class ArticleSubWriterTask(SubWriterTask):
    """Whoosh's indexing subprocess, its segment written by ArticleSegmentWriter."""

    def run(self) -> None:
        # As SubWriterTask.run with multisegment, but for the writer's class.
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = ArticleSegmentWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            writer.cancel()
            return
        fieldnames = writer.pool.fieldnames
        self.resultqueue.put((None, fieldnames, writer._finalize_segment()), timeout=5)


class ArticleMpWriter(MpWriter):
    """Whoosh's multi-process writer, one segment per process, ArticleSegmentWriter in each."""

    def __init__(self, ix, procs: int, **kwargs):
        super().__init__(ix, procs=procs, multisegment=True, **kwargs)

    def _new_task(self):
        task = ArticleSubWriterTask(
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
