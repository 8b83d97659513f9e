"""The desk's synonyms made ready for searching: what each typed word or phrase also finds.

Every synonym's phrases are analysed as the index analyses text (case,
accents, word forms, the index's stop words), so "Kiev", "kiev" and "KIEV's"
are one source. A source is a sequence of terms; a reader's consecutive plain
words whose terms equal it fire it (search.query). The word being typed and a
misspelt word reach the sources the index holds through the index's own
completions and corrections (search.expansion); the single-word sources are
also kept sorted (and, once a correction is asked for, as a small
search.vocabulary), so a word being typed also fires the sources it begins
and a misspelt one the sources near it that the index lacks ("kyj" -> kyjiw
-> kyiv, even with no article saying "kyjiw").

Built once per change of the synonyms per worker (10,000 sets: about 0.3 s
of CPU, bench/desk_cost.py prints it), in a thread of its own
(``SynonymTables``): searches go on with the table built before until the new
one is ready, then take it. Look-ups are dictionary and bisection reads.
"""

from __future__ import annotations

import bisect
import copy
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from whoosh.analysis import Analyzer

from search.analysis import analysed_terms
from search.desk import Synonym
from search.vocabulary import Vocabulary

log = logging.getLogger(__name__)

BUILD_WAIT_SECONDS = 0.05  # how long a search waits for a new table before using the last
MAX_TYPED_SOURCES = 5  # source words a word being typed or misspelt may fire
SCANNED_COMPLETIONS = 50  # source words a prefix begins, looked at for ones the index lacks


class SynonymTarget(NamedTuple):
    """One phrase a source also finds: the synonym's id, its terms and the phrase as written.
    (A tuple: a table of 10,000 sets makes 20,000 of them at every desk change.)"""

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
        self._sorted = sorted((w, t) for w, t in words.items() if (t,) in self._targets)
        self._vocabulary: Vocabulary | None = None  # for corrections, made when first needed

    def __len__(self) -> int:
        return len(self._targets)

    def targets(self, terms: tuple[str, ...]) -> tuple[SynonymTarget, ...]:
        """What a source of exactly these terms also finds (nothing if it is no source)."""
        return tuple(self._targets.get(terms, ()))

    def completions(self, prefix: str, wanted: Callable[[str], bool]) -> list[SourceWord]:
        """Single-word sources beginning with the folded ``prefix`` (not ``prefix`` itself)
        whose term ``wanted`` accepts, in alphabetical order."""
        low = bisect.bisect_left(self._sorted, (prefix,))
        high = bisect.bisect_left(self._sorted, (prefix + "\U0010ffff",), low)
        found = []
        for word, term in self._sorted[low : min(high, low + SCANNED_COMPLETIONS)]:
            if word != prefix and wanted(term):
                found.append((word, term))
                if len(found) == MAX_TYPED_SOURCES:
                    break
        return self._sources(found)

    def corrections(self, word: str, wanted: Callable[[str], bool]) -> list[SourceWord]:
        """Single-word sources within the folded ``word``'s typo allowance, whose term
        ``wanted`` accepts, nearest first."""
        if self._vocabulary is None:
            words = [w for w, _ in self._sorted]
            self._vocabulary = Vocabulary(words, [t for _, t in self._sorted], [1] * len(words))
        found = self._vocabulary.corrections(word)
        return self._sources([(a.word, a.term) for a in found if wanted(a.term)])

    def _sources(self, found: list[tuple[str, str]]) -> list[SourceWord]:
        return [
            SourceWord(word, term, self.targets((term,)))
            for word, term in found[:MAX_TYPED_SOURCES]
        ]


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


class SynonymTables:
    """The table of the desk's synonyms as they are now, built in a background thread.

    ``table()`` starts a build when the synonyms (or the analyzer) differ from the
    table's, waits at most ``wait_seconds`` (None: until it is built) and meanwhile
    answers with the table built before: a worker's searches never stall for a
    10,000-set build (bench/desk_cost.py), and a change is live as soon as its
    table is. Synonyms equal to the table's (a desk change that only touched rules
    or freshness, a restore to the same synonyms) build nothing.
    """

    def __init__(self, wait_seconds: float | None = BUILD_WAIT_SECONDS):
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._ready: tuple[tuple[Synonym, ...], Analyzer, SynonymTable] | None = None
        self._building: tuple[tuple[Synonym, ...], Analyzer, threading.Event] | None = None

    def table(self, synonyms: tuple[Synonym, ...], analyzer: Analyzer) -> SynonymTable | None:
        """The table for ``synonyms``; while it is being built, the last one built for the
        same analyzer (None: none yet, or no synonyms)."""
        if not synonyms:
            return None
        with self._lock:
            ready = self._ready
            if ready is not None and _same(ready, synonyms, analyzer):
                self._ready = (synonyms, analyzer, ready[2])  # the next look-up: by identity
                return ready[2]
            building = self._building
            if building is None or not _same(building, synonyms, analyzer):
                building = self._building = (synonyms, analyzer, threading.Event())
                threading.Thread(
                    target=self._build, args=building, name="synonym-table", daemon=True
                ).start()
        building[2].wait(self.wait_seconds)
        with self._lock:
            ready = self._ready
        if ready is None or ready[1] != analyzer:
            return None
        return ready[2]

    def _build(
        self, synonyms: tuple[Synonym, ...], analyzer: Analyzer, done: threading.Event
    ) -> None:
        try:
            # An analyzer of its own: its stem cache is not shared with searches.
            table = SynonymTable(synonyms, copy.deepcopy(analyzer))
        except Exception:
            log.exception("the synonym table could not be built; searches keep the last one")
            table = None
        with self._lock:
            if self._building is not None and self._building[2] is done:
                self._building = None  # a failed build is tried again at the next search
                if table is not None:
                    self._ready = (synonyms, analyzer, table)
        done.set()


def _same(kept: tuple, synonyms: tuple[Synonym, ...], analyzer: Analyzer) -> bool:
    return kept[1] == analyzer and (kept[0] is synonyms or kept[0] == synonyms)
