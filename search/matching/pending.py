"""Matches whose proximity bonuses are looked for only where they can change the top."""

from __future__ import annotations

import numpy as np

from search.deadline import Deadline
from search.matching.phrases import PhraseFinder
from search.matching.results import EMPTY_IDS, EMPTY_SCORES, Matches, positions_in


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

    def __init__(
        self,
        phrases: PhraseFinder,
        docnums: np.ndarray,
        base: np.ndarray,
        bonuses: list,
        deadline: Deadline,
        after: tuple = (),
    ):
        self._phrases = phrases
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
        return PendingMatches(self._phrases, docnums, base, self._bonuses, self._deadline, after)

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
                where, present = positions_in(candidates, docnums)
                if check and present.any():
                    present[present] = self._phrases.verify(
                        phrase, docnums[present], self._deadline
                    )
                added[present] += phrase_scores[where[present]]
            scores = scores + added
        for later, later_scores in self._after:
            where, present = positions_in(later, docnums)
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
            return EMPTY_IDS, EMPTY_SCORES
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
