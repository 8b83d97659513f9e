"""A term's matches over every segment of a searcher, scored as Whoosh scores them.

Posting lists are read whole (search.whoosh_internals: a common term's from its
segment's frequent-terms file, another's from its W3 blocks, kept for every
generation with the segment) and scored with BM25F over arrays; a list that
cannot be read whole, and any other weighting, goes through Whoosh's matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.scoring import BM25F, WeightScorer
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from search.matching.results import MatchCache, Matches
from search.storage.segments import SegmentPieces, compact_postings, segment_key
from search.whoosh_internals import (
    FrequentPostings,
    TermsLookup,
    bm25_b,
    length_bytes,
    posting_arrays,
    remember_idf,
)


@dataclass(frozen=True)
class BM25Statistics:
    """What Whoosh's BM25FScorer scores with (``_bm25`` reads these): the term's idf, the
    field's average length, B and K1.

    Made here rather than by Whoosh: its scorer also looks the term up in the
    segment's terms table, through Whoosh's buffered reads, for the best score
    a block could reach (0.7 ms a term), which scoring whole lists never asks.
    """

    idf: float
    avgfl: float
    B: float  # noqa: N815 (BM25's own names, as Whoosh's scorer has them)
    K1: float  # noqa: N815


# Scorers whose array scores here read only the index's global statistics (idf, average
# field length): made once per term, not once per segment (each costs a sum over every
# segment's field lengths: 1.2 ms at a million articles in 20 segments). Walking a
# segment's matcher takes that segment's own scorer: its field lengths are the segment's.
_GLOBAL_SCORERS = (BM25Statistics, WeightScorer)
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def walked(matcher) -> Matches:
    """Whoosh's ``matcher`` walked document by document: its docnums and scores."""
    docnums, scores = [], []
    while matcher.is_active():
        docnums.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
    return Matches(np.asarray(docnums, dtype=np.int64), np.asarray(scores, dtype=np.float64))


class TermPostings:
    """The matches of one term in one field, per searcher, cached in ``cache``.

    ``undeleted``: the searcher's ``undeleted_mask`` (True per docnum not deleted).
    """

    def __init__(
        self,
        searcher: Searcher,
        undeleted: np.ndarray,
        segments: SegmentPieces,
        cache: MatchCache,
    ):
        self.leaves = list(searcher.leaf_searchers())
        self._searcher = searcher
        self._documents = searcher.doc_count_all()
        self.schema = searcher.schema
        self._weighting = searcher.weighting
        # Each leaf's part of the mask (a view), for reading segment by segment.
        self._undeleted = [
            undeleted[offset : offset + leaf.reader().doc_count_all()]
            for leaf, offset in self.leaves
        ]
        self._with_deletions = {
            number for number, mask in enumerate(self._undeleted) if not mask.all()
        }
        # The whole mask, for reading the segments joined, when any document is deleted.
        self._undeleted_all = undeleted if self._with_deletions else None
        self._offsets = np.array([offset for _, offset in self.leaves], dtype=np.intp)
        self._segments = segments
        self._cache = cache
        # Per leaf, what its term look-ups use (its reader, segment key, frequent-terms
        # file and terms table), and its field lengths: taken once, not at every look-up.
        self._readers: list[tuple | None] = [None] * len(self.leaves)
        self._average_lengths: dict[str, float] = {}  # per field: a generation's statistic
        self._lengths: dict[tuple[int, str], np.ndarray] = {}  # per leaf and field
        self._index_lengths: dict[str, np.ndarray] = {}  # per field, every leaf's joined

    def matches(self, fieldname: str, text) -> Matches:
        """Every undeleted document holding ``text`` in ``fieldname``, with its score (no boost)."""
        key = (fieldname, text)
        found = self._cache.get(key)
        if found is None:
            found = self._read(fieldname, text)
            self._cache.remember(key, found)
        return found

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """The documents holding ``text`` in ``fieldname``, deleted ones too: each segment's
        term info read with its TermsLookup (Whoosh's reader reads 18 terms tables through
        its buffered file objects, 2 ms a word at a million articles)."""
        lookups = [lookup for *_, lookup in map(self._leaf_readers, range(len(self.leaves)))]
        if fieldname not in self.schema or None in lookups:
            return self._searcher.reader().doc_frequency(fieldname, text)
        btext = self._term_bytes(fieldname, text)
        if btext is None:
            return 0
        infos = (lookup.info(fieldname, btext) for lookup in lookups)
        return sum(info.doc_frequency() for info in infos if info is not None)

    def frequent(self, reader) -> FrequentPostings | None:
        """The segment's frequent-terms file (its index read once per segment), if it has one."""
        return self._segments.piece(reader, "frequent", FrequentPostings.open)

    def _term_bytes(self, fieldname: str, text) -> bytes | None:
        """``text`` as ``fieldname`` indexes it; None when the field has no such term (no
        such field, or text it cannot hold)."""
        if fieldname not in self.schema:
            return None
        try:
            return self.schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def _read(self, fieldname: str, text) -> Matches:
        btext = self._term_bytes(fieldname, text)
        read = self._segments_holding(fieldname, btext) if btext is not None else []
        if not read:
            return Matches.empty()
        if all(postings[0] is not None for *_, postings in read):
            self._known_frequency(fieldname, btext, sum(len(p[0]) for *_, p in read))
            scorer = self._scorer(read[0][1], fieldname, btext)
            if type(scorer) in _GLOBAL_SCORERS:
                return self._joined(fieldname, scorer, read)
        return self._segment_by_segment(fieldname, btext, read)

    def _segments_holding(self, fieldname: str, btext: bytes) -> list[tuple]:
        """(leaf number, leaf searcher, its first docnum, its ``_segment_postings``) of each
        segment holding the term, in the leaves' order."""
        read = []
        for number, (leaf, offset) in enumerate(self.leaves):
            postings = self._segment_postings(number, fieldname, btext)
            if postings is not None:
                read.append((number, leaf, offset, postings))
        return read

    def _joined(self, fieldname: str, scorer, read: list[tuple]) -> Matches:
        """Every segment's whole list joined first, then scored at once from the index's
        global statistics: one mask of deletions, one gather of field lengths, one BM25.

        Done segment by segment, those and the docnums' offsets took four small array
        operations a segment, most of a first read's time beside the look-ups: 39 reads
        of the log's completions (13 words, three fields) at a million articles in 18
        segments, 36.3 ms where joined first 29.0, the same matches and scores to the bit.
        """
        numbers = [number for number, *_ in read]
        local = [postings[0] for *_, postings in read]
        counts = [len(docnums) for docnums in local]
        docnums = np.concatenate(local).astype(np.intp)
        docnums += np.repeat(self._offsets[numbers], counts)
        weights = np.concatenate([postings[1] for *_, postings in read])
        if self._undeleted_all is not None:
            keep = self._undeleted_all[docnums]
            docnums, weights = docnums[keep], weights[keep]
        if type(scorer) is BM25Statistics:
            scores = _bm25(scorer, weights, _LENGTHS[self._index_length_bytes(fieldname)[docnums]])
        else:  # a WeightScorer: the weights are the scores
            scores = weights
        # Kept in the cache as int32 (docnums fit): 12 bytes a match, not 16.
        return Matches(docnums.astype(np.int32), scores)

    def _segment_by_segment(self, fieldname: str, btext: bytes, read: list[tuple]) -> Matches:
        """The term's matches where a segment's list cannot be read whole (Whoosh inlines a
        segment's only posting) or the scorer reads a segment's own statistics: each
        segment's in turn, through Whoosh's matcher where needed."""
        all_docnums, all_scores = [], []
        scorer = None
        # BM25 over arrays scores every segment's postings at once, in the segments' order.
        bm25_places, bm25_weights, bm25_lengths = [], [], []
        for number, leaf, offset, postings in read:
            reader = leaf.reader()
            if scorer is None or type(scorer) not in _GLOBAL_SCORERS:
                scorer = self._scorer(leaf, fieldname, btext)
            docnums, weights = postings
            if docnums is None:  # not a list we can read whole: ask the matcher, with a
                # scorer of this segment's (a scorer's field lengths are its segment's)
                segment_scorer = self._weighting.scorer(leaf, fieldname, btext)
                matcher = reader.postings(fieldname, btext, scorer=segment_scorer)
                found = walked(matcher)
                all_docnums.append(found.docnums + offset)
                all_scores.append(found.scores)
                continue
            if number in self._with_deletions:
                keep = self._undeleted[number][docnums]
                docnums, weights = docnums[keep], weights[keep]
            if type(scorer) is BM25Statistics:
                bm25_places.append(len(all_scores))
                bm25_weights.append(weights)
                bm25_lengths.append(self._length_bytes(number, fieldname)[docnums])
                scores = None  # below
            elif type(scorer) is WeightScorer:
                scores = weights
            else:
                matcher = reader.postings(fieldname, btext, scorer=scorer)
                scores = walked(matcher).scores
            all_docnums.append(docnums + offset)
            all_scores.append(scores)
        if bm25_places:
            lengths = _LENGTHS[np.concatenate(bm25_lengths)]
            scored = _bm25(scorer, np.concatenate(bm25_weights), lengths)
            ends = np.cumsum([len(weights) for weights in bm25_weights])[:-1]
            for place, scores in zip(bm25_places, np.split(scored, ends), strict=True):
                all_scores[place] = scores
        # Kept in the cache as int32 (docnums fit): 12 bytes a match, not 16.
        docnums = np.concatenate(all_docnums).astype(np.int32, copy=False)
        return Matches(docnums, np.concatenate(all_scores))

    def _scorer(self, leaf, fieldname: str, btext: bytes):
        """The term's BM25Statistics where the weighting is Whoosh's BM25F (as its
        BM25FScorer would have them), else the weighting's own scorer for ``leaf``."""
        weighting = self._weighting
        bm25f = isinstance(weighting, BM25F) and type(weighting).scorer is BM25F.scorer
        if not bm25f or not self.schema[fieldname].scorable:
            return weighting.scorer(leaf, fieldname, btext)
        average = self._average_lengths.get(fieldname)
        if average is None:
            average = self._average_lengths[fieldname] = (
                self._searcher.avg_field_length(fieldname) or 1
            )
        return BM25Statistics(
            self._searcher.idf(fieldname, btext),
            average,
            bm25_b(weighting, fieldname),
            weighting.K1,
        )

    def _known_frequency(self, fieldname: str, btext: bytes, frequency: int) -> None:
        """Give the searcher the term's idf from its document frequency, counted in the
        postings read from every segment (deleted documents included, as Whoosh counts
        them), when the weighting works it out from that (search.ranking): Whoosh would
        ask every segment's terms table again, 20 look-ups at a million articles."""
        idf_from = getattr(self._weighting, "idf_from", None)
        if idf_from is not None:
            idf = idf_from(self._documents, frequency)
            remember_idf(self._searcher, fieldname, btext, idf)

    def _segment_postings(self, number: int, fieldname: str, btext: bytes) -> tuple | None:
        """Leaf ``number``'s (docnums, weights) for a term, deleted documents included;
        (None, None) where they cannot be read whole; None when the segment lacks the term.

        A common term's come from the segment's frequent-terms file, the others' from
        W3, kept for every generation with the segment. The terms table (a few reads
        of its hash table a look-up) is asked only when neither has the term, once.
        """
        reader, key, frequent, lookup = self._leaf_readers(number)
        if frequent is not None:
            arrays = frequent.arrays(reader, fieldname, btext)
            if arrays is not None:
                return arrays
        kept = self._segments.postings(key, fieldname, btext)
        if kept is not None:  # kept compact: weights widened as posting_arrays gives them
            return kept[0], kept[1].astype(np.float64)
        found = posting_arrays(reader, fieldname, btext, lookup)
        if found is None:
            return None
        docnums, weights = found
        if docnums is not None:
            compact = compact_postings(docnums, weights)
            self._segments.keep_postings(key, fieldname, btext, compact)
        return docnums, weights

    def _leaf_readers(self, number: int) -> tuple:
        """Leaf ``number``'s reader, segment key, frequent-terms file and TermsLookup (None:
        not read so)."""
        found = self._readers[number]
        if found is None:
            reader = self.leaves[number][0].reader()
            lookup = self._segments.piece(reader, "terms lookup", TermsLookup.open)
            found = (reader, segment_key(reader), self.frequent(reader), lookup)
            self._readers[number] = found
        return found

    def _index_length_bytes(self, fieldname: str) -> np.ndarray:
        """Every document's ``fieldname`` length byte, leaf after leaf: 1 MB a field at a
        million articles, for this generation (the segments' own are kept for the next)."""
        found = self._index_lengths.get(fieldname)
        if found is None:
            found = self._index_lengths[fieldname] = np.concatenate(
                [self._length_bytes(number, fieldname) for number in range(len(self.leaves))]
            )
        return found

    def _length_bytes(self, number: int, fieldname: str) -> np.ndarray:
        """A segment's field lengths per document as Whoosh stores them, a byte each
        (``_LENGTHS`` decodes them as its scorer does): a million articles' three text
        fields take 3 MB so, 24 MB decoded."""
        found = self._lengths.get((number, fieldname))
        if found is None:
            found = self._lengths[number, fieldname] = self._segments.piece(
                self.leaves[number][0].reader(),
                ("length bytes", fieldname),
                lambda reader: np.frombuffer(length_bytes(reader, fieldname), dtype=np.uint8),
            )
        return found


def _bm25(scorer: BM25Statistics, weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """whoosh.scoring.bm25 over arrays, operation for operation."""
    idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1  # noqa: N806
    return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl)))
