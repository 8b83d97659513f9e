"""Which index words also stand for a typed word: completions and corrections.

The word being typed (the last of the query, with no space after it) also
matches the index words it begins, from MIN_PREFIX letters: at two letters a
prefix begins too many words to tell which one the reader means ("co": company,
corp, could, ...), and by the third the likeliest completion is usually the
word wanted. Typed letters that are a word of the index count as that word
(its articles first) unless the word is RARER_THAN_ITS_START times less likely than
the likeliest word they begin: "ban" is a word, "bra" the start of "brazil", "ten"
of "tender"; the word is then one of its own completions, weighed as likely as it is.
Alone, a completion's likelihood weighs the articles holding it in their title
as well as in their body (search.vocabulary): "whe" reads "wheat" before "whether".
A word the index does not hold, or holds FAR_RARER times more
rarely than a near spelling, also matches the words within the typo allowance
(search.vocabulary). A word being typed gets corrections only when it
completes nothing, and is read as the beginning of a word one edit away only
when the index lacks it ("ukrian" while typing): a rare name like "Séverin"
must not turn into "severity".

After other words, the word being typed is read with them (search.context):
its completions are ranked, and weighed, by the articles holding each together
with the words before it, as the completions under the box are ("group of seven
curren": currency, in more articles with them than "current"); in its likelihood
these stand for all the articles holding it. Typed letters that are a
word of the index are read as the start of a completion when the completion is
in more articles with the words before, and in a larger share of its own
("hostile take": takeover). When no completion goes with
the words before, the word is read alone; words before that go with every
completion alike change nothing.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from whoosh.reading import IndexReader

from search.analysis import FastAnalyzer
from search.context import CoOccurrence
from search.vocabulary import Alternative, Vocabulary, allowed_typos, likelihood

MIN_PREFIX = 3
# The words a word being typed is read as. bench/keystrokes.py's mid-word overlap on its
# two logs: 0.889 / 0.859 with 10, 0.890 / 0.860 with 5 (the sixth to tenth are rarely
# what the reader is typing, and each costs its postings read at every first keystroke).
MAX_COMPLETIONS = 5
MAX_CORRECTIONS = 5
FAR_RARER = 100
# Typed letters that are a word count as it unless the likeliest word they begin is more
# than this many times likelier. Likelihoods are geometric means (search.vocabulary), so
# 3 is about the ten times more articles this rule asked for when it compared articles.
# A search submitted without a space after it is read the same way: a word about as
# likely as its completions stays itself ("zorb", in 3 articles, beside "zorbax", in 20:
# tests/test_typing_context.py). bench/keystrokes.py's mid-word overlap on its two logs:
# 0.885 / 0.849 with 10, 0.890 / 0.860 with 3 ("ten" now the start of "tender"); its
# states are all cut short of the word, so lower looks better still (2: 0.895 / 0.868).
RARER_THAN_ITS_START = 3
TEXT_FIELDS = ("body", "title")
REMEMBERED = 4096  # expansions kept per generation: the same words come on every keystroke
# Term frequencies kept per generation: each costs a terms-table look-up per segment and
# field (40 at a million articles), asked for every query word ("did you mean").
FREQUENCIES_REMEMBERED = 65_536
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expansion:
    """The index words standing in for one typed word besides the word itself."""

    completions: tuple[Alternative, ...] = ()
    corrections: tuple[Alternative, ...] = ()
    # The index holds the word as typed (a word being typed: as a word, not only its stem).
    known: bool = True
    # How likely each completion is, in proportion: its articles with the words before it
    # (search.context), or, alone, its likelihood (search.vocabulary: body and title).
    likelihoods: tuple[float, ...] = ()


class WordExpander:
    """Expands typed words against one index generation (thread-safe).

    The vocabulary is built in the background from when the generation opens
    (``start``; about 1 s of CPU over a million articles, half of it reading
    each segment's terms). Until it is built, a generation that replaced
    another uses its predecessor's, so words new in this generation are not
    completed; the first generation a process opens has none, and ``ready``
    says whether to wait for it (search.engine waits a moment, then answers
    without completions and typo tolerance). ``vocabulary`` waits as long as
    it takes.
    """

    def __init__(
        self,
        doc_frequency: Callable[[str, str], int],
        analyzer: FastAnalyzer,
        reader: IndexReader,
        co_occurrence: CoOccurrence,
        previous: WordExpander | None = None,
    ):
        """``doc_frequency(field, term)``: the generation's articles holding ``term`` in
        ``field`` (search.matching.ArrayMatcher.doc_frequency). ``reader``: the
        generation's, for this expander alone, read once to build the vocabulary and closed;
        opened by the caller with the rest of the generation, since a rebuild can remove
        the generation's files once it is replaced."""
        self._doc_frequency = doc_frequency
        self.co_occurrence = co_occurrence
        self.analyzer = analyzer
        self._reader = reader
        self._build_error: Exception | None = None
        self._lock = threading.Lock()
        self._remembered: LRUCache[tuple, Expansion] = LRUCache(REMEMBERED)
        self._frequencies: LRUCache[str, int] = LRUCache(FREQUENCIES_REMEMBERED)
        self._vocabulary = previous._vocabulary if previous is not None else None
        self._started = False
        self._built = threading.Event()

    def start(self) -> None:
        """Begin building this generation's vocabulary in a thread of its own (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._build_in_background, name="vocabulary", daemon=True).start()

    def _build_in_background(self) -> None:
        try:
            # An analyzer of its own: its stem cache is not shared with searches.
            vocabulary = Vocabulary.from_reader(self._reader, copy.deepcopy(self.analyzer))
        except Exception as error:
            # ``vocabulary`` raises it in the caller.
            log.exception("building the vocabulary failed")
            self._build_error = error
        else:
            with self._lock:
                self._vocabulary = vocabulary
                self._remembered.clear()
        finally:
            self._reader.close()
            self._built.set()

    def ready(self, seconds: float | None = None) -> bool:
        """Whether there is a vocabulary to expand words with, after waiting up to
        ``seconds`` (None: as long as it takes) for this generation's to be built."""
        self.start()
        return self._vocabulary is not None or (
            self._built.wait(seconds) and self._vocabulary is not None
        )

    @property
    def vocabulary(self) -> Vocabulary:
        """This generation's vocabulary (or, while it is built, its predecessor's)."""
        if not self.ready():
            raise RuntimeError("this generation's vocabulary could not be built") from (
                self._build_error
            )
        return self._vocabulary

    def frequency(self, term: str) -> int:
        """Articles holding ``term`` in their body or title (the larger count)."""
        with self._lock:
            frequency = self._frequencies.get(term)
        if frequency is None:
            frequency = max(self._doc_frequency(field, term) for field in TEXT_FIELDS)
            with self._lock:
                self._frequencies[term] = frequency
        return frequency

    def expand(
        self, word: str, term: str | None, typing: bool, typos: bool, context: tuple[str, ...] = ()
    ) -> Expansion:
        """Completions (when ``typing``) and corrections (when ``typos``) of folded ``word``.

        ``term`` is what ``word`` is indexed as (None for a stop word); when the
        typed letters are a word of the index, alternatives indexed as the same
        term are that word itself and are left out. ``context``: the terms of the
        words before it, with which a word being typed is read.
        """
        key = (word, term, typing, typos, context if typing else ())
        with self._lock:
            found = self._remembered.get(key)
        if found is None:
            found = self._expand(*key)
            with self._lock:
                self._remembered[key] = found
        return found

    def _expand(
        self, word: str, term: str | None, typing: bool, typos: bool, context: tuple[str, ...]
    ) -> Expansion:
        frequency = self.frequency(term) if term else 0
        known = frequency > 0
        completions: list[tuple[float, Alternative]] = []
        if typing and len(word) >= MIN_PREFIX:
            known, completions = self._completions(word, term, frequency, context)
        corrections: list[Alternative] = []
        if typos and term and not completions and allowed_typos(word):
            vocabulary = self.vocabulary
            found = vocabulary.corrections(word)
            if not found and typing and not frequency:
                found = vocabulary.prefix_corrections(word, MAX_COMPLETIONS)
            found = [a for a in found if a.term != term][:MAX_CORRECTIONS]
            if found and frequency * FAR_RARER < found[0].frequency:
                corrections = found
        return Expansion(
            tuple(a for _, a in completions),
            tuple(corrections),
            known=known,
            likelihoods=tuple(likelihood for likelihood, _ in completions),
        )

    def _completions(
        self, word: str, term: str | None, frequency: int, context: tuple[str, ...]
    ) -> tuple[bool, list[tuple[float, Alternative]]]:
        """Whether ``word`` is read as itself, and its completions, each with its likelihood,
        likeliest first.

        ``frequency``: the articles holding ``word``'s term (0: the index lacks it).
        """
        vocabulary = self.vocabulary
        found = vocabulary.completions(word, MAX_COMPLETIONS + 1, likeliest=True)
        own = vocabulary.alternative(word) if frequency else None  # the letters as a word
        # Letters far less likely as a word than as the start of one ("bra": brazil) are
        # read as the start; the word's own articles are then one of the completions.
        likeliest = max((a.likelihood for a in found if a.term != term), default=0.0)
        known = own is not None and own.likelihood * RARER_THAN_ITS_START >= likeliest
        if own is not None and all(a.term != term for a in found):
            found.append(own)
        counted: list[tuple[float, Alternative]] = [(a.likelihood, a) for a in found]
        if context and found:
            counts = self.co_occurrence.counts(context, [a.term for a in found])
            paired = list(zip(counts, found, strict=True))
            if any(c for c, a in paired if a.term != term):
                # Its articles with the words before stand for its articles.
                counted = sorted(
                    ((float(likelihood(c, a.titles)), a) for c, a in paired),
                    key=lambda pair: -pair[0],
                )
                if known:
                    count = next(c for c, a in paired if a.term == term)
                    known = self._fits(count, vocabulary.frequency_of(word), paired, term)
        return known, [p for p in counted if not (known and p[1].term == term)][:MAX_COMPLETIONS]

    @staticmethod
    def _fits(
        count: int, frequency: int, counted: list[tuple[int, Alternative]], term: str | None
    ) -> bool:
        """Whether a typed word in ``count`` articles with the words before (of its
        ``frequency``) is read as itself beside its ``counted`` completions.

        Not when a completion is in more articles with the words before, and in a
        larger share of its own: "take" after "hostile" (15 of its 1,429 articles,
        "takeover" 42 of 318). Words before that go with every word alike change
        nothing.
        """
        return not any(
            c > count and c * frequency > count * a.frequency for c, a in counted if a.term != term
        )
