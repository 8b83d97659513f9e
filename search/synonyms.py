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
        expansions = [
            (s.id, source, targets) for s in synonyms for source, targets in s.expansions()
        ]
        analysed = _analysed(
            analyzer, {p for _, source, targets in expansions for p in (source, *targets)}
        )
        words: dict[str, str] = {}  # folded single-word source -> its term
        for synonym, source, targets in expansions:
            terms, folded = analysed[source]
            if not terms:
                continue
            found = self._targets.setdefault(terms, [])
            for target in targets:
                target_terms = analysed[target][0]
                if target_terms and target_terms != terms:
                    found.append(SynonymTarget(synonym, target_terms, target))
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


def _analysed(analyzer: Analyzer, phrases: set[str]) -> dict[str, tuple[tuple[str, ...], tuple]]:
    """Each phrase's terms (as search.analysis.analysed_terms) and folded words (stop words
    kept, no stems). A FastAnalyzer stems every distinct word of them all in one call:
    10,000 sets are a second of work one phrase at a time."""
    if not getattr(analyzer, "fast", False):
        return {
            phrase: (
                analysed_terms(analyzer, phrase),
                tuple(t.text for t in analyzer(phrase, no_morph=True, removestops=False)),
            )
            for phrase in phrases
        }
    folded = {phrase: analyzer.folded_words(phrase) for phrase in phrases}
    words = list({word for each in folded.values() for word in each})
    term_of = dict(zip(words, analyzer.terms_of(words), strict=True))
    return {
        phrase: (tuple(term_of[w] for w in each if term_of[w]), tuple(each))
        for phrase, each in folded.items()
    }
