"""ArrayMatcher: a Whoosh query tree evaluated over arrays, part by part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search.deadline import NEVER, Deadline
from search.matching.pending import PendingMatches
from search.matching.phrases import PhraseFinder
from search.matching.results import (
    Aligned,
    MatchCache,
    Matches,
    add_at,
    as_index,
    check_time,
    in_order_sum,
    sparse_combine,
)
from search.matching.terms import TermPostings, walked
from search.storage.docsets import undeleted_mask
from search.storage.segments import SegmentPieces

# Every term list the benchmark's 225-query log reads at a million articles
# takes 130 MB (the commonest word alone 9 MB); at 64 MB the long queries'
# common words pushed each other out and were read again from disk each time.
# With the alignments below, 200 MB in all: a worker at a million stays under 600 MB.
CACHE_BYTES = 184 * 1024 * 1024
# The alignments of a completion's fields and of a prefix's completions (Aligned), kept
# apart from the matches so that they never push a term's matches out: sharing the cache,
# they took half of it over the typing log, whose terms were then read again and again.
# 16 MB hold a few dozen prefixes' (32 MB took the largest worker at a million to 599 MB).
ALIGNED_BYTES = 16 * 1024 * 1024
# Or and And of matches this many times fewer than the index's documents are
# summed over the matches alone, not over arrays of every document.
SPARSE_RATIO = 16


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
        undeleted: np.ndarray | None = None,
    ):
        """``segments``: per-segment field lengths and postings shared with other generations;
        ``undeleted``: the searcher's ``undeleted_mask``, if known."""
        self.searcher = searcher
        self.size = searcher.reader().doc_count_all()
        self.context = searcher.context()  # what searcher.search() gives the query
        self.leaves = list(searcher.leaf_searchers())
        segments = segments if segments is not None else SegmentPieces()
        if undeleted is None:
            undeleted = undeleted_mask(searcher.reader())
        self._undeleted = undeleted
        self._cache = MatchCache(cache_bytes)
        self._alignments = MatchCache(ALIGNED_BYTES)
        self._terms = TermPostings(searcher, undeleted, segments, self._cache)
        self._phrases = PhraseFinder(self._terms, segments, self._cache)
        # Check proximity phrases only where they can change the top (PendingMatches).
        self.lazy_phrases = True
        self._last: tuple[wq.Query, Deadline, Matches] | None = None  # see evaluate()
        # The parts of the query being evaluated, by id (see _evaluate); a part met twice
        # evaluated once, an Or of parts with the same documents summed as arrays, and a
        # word's weighted fields and completions over their union (_terms_summed, _best_of)
        # (off: every part evaluated afresh, every Or and DisjunctionMax through
        # whole-index arrays).
        self._parts: dict[int, tuple[wq.Query, Matches]] | None = None
        self.shared_parts = True

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """The documents holding ``text`` in ``fieldname``, deleted ones too (as Whoosh's
        ``reader.doc_frequency`` counts them), from each segment's terms table."""
        return self._terms.doc_frequency(fieldname, text)

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
        check_time(deadline)
        kind = type(query)
        if kind is wq.Term:
            return self._terms.matches(query.fieldname, query.text).boosted(query.boost)
        if kind is wq.Or and not query.scale and not query.minmatch:
            subqueries = query.subqueries
            if len(subqueries) > 1 and all(type(q) is wq.Term for q in subqueries):
                if all(q.boost == 1.0 for q in subqueries):
                    return self._word_in_fields(query, deadline)
                if self.shared_parts:
                    return self._terms_summed(query)
            tiers = word_tiers(query) if self.shared_parts else None
            if tiers is not None and not self._phrase_groups(subqueries):
                found = self._tiered(tiers, deadline)
                if found is not None:
                    return found
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
        if kind is wq.Phrase and self._phrases.has_positions(query.fieldname):
            return self._phrases.matches(query, deadline).boosted(query.boost)
        if query is wq.NullQuery:
            return Matches.empty()
        if kind is wq.Every and query.fieldname in (None, "", "*"):
            docnums = np.flatnonzero(self._undeleted)
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
            combined = sparse_combine(parts, union)
        elif self.shared_parts and _same_documents(parts):
            # The same documents (a word and its coordination bonus, the tiers of a word
            # with nothing as typed): added as they are, the empty parts adding nothing.
            held = [part for part in parts if len(part)]
            combined = held[0].docnums, in_order_sum([part.scores for part in held])
        if combined is not None:
            return Matches(*combined).boosted(query.boost)
        total = np.zeros(self.size, dtype=np.float64)
        if union:
            hit = np.zeros(self.size, dtype=bool)
            for part in parts:
                places = as_index(part.docnums)
                add_at(total, places, part.scores)
                hit[places] = True
            docnums = np.flatnonzero(hit)
        else:
            count = np.zeros(self.size, dtype=np.int32)
            for part in parts:
                places = as_index(part.docnums)
                add_at(total, places, part.scores)
                add_at(count, places, 1)
            docnums = np.flatnonzero(count == len(parts))
        return Matches(docnums, total[docnums]).boosted(query.boost)

    def _word_in_fields(self, query: wq.Or, deadline: Deadline) -> Matches:
        """An Or of unboosted Terms (a word in each text field), kept in the cache as a
        term's matches are; the Or's boost applied to what is kept."""
        key = ("or", *((q.fieldname, q.text) for q in query.subqueries))
        found = self._cache.get(key)
        if found is None:
            found = self._combine(wq.Or(query.subqueries), deadline, union=True)
            self._cache.remember(key, found)
        return found.boosted(query.boost)

    def _terms_summed(self, query: wq.Or) -> Matches:
        """An Or of boosted Terms (a completion in each text field, weighted by its
        likelihood, which changes from keystroke to keystroke): summed over the union of
        their documents, aligned once and kept in the cache, not over whole-index arrays."""
        terms = [(q.fieldname, q.text) for q in query.subqueries]
        parts = [self._terms.matches(*term) for term in terms]
        aligned = self._aligned(("or", *terms), parts)
        boosts = [q.boost for q in query.subqueries]
        scores = [part.boosted(boost).scores for part, boost in zip(parts, boosts, strict=True)]
        return Matches(aligned.docnums, aligned.summed(scores)).boosted(query.boost)

    def _aligned(self, key: tuple, parts: list[Matches]) -> Aligned:
        """The parts' documents aligned in their union, kept under ``key`` (what the parts
        are, boosts aside: their documents are the same at every keystroke)."""
        aligned = self._alignments.get(key)
        if aligned is None:
            aligned = Aligned.of([part.docnums for part in parts], self.size)
            self._alignments.remember(key, aligned)
        return aligned

    def _best_of(self, query: wq.DisjunctionMax, deadline: Deadline) -> Matches:
        """Every document matching a part, scored by its best part (Whoosh's DisjunctionMax).

        Parts that are terms or words in their fields (the completions of a word being
        typed) are aligned once, their union kept in the cache as ``_terms_summed``
        keeps a word's: each keystroke weighs them anew, over arrays of the union.
        """
        parts = [self.evaluate(q, deadline) for q in query.subqueries]
        shapes = [_terms_of(q) for q in query.subqueries]
        if self.shared_parts and all(shapes):
            aligned = self._aligned(("best", *shapes), parts)
            best = np.full(len(aligned.docnums), -np.inf)
            for places, part in zip(aligned.places, parts, strict=True):
                np.maximum.at(best, places, part.scores)
            return Matches(aligned.docnums, best).boosted(query.boost)
        best = np.full(self.size, -np.inf)
        for part in parts:
            places = as_index(part.docnums)
            np.maximum.at(best, places, part.scores)
        docnums = np.flatnonzero(best > -np.inf)
        return Matches(docnums, best[docnums]).boosted(query.boost)

    def _tiered(self, tiers: WordTiers, deadline: Deadline) -> Matches | None:
        """A word with stand-ins and its tiers' bonuses (WordTiers), over the union of its
        documents: one alignment, where the Or of the tiers, the AndNot and the Or of the
        word and its stand-ins each took arrays of every document (at a million articles,
        ``dividend inc`` with its terms read: 88 ms, 34 so). The scores are added as
        ``_combine`` adds them: ``(0.0 + bonus) + ((0.0 + exact) + stand-in)``.
        None where a part is a PendingMatches (its phrases not yet looked for)."""
        exact = self._evaluate(tiers.exact, deadline)
        stand_ins = self._evaluate(tiers.stand_ins, deadline)
        if isinstance(exact, PendingMatches) or isinstance(stand_ins, PendingMatches):
            return None
        aligned = Aligned.of([exact.docnums, stand_ins.docnums], self.size)
        either = aligned.summed([exact.scores, stand_ins.scores])
        has_exact = np.zeros(len(aligned.docnums), dtype=bool)
        has_exact[aligned.places[0]] = True
        bonus = np.where(has_exact, tiers.exact_bonus, tiers.stand_in_bonus)
        return Matches(aligned.docnums, bonus + either)

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
        parts = []
        for leaf, offset in self.leaves:
            found = walked(query.matcher(leaf, self.context))
            parts.append(Matches(found.docnums + offset, found.scores))
        if not parts:
            return Matches.empty()
        return Matches(
            np.concatenate([p.docnums for p in parts]), np.concatenate([p.scores for p in parts])
        )

    # --- proximity bonuses, checked lazily ----------------------------------------------

    def _phrase_groups(self, subqueries) -> int:
        """How many of the last ``subqueries`` are phrases, or plain Ors of phrases."""
        count = 0
        for query in reversed(subqueries):
            phrases = [query] if type(query) is wq.Phrase else _plain_or_parts(query)
            if not phrases or not all(
                type(p) is wq.Phrase and self._phrases.has_positions(p.fieldname) for p in phrases
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
            places = as_index(part.docnums)
            add_at(total, places, part.scores)
            hit[places] = True
        bonuses = []
        for group in trailing:
            phrases = [group] if type(group) is wq.Phrase else group.subqueries
            bounds = []
            for phrase in phrases:
                candidates, scores = self._phrases.candidates(phrase)
                if not hit[candidates].all():
                    return None
                if phrase.boost != 1.0:
                    scores = scores * phrase.boost
                bounds.append((phrase, candidates, scores))
            bonuses.append(bounds)
        docnums = np.flatnonzero(hit)
        return PendingMatches(self._phrases, docnums, total[docnums], bonuses, deadline)


@dataclass(frozen=True)
class WordTiers:
    """search.query's coordinated word with stand-ins (completions or corrections)::

        Or([ConstantScoreQuery(exact, exact_bonus),
            ConstantScoreQuery(AndNot(stand_ins, exact), stand_in_bonus),
            Or([exact, stand_ins])])

    the Ors unboosted (the matcher, as Whoosh, leaves a ConstantScoreQuery's and an
    AndNot's boost aside): every article with the word or a stand-in, the word's
    articles in the first tier."""

    exact: wq.Query
    stand_ins: wq.Query
    exact_bonus: float
    stand_in_bonus: float


def word_tiers(query: wq.Or) -> WordTiers | None:
    """``query``'s WordTiers when it has that shape (the same part objects), else None."""
    parts = query.subqueries
    if len(parts) != 3 or query.boost != 1.0:
        return None
    first, second, both = parts
    if not (type(first) is type(second) is wq.ConstantScoreQuery and type(both) is wq.Or):
        return None
    stand_ins_only = second.child
    if type(stand_ins_only) is not wq.AndNot or len(both.subqueries) != 2:
        return None
    exact, stand_ins = both.subqueries
    plain = not both.scale and not both.minmatch and both.boost == 1.0
    same = first.child is exact and stand_ins_only.a is stand_ins and stand_ins_only.b is exact
    if not (plain and same):
        return None
    return WordTiers(exact, stand_ins, float(first.score), float(second.score))


def _same_documents(parts: list[Matches]) -> bool:
    """Whether every part that matches anything holds the very same docnums array."""
    held = [part for part in parts if len(part)]
    return bool(held) and all(part.docnums is held[0].docnums for part in held)


def _terms_of(query: wq.Query) -> tuple | None:
    """The (field, text) pairs of a Term or an Or of Terms, boosts aside; None otherwise."""
    if type(query) is wq.Term:
        return ((query.fieldname, query.text),)
    plain = type(query) is wq.Or and not query.scale and not query.minmatch
    if plain and query.subqueries and all(type(q) is wq.Term for q in query.subqueries):
        return tuple((q.fieldname, q.text) for q in query.subqueries)
    return None


def _plain_or_parts(query) -> list:
    if type(query) is wq.Or and query.boost == 1.0 and not query.scale and not query.minmatch:
        return list(query.subqueries)
    return []
