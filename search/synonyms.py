"""The desk's synonyms made ready for searching: what each typed word or phrase also finds.

Every synonym's phrases are analysed as the index analyses text (case,
accents, word forms, the index's stop words), so "Kiev", "kiev" and "KIEV's"
are one source. A source is a sequence of terms; a reader's consecutive plain
words whose terms equal it fire it (search.query). Single-word sources are
also a small vocabulary of their own (search.vocabulary's, each word counted
once), so the word being typed fires the synonyms of the source words it
begins ("kie" -> kiev -> kyiv), and a misspelt word those of the source words
within its typo allowance, even when the index holds neither spelling.

Built once per desk revision per worker; 10,000 sets build in about a second
(bench/desk_cost.py measures it), look-ups are dictionary and bisection reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from whoosh.analysis import Analyzer

from search.analysis import analysed_terms
from search.desk import Synonym
from search.vocabulary import Vocabulary

MAX_TYPED_SOURCES = 5  # source words a word being typed or misspelt may fire


@dataclass(frozen=True)
class SynonymTarget:
    """One phrase a source also finds: the synonym's id, its terms and the phrase as written."""

    synonym: int
    terms: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class SourceWord:
    """A single-word source the reader's word was read as (a completion or a correction)."""

    word: str
    term: str
    targets: tuple[SynonymTarget, ...]


class SynonymTable:
    """Sources (term sequences) -> the phrases they also find."""

    def __init__(self, synonyms: Sequence[Synonym], analyzer: Analyzer):
        self._targets: dict[tuple[str, ...], list[SynonymTarget]] = {}
        words: dict[str, str] = {}  # folded single-word source -> its term
        for synonym in synonyms:
            for source, targets in synonym.expansions():
                terms = analysed_terms(analyzer, source)
                if not terms:
                    continue
                found = self._targets.setdefault(terms, [])
                for target in targets:
                    target_terms = analysed_terms(analyzer, target)
                    if target_terms and target_terms != terms:
                        found.append(SynonymTarget(synonym.id, target_terms, target))
                folded = [t.text for t in analyzer(source, no_morph=True, removestops=False)]
                if len(terms) == 1 and len(folded) == 1:
                    words[folded[0]] = terms[0]
        self._targets = {source: targets for source, targets in self._targets.items() if targets}
        self.longest = max(map(len, self._targets), default=0)
        listed = [word for word, term in words.items() if (term,) in self._targets]
        self._words = Vocabulary(listed, [words[w] for w in listed], [1] * len(listed))

    def __len__(self) -> int:
        return len(self._targets)

    def targets(self, terms: tuple[str, ...]) -> tuple[SynonymTarget, ...]:
        """What a source of exactly these terms also finds (nothing if it is no source)."""
        return tuple(self._targets.get(terms, ()))

    def completions(self, prefix: str) -> list[SourceWord]:
        """Single-word sources beginning with the folded ``prefix`` (not ``prefix`` itself)."""
        return self._sources(self._words.completions(prefix, MAX_TYPED_SOURCES))

    def corrections(self, word: str) -> list[SourceWord]:
        """Single-word sources within the folded ``word``'s typo allowance."""
        return self._sources(self._words.corrections(word)[:MAX_TYPED_SOURCES])

    def _sources(self, found) -> list[SourceWord]:
        return [SourceWord(a.word, a.term, self.targets((a.term,))) for a in found]
