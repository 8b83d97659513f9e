""" "Did you mean": the closest query whose words are all in the index.

Offered for the words that the search could not stand anything in for
(search.expansion): a word too short for typo tolerance ("oli"), or one whose
corrections were turned off.
"""

from __future__ import annotations

from search.deadline import NEVER, Deadline
from search.expansion import WordExpander
from search.vocabulary import allowed_typos

# Words worth correcting are no longer, and a query gets a bounded number.
MAX_WORD_LENGTH = 40
MAX_CORRECTED_WORDS = 10


class SpellingCorrector:
    """Corrects words against the index's own (unstemmed) vocabulary."""

    def __init__(self, expander: WordExpander):
        self.expander = expander
        self.analyzer = expander.analyzer

    def known(self, word: str) -> bool:
        """Whether every term of ``word`` occurs in the index (stop words count as known)."""
        return all(self.expander.frequency(token.text) for token in self.analyzer(word))

    def correct(self, word: str) -> str | None:
        """The indexed word closest to ``word`` (fewest edits, then most frequent)."""
        folded = "".join(token.text for token in self.analyzer(word, no_morph=True))
        if not 3 <= len(folded) <= MAX_WORD_LENGTH or not folded.isalpha():
            return None
        edits = max(1, allowed_typos(folded))
        found = self.expander.vocabulary.corrections(folded, edits=edits)
        return found[0].word if found else None

    def suggest_query(self, words: list[str], text: str, deadline: Deadline = NEVER) -> str | None:
        """``text`` with its unknown words replaced by corrections, or None.

        At most MAX_CORRECTED_WORDS words are looked up, none after ``deadline``:
        the words left are kept as typed.
        """
        suggestion, changed, tried = text, False, 0
        for word in words:
            for part in word.split():
                if self.known(part):
                    continue
                if tried >= MAX_CORRECTED_WORDS or deadline.exceeded():
                    return suggestion if changed else None
                tried += 1
                correction = self.correct(part)
                if correction:
                    suggestion = suggestion.replace(part, correction, 1)
                    changed = True
        return suggestion if changed else None
