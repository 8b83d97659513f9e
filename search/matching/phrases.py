"""Where a phrase is: Whoosh's Phrase matched and scored over arrays.

A phrase's candidates (the documents holding all its words) and the score it
would give each come from its words' term matches, before any position is
read; positions are then read only for the documents asked about, and what
was found is remembered per segment for every generation that has it
(search.storage.segments).
"""

from __future__ import annotations

import itertools

import numpy as np
from whoosh import query as wq
from whoosh.formats import Positions

from search.deadline import Deadline
from search.matching.results import (
    EMPTY_IDS,
    EMPTY_SCORES,
    MatchCache,
    Matches,
    check_time,
    distinct,
    positions_in,
    tree_sum,
)
from search.matching.terms import TermPostings
from search.storage.segments import SegmentPieces
from search.whoosh_internals import ROW_SHIFT, position_keys, posting_values


class PhraseFinder:
    """Phrases over the segments of one searcher, their words' matches from ``terms``."""

    def __init__(self, terms: TermPostings, segments: SegmentPieces, cache: MatchCache):
        self._terms = terms
        self._segments = segments
        self._cache = cache

    def has_positions(self, fieldname: str) -> bool:
        """Whether ``fieldname`` keeps word positions (a phrase can be looked for in it)."""
        try:
            return type(self._terms.schema[fieldname].format) is Positions
        except KeyError:
            return False

    def matches(self, query: wq.Phrase, deadline: Deadline) -> Matches:
        """Whoosh's Phrase: the words in order, each within ``slop`` positions of the last.

        Matched as Whoosh's SpanNear2 matcher matches (see ``_chained``), scored as
        it scores: the sum of the words' BM25F scores (added as its binary tree
        of intersections adds them); the phrase's boost is the caller's.
        """
        key = ("phrase", query.fieldname, tuple(query.words), query.slop)
        found = self._cache.get(key)
        if found is None:
            candidates, scores = self.candidates(query)
            present = self.verify(query, candidates, deadline)
            found = Matches(candidates[present], scores[present])
            self._cache.remember(key, found)
        return found

    def candidates(self, query: wq.Phrase) -> tuple[np.ndarray, np.ndarray]:
        """Documents with all the phrase's words, and the phrase's score if found in each.

        From the words' (cached) term matches, before any position is read;
        the score is before the phrase's boost.
        """
        key = ("candidates", query.fieldname, tuple(query.words))
        found = self._cache.get(key)
        if found is not None:
            return found.docnums, found.scores
        words = [self._terms.matches(query.fieldname, word) for word in query.words]
        if not words or not all(len(w) for w in words):
            return EMPTY_IDS, EMPTY_SCORES
        # From the rarest word: each step a binary search of the few into the many.
        common = min(words, key=len).docnums
        for word in words:
            _, present = positions_in(word.docnums, common)
            common = common[present]
        if not len(common):
            return EMPTY_IDS, EMPTY_SCORES
        scores = tree_sum([w.scores[np.searchsorted(w.docnums, common)] for w in words])
        self._cache.remember(key, Matches(common, scores))
        return common, scores

    def verify(self, query: wq.Phrase, docnums: np.ndarray, deadline: Deadline) -> np.ndarray:
        """Whether the phrase is in each of ``docnums`` (candidates, any order), remembered
        per segment for every generation that has it (search.storage.segments).

        Positions are read only for the documents asked for: a common word's from the
        segment's frequent-terms file, another's from the posting blocks that hold them.
        """
        phrase = (query.fieldname, tuple(query.words), query.slop)
        found = np.zeros(len(docnums), dtype=bool)
        leaves = self._terms.leaves
        offsets = [offset for _, offset in leaves]
        leaf_of = np.searchsorted(offsets, docnums, side="right") - 1
        for number, (leaf, offset) in enumerate(leaves):
            rows = np.flatnonzero(leaf_of == number)
            if not len(rows):
                continue
            reader = leaf.reader()
            known = self._segments.phrase_checks(reader, phrase)
            local = (docnums[rows] - offset).tolist()
            unknown = distinct(np.asarray([d for d in local if d not in known], dtype=np.int64))
            if len(unknown):
                words = []
                for word in query.words:
                    check_time(deadline)
                    words.append(self._word_positions(reader, query.fieldname, word, unknown))
                near = np.zeros(len(unknown), dtype=bool)
                near[_chained(words, query.slop)] = True
                known.update(zip(unknown.tolist(), near.tolist(), strict=True))
                self._segments.checked(len(unknown))
            found[rows] = [known[d] for d in local]
        return found

    def _word_positions(self, reader, fieldname: str, word: str, wanted: np.ndarray):
        """A word's positions in the ``wanted`` docnums of a segment (sorted, each holding
        the word), as ``position_keys`` (``row``: the document's place in ``wanted``)."""
        field = self._terms.schema[fieldname]
        btext = field.to_bytes(word)
        frequent = self._terms.frequent(reader)
        if frequent is not None:
            keys = frequent.positions(reader, fieldname, btext, wanted)
            if keys is not None:
                return keys
        values = posting_values(reader, fieldname, btext, wanted)
        positions = [field.format.decode_positions(values[d]) for d in wanted.tolist()]
        flat = np.fromiter(itertools.chain.from_iterable(positions), np.int64)
        return position_keys([len(p) for p in positions], flat)


def _chained(words: list[np.ndarray], slop: int) -> np.ndarray:
    """The rows where Whoosh's SpanNear2 (ordered, mindist 1) finds the words.

    ``words`` holds each word's positions, in phrase order, as
    ``position_keys``, ascending. SpanNear2 extends a span by a next word starting 1
    to ``slop`` positions past the span's end (a word inside the span, at
    distance 0, does not), so only the spans' ends matter: the first word's
    positions, then each next word's positions 1 to ``slop`` past an end
    kept. A row is found if an end is left after the last word.
    """
    ends = words[0]
    for following in words[1:]:
        reached = np.zeros(len(following), dtype=bool)
        for gap in range(1, slop + 1):
            reached |= positions_in(ends, following - gap)[1]
        ends = following[reached]
    return distinct(ends >> ROW_SHIFT)
