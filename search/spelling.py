""" "Did you mean": the closest query whose words are all in the index."""

from __future__ import annotations

import time

from whoosh.analysis import Analyzer
from whoosh.reading import IndexReader

SPELLING_FIELD = "spell_body"
STEM_FIELD = "body"
# Whoosh builds a Levenshtein automaton per word: a 1,000-letter "word" took 15 s
# on Reuters. No word worth correcting is longer, and a query gets a bounded number.
MAX_WORD_LENGTH = 40
MAX_CORRECTED_WORDS = 10
MAX_REMEMBERED_CORRECTIONS = 10_000


def edit_distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``, a swap of two neighbouring letters counting as one.

    Swapped letters are the commonest typo ("cocao"): counted as two edits,
    they would lose to any more frequent word two edits away ("coal").
    """
    before, previous = None, list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if before and i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


class SpellingCorrector:
    """Corrects words against the index's own (unstemmed) vocabulary."""

    def __init__(self, reader: IndexReader, analyzer: Analyzer):
        self.reader = reader
        self.analyzer = analyzer
        # Corrections found, by word: the vocabulary is fixed for this reader's
        # generation, and a correction costs a walk of it (milliseconds).
        self._corrections: dict[str, str | None] = {}

    def _stems(self, word: str) -> list[str]:
        return [token.text for token in self.analyzer(word)]

    def known(self, word: str) -> bool:
        """Whether every term of ``word`` occurs in the index (stop words count as known)."""
        reader = self.reader
        return all(
            reader.doc_frequency(STEM_FIELD, s) or reader.doc_frequency("title", s)
            for s in self._stems(word)
        )

    def correct(self, word: str) -> str | None:
        """The indexed word closest to ``word`` (fewest edits, then most frequent)."""
        if word not in self._corrections:
            if len(self._corrections) >= MAX_REMEMBERED_CORRECTIONS:
                self._corrections.clear()
            self._corrections[word] = self._correct(word)
        return self._corrections[word]

    def _correct(self, word: str) -> str | None:
        folded = "".join(token.text for token in self.analyzer(word, no_morph=True))
        if not 3 <= len(folded) <= MAX_WORD_LENGTH or not folded.isalpha():
            return None
        best: tuple[int, int, str] | None = None
        for maxdist in (1, 2):
            for candidate in self.reader.terms_within(SPELLING_FIELD, folded, maxdist, prefix=1):
                if candidate == folded:
                    continue
                frequency = sum(
                    self.reader.doc_frequency(STEM_FIELD, s) for s in self._stems(candidate)
                )
                key = (edit_distance(folded, candidate), -frequency, candidate)
                if frequency and (best is None or key < best):
                    best = key
            if best:
                return best[2]
        return None

    def suggest_query(
        self, words: list[str], text: str, deadline: float | None = None
    ) -> str | None:
        """``text`` with its unknown words replaced by corrections, or None.

        At most MAX_CORRECTED_WORDS words are looked up, none after ``deadline`` (a
        perf_counter time): the words left are kept as typed.
        """
        suggestion, changed, tried = text, False, 0
        for word in words:
            for part in word.split():
                if self.known(part):
                    continue
                if tried >= MAX_CORRECTED_WORDS or (deadline and time.perf_counter() > deadline):
                    return suggestion if changed else None
                tried += 1
                correction = self.correct(part)
                if correction:
                    suggestion = suggestion.replace(part, correction, 1)
                    changed = True
        return suggestion if changed else None
