"""The word being typed read with the words before it: how many articles each reading leads to.

After "g-7", the letters "curren" are likelier "currency" than "current",
though "current" is the more frequent word: more articles hold "g-7" and
"currency" together. The completions under the search box (search.suggest)
and the results' reading of the word being typed (search.expansion) both
rank a completion by the articles holding it and every word before it.
"""

from __future__ import annotations

import numpy as np
from cachetools import LRUCache
from whoosh import query as wq

from search.matching import ArrayMatcher
from search.vocabulary import Alternative

COUNTED_FIELD = "body"  # word frequencies are body frequencies (search.vocabulary)
# The words before the one being typed stay the same over a word's keystrokes: the
# articles holding them are kept as a mask (a byte per article) for the next keystroke.
HEADS_REMEMBERED = 8


class CoOccurrence:
    """Counts the articles holding a word together with the words before it.

    Belongs to one index generation, as its matcher does, and is called under the
    engine's lock as the matcher is (search.engine's threading rule).
    """

    def __init__(self, matcher: ArrayMatcher):
        self.matcher = matcher
        self._heads: LRUCache[tuple[str, ...], np.ndarray] = LRUCache(HEADS_REMEMBERED)

    def _docnums(self, term: str) -> np.ndarray:
        return self.matcher.evaluate(wq.Term(COUNTED_FIELD, term)).docnums

    def _holding(self, head: tuple[str, ...]) -> np.ndarray:
        """A mask of the articles holding every term of ``head``."""
        found = self._heads.get(head)
        if found is None:
            found = np.ones(self.matcher.size, dtype=bool)
            for term in head:
                holding = np.zeros(self.matcher.size, dtype=bool)
                holding[self._docnums(term)] = True
                found &= holding
            self._heads[head] = found
        return found

    def counts(self, head: tuple[str, ...], terms: list[str]) -> list[int]:
        """For each of ``terms``: the articles holding it and every term of ``head``."""
        holding = self._holding(head)
        return [int(np.count_nonzero(holding[self._docnums(term)])) for term in terms]

    def ranked(
        self, head: tuple[str, ...], alternatives: list[Alternative]
    ) -> list[tuple[int, Alternative]]:
        """(articles with ``head``, word) for each alternative, most articles first
        (ties in the order given)."""
        counted = zip(self.counts(head, [a.term for a in alternatives]), alternatives, strict=True)
        return sorted(counted, key=lambda pair: -pair[0])
