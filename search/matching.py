"""Whole-index query evaluation with arrays: every match and its score in one pass.

Whoosh answers a top-10 search by walking a tree of matchers one document at
a time in Python, and the match set for the facet counts takes a second walk
(``docs_for_query``). ``ArrayMatcher`` evaluates the same query tree one
posting list at a time with numpy and gives both: the matching documents and
the score Whoosh gives each one. Scores follow Whoosh's matchers: BM25F per
term from the scorer Whoosh builds (same global idf and average length, same
quantised field lengths), a Term's boost multiplied in, Or and And add their
children's scores, AndNot keeps the positive side's, ConstantScoreQuery gives
its constant (Whoosh's unscored-context behaviour, which ``searcher.search``
uses). Ranking by (score descending, docnum ascending) is then the order of
Whoosh's TopCollector. Sums may be added in another order than Whoosh's
matcher tree, which can change a score in its last bit, never an order
between scores that differ. DisjunctionMax (without a tie-break) scores a
document by its best part.

Query types it does not know (anything new) are run through
Whoosh's own matcher for that part of the tree, so every query still gets
Whoosh's answer. Term posting lists are read whole (search.whoosh_internals:
a common term's from its segment's frequent-terms file, with its positions;
with its fast paths off, through Whoosh's own matcher). A term's matches and
scores are cached per index generation (an ``ArrayMatcher`` belongs to one
searcher; the scores' idf and average lengths change with every commit),
bounded in bytes; the postings read from each segment, and its field
lengths, are kept for the generations after it (search.storage.segments), so a
daily import does not make the next searches read every common word again.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache
from whoosh import query as wq
from whoosh.formats import Positions
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from search.deadline import NEVER, Deadline
from search.storage.docsets import live_mask
from search.storage.segments import SegmentPieces, compact_postings
from search.whoosh_internals import (
    ROW_SHIFT,
    FrequentPostings,
    length_bytes,
    position_keys,
    posting_arrays,
    posting_values,
)

# Every term list the benchmark's 225-query log reads at a million articles
# takes 130 MB (the commonest word alone 9 MB); at 64 MB the long queries'
# common words pushed each other out and were read again from disk each time.
CACHE_BYTES = 200 * 1024 * 1024
# Or and And of matches this many times fewer than the index's documents are
# summed over the matches alone, not over arrays of every document.
SPARSE_RATIO = 16
# Scorers whose array scores here read only the index's global statistics (idf, average
# field length): made once per term, not once per segment (each costs a sum over every
# segment's field lengths: 1.2 ms at a million articles in 20 segments). Walking a
# segment's matcher takes that segment's own scorer: its field lengths are the segment's.
_GLOBAL_SCORERS = (BM25FScorer, WeightScorer)
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)


class SearchTimedOut(Exception):
    """The evaluation passed its ``deadline`` and was abandoned."""


def _check_time(deadline: Deadline) -> None:
    """Raise SearchTimedOut once ``deadline`` is exceeded."""
    if deadline.exceeded():
        raise SearchTimedOut


@dataclass(frozen=True)
class Matches:
    """Matching documents (global docnums, ascending, no deleted ones) and their scores."""

    docnums: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Matches:
        return cls(_EMPTY_IDS, _EMPTY_SCORES)

    def __len__(self) -> int:
        return len(self.docnums)

    def nbytes(self) -> int:
        """The bytes of its arrays: what it costs in the matcher's cache."""
        return self.docnums.nbytes + self.scores.nbytes

    def top(self, limit: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``limit`` (docnums, scores) by score, then docnum; ``allowed`` a bool mask."""
        docnums, scores = self.docnums, self.scores
        if allowed is not None:
            keep = allowed[docnums]
            docnums, scores = docnums[keep], scores[keep]
        if limit < len(scores):
            # Everything scoring at least the limit-th best score, ties included.
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= threshold
            docnums, scores = docnums[keep], scores[keep]
        order = np.lexsort((docnums, -scores))[:limit]
        return docnums[order], scores[order]


class PendingMatches:
    """The matches of an Or whose last parts are phrases not yet looked for.

    Whoosh adds the parts of an Or; phrase parts (the ranking's proximity
    bonuses) need every candidate's positions, most of the cost of a cold
    search. Here the match set is final (every phrase candidate matches an
    earlier part, so a phrase only adds to a score) and each score is held as
    the earlier parts' sum, then each phrase group's sum over the phrases
    found (a candidate's phrase score is known before its positions are read),
    then later exact additions (AndMaybe) -- added in the order the eager
    evaluation adds them, so every score checked equals the eager one.

    ``top`` looks for phrases only in the documents whose score, counting
    every unchecked phrase as found, can still reach the top (and works that
    bound out only for the documents that the largest bonuses could lift
    into the top); ``scores`` looks in all of them.
    """

    def __init__(self, matcher, docnums, base, bonuses, deadline, after=()):
        self._matcher = matcher
        self.docnums = docnums
        self._base = base
        self._bonuses = bonuses  # groups of (phrase, candidate docnums, score if found)
        # The search's time limit goes on with the phrases checked later (top, scores).
        self._deadline = deadline
        self._after = tuple(after)  # (docnums, scores) added where they match
        self._scores: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.docnums)

    def _like(self, docnums, base, after) -> PendingMatches:
        return PendingMatches(self._matcher, docnums, base, self._bonuses, self._deadline, after)

    def restricted(self, keep: np.ndarray) -> PendingMatches:
        """These matches but those where ``keep`` (aligned with docnums) is False."""
        return self._like(self.docnums[keep], self._base[keep], self._after)

    def plus(self, docnums: np.ndarray, scores: np.ndarray) -> PendingMatches:
        """These matches with ``scores`` added where ``docnums`` match too (AndMaybe)."""
        return self._like(self.docnums, self._base, (*self._after, (docnums, scores)))

    def _checked(self, rows: np.ndarray) -> np.ndarray:
        """Scores of docnums[rows], phrases looked for (within the search's time limit)."""
        return self._scores_of(rows, check=True)

    def _may_reach_top(self, rows: np.ndarray, limit: int) -> np.ndarray:
        """The ``rows`` whose score can still reach the first ``limit`` (MaxScore's cut).

        Every addition (a phrase bonus, an AndMaybe part) adds at most its
        largest score and at least its smallest (never below 0), so the
        ``limit``-th best sum of the exact parts alone is a floor for the
        ``limit``-th final score, and a row whose exact parts plus every
        addition's largest score stay under that floor cannot make the top:
        its bonuses are never looked up, its phrases never read.
        """
        if len(rows) <= limit:
            return rows
        additions = [scores for group in self._bonuses for _, _, scores in group]
        additions += [scores for _, scores in self._after]
        most = sum(float(scores.max()) for scores in additions if len(scores))
        least = sum(min(float(scores.min()), 0.0) for scores in additions if len(scores))
        base = self._base[rows]
        floor = np.partition(base, len(base) - limit)[len(base) - limit] + least
        # A sum may round differently from base + most: a margin far above that.
        margin = 1e-9 * (abs(floor) + most + 1.0)
        return rows[base + most + margin >= floor]

    def _scores_of(self, rows: np.ndarray, check: bool) -> np.ndarray:
        """Scores of docnums[rows]; with ``check`` False, every candidate phrase counted."""
        docnums = self.docnums[rows]
        scores = self._base[rows]
        for group in self._bonuses:
            added = np.zeros(len(rows))
            for phrase, candidates, phrase_scores in group:
                where, present = _positions_in(candidates, docnums)
                if check and present.any():
                    present[present] = self._matcher._verify_phrase(
                        phrase, docnums[present], self._deadline
                    )
                added[present] += phrase_scores[where[present]]
            scores = scores + added
        for later, later_scores in self._after:
            where, present = _positions_in(later, docnums)
            extra = np.zeros(len(rows))
            extra[present] = later_scores[where[present]]
            scores = scores + extra
        return scores

    @property
    def scores(self) -> np.ndarray:
        if self._scores is None:
            self._scores = self._checked(np.arange(len(self.docnums)))
        return self._scores

    def top(self, limit: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As Matches.top, looking for phrases only where they can change the answer."""
        if self._scores is not None:
            return Matches(self.docnums, self._scores).top(limit, allowed)
        rows = np.arange(len(self.docnums))
        if allowed is not None:
            rows = rows[allowed[self.docnums]]
        if not len(rows) or limit <= 0:
            return _EMPTY_IDS, _EMPTY_SCORES
        rows = self._may_reach_top(rows, limit)
        upper = self._scores_of(rows, check=False)
        size = max(4 * limit, 64)
        while True:
            if size >= len(rows):
                chosen, best_left = rows, -np.inf
            else:
                # The ``size`` rows with the highest bounds; the best bound left out.
                split = np.argpartition(upper, len(rows) - size - 1)
                chosen = rows[split[len(rows) - size :]]
                best_left = upper[split[len(rows) - size - 1]]
            scores = self._checked(chosen)
            order = np.lexsort((self.docnums[chosen], -scores))[:limit]
            # Done once no document left out could score as high as the last one in.
            if best_left == -np.inf or (len(order) == limit and best_left < scores[order[-1]]):
                return self.docnums[chosen[order]], scores[order]
            size *= 4


def _plain_or_parts(query) -> list:
    if type(query) is wq.Or and query.boost == 1.0 and not query.scale and not query.minmatch:
        return list(query.subqueries)
    return []


def _positions_in(sorted_docnums: np.ndarray, docnums: np.ndarray) -> tuple:
    """For each of ``docnums``: its index in ``sorted_docnums``, and whether it is there."""
    where = np.searchsorted(sorted_docnums, docnums)
    inside = where < len(sorted_docnums)
    present = np.zeros(len(docnums), dtype=bool)
    present[inside] = sorted_docnums[where[inside]] == docnums[inside]
    return np.minimum(where, max(len(sorted_docnums) - 1, 0)), present


class ArrayMatcher:
    """Evaluates Whoosh queries over every segment of one searcher's index.

    Not thread-safe, by design: it is called under the engine's lock only, and
    its cache, its last answer and the parts of the query being evaluated rely on
    that (the threading rule: search.engine's module docstring).
    """

    def __init__(
        self,
        searcher: Searcher,
        cache_bytes: int = CACHE_BYTES,
        *,
        segments: SegmentPieces | None = None,
        live: np.ndarray | None = None,
    ):
        """``segments``: per-segment field lengths and postings shared with other generations;
        ``live``: the searcher's ``live_mask``, if known."""
        self.searcher = searcher
        self.size = searcher.reader().doc_count_all()
        self.weighting = searcher.weighting
        self.context = searcher.context()  # what searcher.search() gives the query
        self.leaves = list(searcher.leaf_searchers())
        self.schema = searcher.schema
        self._segments = segments if segments is not None else SegmentPieces()
        if live is None:
            live = live_mask(searcher.reader())
        self._live = [
            live[offset : offset + leaf.reader().doc_count_all()] for leaf, offset in self.leaves
        ]
        self._cache: LRUCache[tuple, Matches] = LRUCache(cache_bytes, getsizeof=Matches.nbytes)
        # Check proximity phrases only where they can change the top (PendingMatches).
        self.lazy_phrases = True
        self._last: tuple[wq.Query, Deadline, Matches] | None = None  # see evaluate()
        # The parts of the query being evaluated, by id (see _evaluate); a part met twice
        # evaluated once, and an Or of parts with the same documents summed as arrays
        # (off: every part evaluated afresh, every Or through whole-index arrays).
        self._parts: dict[int, tuple[wq.Query, Matches]] | None = None
        self.shared_parts = True

    # --- the query tree -----------------------------------------------------------------

    def evaluate(self, query: wq.Query, deadline: Deadline = NEVER) -> Matches:
        """Every match of ``query`` and its score; SearchTimedOut once past ``deadline``.

        Phrases a PendingMatches checks later keep to ``deadline`` too.

        The last query's answer is kept: a search re-ranked by feedback asks
        for ``AndMaybe(query, feedback terms)`` right after ``query``, whose
        matches (and unchecked phrases) are then taken as they are. Only
        within one search: the same query object under the same deadline.
        It has no lock: one search at a time evaluates (the engine's lock).
        """
        last = self._last
        if last is not None and last[0] is query and last[1] is deadline:
            return last[2]
        outermost = self._parts is None
        if outermost:
            self._parts = {}
        try:
            found = self._evaluate(query, deadline)
        finally:
            if outermost:
                self._parts = None
        self._last = (query, deadline, found)
        return found

    def _evaluate(self, query: wq.Query, deadline: Deadline) -> Matches:
        """``query``'s matches, a part met before in the same evaluation taken as it was.

        A word being typed is in its query several times over, as the same objects
        (search.query: the word as typed, the completions, and the completions
        without the word, each scored its way): each is evaluated once.
        """
        parts = self._parts
        if parts is None or type(query) is wq.Term or not self.shared_parts:
            return self._evaluate_part(query, deadline)
        seen = parts.get(id(query))
        if seen is not None and seen[0] is query:
            return seen[1]
        found = self._evaluate_part(query, deadline)
        parts[id(query)] = (query, found)  # the query held: its id is not reused meanwhile
        return found

    def _evaluate_part(self, query: wq.Query, deadline: Deadline) -> Matches:
        _check_time(deadline)
        kind = type(query)
        if kind is wq.Term:
            return self._term(query)
        if kind is wq.Or and not query.scale and not query.minmatch:
            subqueries = query.subqueries
            if len(subqueries) > 1 and all(
                type(q) is wq.Term and q.boost == 1.0 for q in subqueries
            ):
                return self._word_in_fields(query, deadline)
            return self._combine(query, deadline, union=True)
        if kind is wq.And:
            return self._combine(query, deadline, union=False)
        if kind is wq.DisjunctionMax and not query.tiebreak:
            return self._best_of(query, deadline)
        if kind is wq.AndNot:
            return self._and_not(query, deadline)
        if kind is wq.AndMaybe:
            return self._and_maybe(query, deadline)
        if kind is wq.ConstantScoreQuery:
            found = self._evaluate(query.child, deadline)
            return Matches(found.docnums, np.full(len(found), float(query.score)))
        if kind is wq.Phrase and self._has_positions(query.fieldname):
            return self._phrase(query, deadline)
        if query is wq.NullQuery:
            return Matches.empty()
        if kind is wq.Every and query.fieldname in (None, "", "*"):
            docnums = np.flatnonzero(np.concatenate(self._live) if self._live else [])
            return Matches(docnums.astype(np.int64), np.full(len(docnums), float(query.boost)))
        return self._whoosh(query)

    def _combine(self, query: wq.CompoundQuery, deadline: Deadline, union: bool) -> Matches:
        subqueries = query.subqueries
        if not subqueries:
            return Matches.empty()
        if len(subqueries) == 1:
            return self._evaluate(subqueries[0], deadline)  # Whoosh ignores the boost here too
        if union and query.boost == 1.0 and self.lazy_phrases:
            groups = self._phrase_groups(subqueries)
            if 0 < groups < len(subqueries):
                pending = self._pending_union(query, groups, deadline)
                if pending is not None:
                    return pending
        parts = [self._evaluate(q, deadline) for q in subqueries]
        combined = None
        if sum(len(part) for part in parts) * SPARSE_RATIO < self.size:
            combined = _sparse_combine(parts, union)
        elif self.shared_parts and all(part.docnums is parts[0].docnums for part in parts):
            # The same documents (a word and its coordination bonus): added as they are.
            combined = parts[0].docnums, _in_order_sum([part.scores for part in parts])
        if combined is not None:
            docnums, scores = combined
            if query.boost != 1.0:
                scores = scores * query.boost
            return Matches(docnums, scores)
        total = np.zeros(self.size, dtype=np.float64)
        if union:
            hit = np.zeros(self.size, dtype=bool)
            for part in parts:
                total[part.docnums] += part.scores
                hit[part.docnums] = True
            docnums = np.flatnonzero(hit)
        else:
            count = np.zeros(self.size, dtype=np.int32)
            for part in parts:
                total[part.docnums] += part.scores
                count[part.docnums] += 1
            docnums = np.flatnonzero(count == len(parts))
        scores = total[docnums]
        if query.boost != 1.0:
            scores = scores * query.boost
        return Matches(docnums, scores)

    def _word_in_fields(self, query: wq.Or, deadline: Deadline) -> Matches:
        """An Or of unboosted Terms (a word in each text field), kept in the cache as a
        term's matches are; the Or's boost applied to what is kept."""
        key = ("or", *((q.fieldname, q.text) for q in query.subqueries))
        found = self._cache.get(key)
        if found is None:
            found = self._combine(wq.Or(query.subqueries), deadline, union=True)
            self._remember(key, found)
        if query.boost != 1.0:
            found = Matches(found.docnums, found.scores * query.boost)
        return found

    def _best_of(self, query: wq.DisjunctionMax, deadline: Deadline) -> Matches:
        """Every document matching a part, scored by its best part (Whoosh's DisjunctionMax)."""
        best = np.full(self.size, -np.inf)
        for part in (self.evaluate(q, deadline) for q in query.subqueries):
            best[part.docnums] = np.maximum(best[part.docnums], part.scores)
        docnums = np.flatnonzero(best > -np.inf)
        scores = best[docnums]
        return Matches(docnums, scores * query.boost if query.boost != 1.0 else scores)

    def _and_not(self, query: wq.AndNot, deadline: Deadline) -> Matches:
        positive = self._evaluate(query.a, deadline)
        negative = self._evaluate(query.b, deadline)
        if not len(positive) or not len(negative):
            return positive
        excluded = np.zeros(self.size, dtype=bool)
        excluded[negative.docnums] = True
        keep = ~excluded[positive.docnums]
        if isinstance(positive, PendingMatches):
            return positive.restricted(keep)
        return Matches(positive.docnums[keep], positive.scores[keep])

    def _and_maybe(self, query: wq.AndMaybe, deadline: Deadline) -> Matches:
        """The documents of ``a``; where ``b`` matches too, its score is added (as Whoosh)."""
        required = self.evaluate(query.a, deadline)
        optional = self._evaluate(query.b, deadline)
        if not len(required) or not len(optional):
            return required
        if isinstance(required, PendingMatches):
            return required.plus(optional.docnums, optional.scores)
        extra = np.zeros(self.size, dtype=np.float64)
        extra[optional.docnums] = optional.scores
        return Matches(required.docnums, required.scores + extra[required.docnums])

    def _whoosh(self, query: wq.Query) -> Matches:
        """Any other query: Whoosh's own matcher, per segment, document by document."""
        parts = [self._whoosh_in_leaf(query, n) for n in range(len(self.leaves))]
        if not parts:
            return Matches.empty()
        return Matches(
            np.concatenate([p.docnums for p in parts]), np.concatenate([p.scores for p in parts])
        )

    # --- phrases ------------------------------------------------------------------------

    def _has_positions(self, fieldname: str) -> bool:
        try:
            return type(self.schema[fieldname].format) is Positions
        except KeyError:
            return False

    def _phrase(self, query: wq.Phrase, deadline: Deadline) -> Matches:
        """Whoosh's Phrase: the words in order, each within ``slop`` positions of the last.

        Matched as Whoosh's SpanNear2 matcher matches (see ``_chained``), scored as
        it scores: the sum of the words' BM25F scores (added as its binary tree
        of intersections adds them), times the phrase's boost.
        """
        key = ("phrase", query.fieldname, tuple(query.words), query.slop)
        found = self._cache.get(key)
        if found is None:
            found = self._phrase_matches(query, deadline)
            self._remember(key, found)
        if query.boost != 1.0:
            found = Matches(found.docnums, found.scores * query.boost)
        return found

    def _phrase_matches(self, query: wq.Phrase, deadline: Deadline) -> Matches:
        candidates, scores = self._phrase_candidates(query)
        found = self._verify_phrase(query, candidates, deadline)
        return Matches(candidates[found], scores[found])

    def _phrase_candidates(self, query: wq.Phrase) -> tuple[np.ndarray, np.ndarray]:
        """Documents with all the phrase's words, and the phrase's score if found in each.

        From the words' (cached) term matches, before any position is read;
        the score is before the phrase's boost.
        """
        key = ("candidates", query.fieldname, tuple(query.words))
        found = self._cache.get(key)
        if found is not None:
            return found.docnums, found.scores
        words = [self._term(wq.Term(query.fieldname, word)) for word in query.words]
        if not words or not all(len(w) for w in words):
            return _EMPTY_IDS, _EMPTY_SCORES
        # From the rarest word: each step a binary search of the few into the many.
        common = min(words, key=len).docnums
        for word in words:
            _, present = _positions_in(word.docnums, common)
            common = common[present]
        if not len(common):
            return _EMPTY_IDS, _EMPTY_SCORES
        scores = _tree_sum([w.scores[np.searchsorted(w.docnums, common)] for w in words])
        self._remember(key, Matches(common, scores))
        return common, scores

    def _verify_phrase(
        self, query: wq.Phrase, docnums: np.ndarray, deadline: Deadline
    ) -> np.ndarray:
        """Whether the phrase is in each of ``docnums`` (candidates, any order), remembered
        per segment for every generation that has it (search.storage.segments).

        Positions are read only for the documents asked for: a common word's from the
        segment's frequent-terms file, another's from the posting blocks that hold them.
        """
        phrase = (query.fieldname, tuple(query.words), query.slop)
        found = np.zeros(len(docnums), dtype=bool)
        offsets = [offset for _, offset in self.leaves]
        leaf_of = np.searchsorted(offsets, docnums, side="right") - 1
        for number, (leaf, offset) in enumerate(self.leaves):
            rows = np.flatnonzero(leaf_of == number)
            if not len(rows):
                continue
            reader = leaf.reader()
            known = self._segments.phrase_checks(reader, phrase)
            local = (docnums[rows] - offset).tolist()
            unknown = _distinct(np.asarray([d for d in local if d not in known], dtype=np.int64))
            if len(unknown):
                words = []
                for word in query.words:
                    _check_time(deadline)
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
        field = self.schema[fieldname]
        btext = field.to_bytes(word)
        frequent = self._frequent(reader)
        if frequent is not None:
            keys = frequent.positions(reader, fieldname, btext, wanted)
            if keys is not None:
                return keys
        values = posting_values(reader, fieldname, btext, wanted)
        positions = [field.format.decode_positions(values[d]) for d in wanted.tolist()]
        flat = np.fromiter(itertools.chain.from_iterable(positions), np.int64)
        return position_keys([len(p) for p in positions], flat)

    # --- proximity bonuses, checked lazily ----------------------------------------------

    def _phrase_groups(self, subqueries) -> int:
        """How many of the last ``subqueries`` are phrases, or plain Ors of phrases."""
        count = 0
        for query in reversed(subqueries):
            phrases = [query] if type(query) is wq.Phrase else _plain_or_parts(query)
            if not phrases or not all(
                type(p) is wq.Phrase and self._has_positions(p.fieldname) for p in phrases
            ):
                break
            count += 1
        return count

    def _pending_union(
        self, query: wq.Or, groups: int, deadline: Deadline
    ) -> PendingMatches | None:
        """An Or whose last parts are phrase bonuses: exact for the rest, phrases unchecked.

        None when a phrase candidate does not match the other parts (the match
        set would then depend on the phrase): the Or is evaluated eagerly.
        """
        leading, trailing = query.subqueries[:-groups], query.subqueries[-groups:]
        parts = [self._evaluate(q, deadline) for q in leading]
        total = np.zeros(self.size, dtype=np.float64)
        hit = np.zeros(self.size, dtype=bool)
        for part in parts:
            total[part.docnums] += part.scores
            hit[part.docnums] = True
        bonuses = []
        for group in trailing:
            phrases = [group] if type(group) is wq.Phrase else group.subqueries
            bounds = []
            for phrase in phrases:
                candidates, scores = self._phrase_candidates(phrase)
                if not hit[candidates].all():
                    return None
                if phrase.boost != 1.0:
                    scores = scores * phrase.boost
                bounds.append((phrase, candidates, scores))
            bonuses.append(bounds)
        docnums = np.flatnonzero(hit)
        return PendingMatches(self, docnums, total[docnums], bonuses, deadline)

    def _whoosh_in_leaf(self, query: wq.Query, number: int) -> Matches:
        leaf, offset = self.leaves[number]
        found = self._walk(query.matcher(leaf, self.context))
        return Matches(found.docnums + offset, found.scores)

    # --- terms --------------------------------------------------------------------------

    def _term(self, query: wq.Term) -> Matches:
        key = (query.fieldname, query.text)
        found = self._cache.get(key)
        if found is None:
            found = self._term_matches(query.fieldname, query.text)
            self._remember(key, found)
        if query.boost != 1.0:
            found = Matches(found.docnums, found.scores * query.boost)
        return found

    def _remember(self, key: tuple, found: Matches) -> None:
        # A match list larger than the whole cache is not kept (cachetools' ValueError).
        with contextlib.suppress(ValueError):
            self._cache[key] = found

    def _term_matches(self, fieldname: str, text) -> Matches:
        if fieldname not in self.schema:
            return Matches.empty()
        try:
            btext = self.schema[fieldname].to_bytes(text)
        except ValueError:
            return Matches.empty()
        all_docnums, all_scores = [], []
        scorer = None
        for number, (leaf, offset) in enumerate(self.leaves):
            reader = leaf.reader()
            postings = self._segment_postings(reader, fieldname, btext)
            if postings is None:
                continue
            if scorer is None or type(scorer) not in _GLOBAL_SCORERS:
                scorer = self.weighting.scorer(leaf, fieldname, btext)
            docnums, weights = postings
            if docnums is None:  # not a list we can read whole: ask the matcher, with a
                # scorer of this segment's (a scorer's field lengths are its segment's)
                segment_scorer = self.weighting.scorer(leaf, fieldname, btext)
                matcher = reader.postings(fieldname, btext, scorer=segment_scorer)
                found = self._walk(matcher)
                all_docnums.append(found.docnums + offset)
                all_scores.append(found.scores)
                continue
            keep = self._live[number][docnums]
            if not keep.all():
                docnums, weights = docnums[keep], weights[keep]
            if type(scorer) is BM25FScorer:
                scores = _bm25(scorer, weights, self._field_lengths(number, fieldname)[docnums])
            elif type(scorer) is WeightScorer:
                scores = weights
            else:
                matcher = reader.postings(fieldname, btext, scorer=scorer)
                scores = self._walk(matcher).scores
            all_docnums.append(docnums + offset)
            all_scores.append(scores)
        if not all_docnums:
            return Matches.empty()
        # Kept in the cache as int32 (docnums fit): 12 bytes a match, not 16.
        docnums = np.concatenate(all_docnums).astype(np.int32, copy=False)
        return Matches(docnums, np.concatenate(all_scores))

    @staticmethod
    def _walk(matcher) -> Matches:
        docnums, scores = [], []
        while matcher.is_active():
            docnums.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        return Matches(np.asarray(docnums, dtype=np.int64), np.asarray(scores, dtype=np.float64))

    def _segment_postings(self, reader, fieldname: str, btext: bytes) -> tuple | None:
        """A segment's (docnums, weights) for a term, deleted documents included; (None,
        None) where they cannot be read whole; None when the segment lacks the term.

        A common term's come from the segment's frequent-terms file, the others' from
        W3, kept for every generation with the segment. The terms table (a few reads
        of its hash table a look-up) is asked only when neither has the term.
        """
        frequent = self._frequent(reader)
        if frequent is not None:
            arrays = frequent.arrays(reader, fieldname, btext)
            if arrays is not None:
                return arrays
        kept = self._segments.postings(reader, fieldname, btext)
        if kept is not None:  # kept compact: weights widened as posting_arrays gives them
            return kept[0], kept[1].astype(np.float64)
        if (fieldname, btext) not in reader:
            return None
        docnums, weights = posting_arrays(reader, fieldname, btext)
        if docnums is not None:
            compact = compact_postings(docnums, weights)
            self._segments.keep_postings(reader, fieldname, btext, compact)
        return docnums, weights

    def _frequent(self, reader) -> FrequentPostings | None:
        """The segment's frequent-terms file (its index read once per segment), if it has one."""
        return self._segments.piece(reader, "frequent", FrequentPostings.open)

    def _field_lengths(self, number: int, fieldname: str) -> np.ndarray:
        """A segment's field lengths per document, as Whoosh's scorer sees them."""
        return self._segments.piece(
            self.leaves[number][0].reader(),
            ("lengths", fieldname),
            lambda reader: _LENGTHS[np.frombuffer(length_bytes(reader, fieldname), dtype=np.uint8)],
        )


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
            reached |= _positions_in(ends, following - gap)[1]
        ends = following[reached]
    return _distinct(ends >> ROW_SHIFT)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: ``np.unique`` without its cost.

    numpy 2.4's ``np.unique`` of integers goes through a hash table: 25 ms for
    57,000 document numbers in order, where sorting and dropping repeats takes
    0.3 ms (with ``return_inverse`` it sorts).
    """
    values = np.sort(values)
    if len(values) < 2:
        return values
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def _sparse_combine(parts: list[Matches], union: bool) -> tuple[np.ndarray, np.ndarray]:
    """Or (``union``) or And of a few matches, summed as the whole-index arrays sum them.

    ``bincount`` adds each document's scores in the parts' order, starting
    from 0.0, as ``total[part.docnums] += part.scores`` does part after part.
    """
    docnums = np.concatenate([part.docnums for part in parts])
    unique, inverse = np.unique(docnums, return_inverse=True)
    scores = np.concatenate([part.scores for part in parts])
    totals = np.bincount(inverse, weights=scores, minlength=len(unique))
    if union:
        return unique, totals
    complete = np.bincount(inverse, minlength=len(unique)) == len(parts)
    return unique[complete], totals[complete]


def _in_order_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Add arrays one after another from 0.0, as ``total[docnums] += scores`` does."""
    total = np.zeros(len(arrays[0]))
    for scores in arrays:
        total += scores
    return total


def _tree_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Add arrays in the order of Whoosh's make_binary_tree (a + (b + c) for three)."""
    if len(arrays) == 1:
        return arrays[0]
    half = len(arrays) // 2
    return _tree_sum(arrays[:half]) + _tree_sum(arrays[half:])


def _bm25(scorer: BM25FScorer, weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """whoosh.scoring.bm25 over arrays, operation for operation."""
    idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1  # noqa: N806
    return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl)))
