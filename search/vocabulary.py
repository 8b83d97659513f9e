"""The words of one index generation: completions of the word being typed, and typos.

Built once per generation, in the background from when it opens
(search.expansion), from the index's spelling words (each distinct body word,
folded but not stemmed) and the document frequency of each word's stem in the
body and in the title:

- ``completions(prefix)``: the most frequent words that begin with ``prefix``
  (a bisection of the sorted words, then the top few of that range by
  frequency), so a two-letter prefix over a million articles costs the same
  as a long one; or the likeliest (``likeliest=True``, ``likelihood``).
- ``corrections(word)``: the words within one edit of a word of 5+ letters, or
  two of a word of 9+ (a swap of two neighbouring letters is one edit), as
  Algolia and Meilisearch rule it. Candidates come from a deletion index in
  the SymSpell manner: every word's variants with one (or two) letters left
  out, held as a sorted array of their hashes; a typed word's own deletions
  are looked up there and the candidates checked by edit distance. Nothing
  walks the vocabulary per keystroke.
- ``prefix_corrections(word)``: the words that begin with a string one edit
  from ``word``, for a mistyped word still being typed ("ukrian").
"""

from __future__ import annotations

import bisect
import itertools
import string
import time
from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.analysis import FastAnalyzer
from search.whoosh_internals import field_doc_frequencies, field_terms

SPELLING_FIELD = "spell_body"
STEM_FIELD = "body"
TITLE_FIELD = "title"
ONE_TYPO_LETTERS = 5
TWO_TYPOS_LETTERS = 9
# Words longer than this get no typo tolerance (and are not in the deletion index):
# nothing a reader types is, and the index's arrays stay narrow.
MAX_TYPO_LETTERS = 24
# Shorter words are not in the deletion index: no typed word is one edit from them.
MIN_TYPO_INDEX_LETTERS = 3
MAX_CANDIDATES = 200  # candidates checked by edit distance, the most frequent first
_LETTERS = string.ascii_lowercase
_HASH_BASE = np.uint64(0x100000001B3)


def likelihood(articles, titles):
    """How likely a reader typing the start of a word means it: the geometric mean of
    the ``articles`` holding it (in their body) and one more than the ``titles`` holding it.

    Readers search for topics, and an article's topic is in its title: "whe" is
    likelier "wheat" (451 bodies, 205 titles of Reuters) than "whether" (573 bodies,
    1 title); a word in no title still ranks by its bodies. Numbers or arrays.
    """
    return np.sqrt(articles * (titles + 1.0))


@dataclass(frozen=True)
class Alternative:
    """A word of the index that stands in for a typed one: its stem, document frequency
    (body) and the articles holding its stem in their title."""

    word: str
    term: str
    frequency: int
    titles: int = 0

    @property
    def likelihood(self) -> float:
        return float(likelihood(self.frequency, self.titles))


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


def allowed_typos(word: str) -> int:
    """How many edits a typed word may be from the word it matches: 0, 1 or 2."""
    if not word.isalpha() or len(word) > MAX_TYPO_LETTERS:
        return 0
    return 2 if len(word) >= TWO_TYPOS_LETTERS else 1 if len(word) >= ONE_TYPO_LETTERS else 0


def _code_points(words: list[str]) -> np.ndarray:
    """Words as rows of Unicode code points, padded with zeros to MAX_TYPO_LETTERS."""
    if not words:
        return np.zeros((0, MAX_TYPO_LETTERS), dtype=np.uint64)
    encoded = "".join(word.ljust(MAX_TYPO_LETTERS, "\0") for word in words)
    points = np.frombuffer(encoded.encode("utf-32-le"), dtype=np.uint32)
    return points.reshape(len(words), MAX_TYPO_LETTERS).astype(np.uint64)


_POWERS = _HASH_BASE ** np.arange(MAX_TYPO_LETTERS, dtype=np.uint64)


def _hashes(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of code points (the zero padding adds nothing)."""
    with np.errstate(over="ignore"):
        return (rows * _POWERS).sum(axis=1, dtype=np.uint64)


# The hash is a polynomial in _HASH_BASE modulo 2**64, and the base is odd, so it has an
# inverse: a variant's hash is the word's prefix sums, the part after a left-out letter
# shifted down by one power. A letter out costs one vector operation over the words,
# not a copy of every row.
_INVERSE = np.uint64(pow(int(_HASH_BASE), -1, 2**64))


def _deletions(rows: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, row) of each row itself and of its variants with one letter out, and with two
    out for rows of TWO_TYPOS_LETTERS - 2 letters or more; as ``_hashes`` would hash
    each variant's code points.

    Rows are taken a length at a time, so a variant is made only for letters the
    word has.
    """
    hashes, owners = [], []
    with np.errstate(over="ignore"):
        # before[:, i]: the hash of the first i letters; before[:, -1]: the whole word's.
        before = np.zeros((len(rows), MAX_TYPO_LETTERS + 1), dtype=np.uint64)
        np.cumsum(rows * _POWERS, axis=1, dtype=np.uint64, out=before[:, 1:])
        for length in np.unique(lengths).tolist():
            chosen = np.flatnonzero(lengths == length)
            sums = before[chosen]
            whole = sums[:, -1:]
            one = np.arange(length)
            found = [whole, sums[:, one] + (whole - sums[:, one + 1]) * _INVERSE]
            if length >= TWO_TYPOS_LETTERS - 2:
                first, second = np.triu_indices(length, 1)
                found.append(
                    sums[:, first]
                    + (sums[:, second] - sums[:, first + 1]) * _INVERSE
                    + (whole - sums[:, second + 1]) * (_INVERSE * _INVERSE)
                )
            block = np.concatenate(found, axis=1)
            hashes.append(block.reshape(-1))
            owners.append(np.repeat(chosen, block.shape[1]))
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(owners)


class Vocabulary:
    """The sorted words of one generation, their frequencies and their deletion index."""

    def __init__(
        self,
        words: list[str],
        terms: list[str | None],
        frequencies: list[int],
        title_frequencies: list[int] | None = None,
    ):
        """``words`` with the term each is indexed as (None: a stop word), its frequency
        and the articles holding its term in their title (None: none)."""
        order = sorted(range(len(words)), key=words.__getitem__)
        self.words = [words[i] for i in order]
        self.terms = [terms[i] for i in order]
        self.frequency = np.asarray([frequencies[i] for i in order], dtype=np.int64)
        titles = [0] * len(words) if title_frequencies is None else title_frequencies
        self.titles = np.asarray([titles[i] for i in order], dtype=np.int32)
        self._number = {word: i for i, word in enumerate(self.words)}
        typeable = [
            i
            for i, word in enumerate(self.words)
            if word.isalpha() and MIN_TYPO_INDEX_LETTERS <= len(word) <= MAX_TYPO_LETTERS
        ]
        self._hashes, self._owners = self._deletion_index(typeable)

    @classmethod
    def from_reader(cls, reader: IndexReader, analyzer: FastAnalyzer) -> Vocabulary:
        """Every spelling word of ``reader``'s segments with its stem's body and title
        frequencies.

        Each segment's terms are read in bulk (search.whoosh_internals); between
        segments the build yields (``time.sleep(0)``): in a gevent worker it runs
        as a greenlet, and requests are served between its steps.
        """
        stems: dict[str, int] = {}
        titles: dict[str, int] = {}
        words: set[str] = set()
        for leaf, _ in reader.leaf_readers():
            for field, counted in ((STEM_FIELD, stems), (TITLE_FIELD, titles)):
                if field in leaf.schema:
                    _add_doc_frequencies(counted, *field_doc_frequencies(leaf, field))
            if SPELLING_FIELD in leaf.schema:
                words.update(field_terms(leaf, SPELLING_FIELD))
            time.sleep(0)
        listed = sorted(words)
        terms = analyzer.terms_of(listed)
        time.sleep(0)
        return cls(
            listed,
            terms,
            [stems.get(term, 0) if term else 0 for term in terms],
            [titles.get(term, 0) if term else 0 for term in terms],
        )

    def _deletion_index(self, numbers: list[int]) -> tuple[np.ndarray, np.ndarray]:
        words = [self.words[i] for i in numbers]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        hashes, owners = _deletions(_code_points(words), lengths)
        owners = np.asarray(numbers, dtype=np.int64)[owners]
        # Not a stable sort: a look-up takes the owners of a hash as a set.
        order = np.argsort(hashes)
        return hashes[order], owners[order]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._number

    def frequency_of(self, word: str) -> int:
        """Document frequency of ``word``'s stem, 0 when the index does not hold the word."""
        number = self._number.get(word)
        return 0 if number is None else int(self.frequency[number])

    def alternative(self, word: str) -> Alternative | None:
        """``word`` as a stand-in (None when the index does not hold it)."""
        number = self._number.get(word)
        return None if number is None else self._alternative(number)

    def _range(self, prefix: str) -> tuple[int, int]:
        low = bisect.bisect_left(self.words, prefix)
        return low, bisect.bisect_left(self.words, prefix + "\U0010ffff", low)

    def has_prefix(self, prefix: str) -> bool:
        low, high = self._range(prefix)
        return high > low

    def _alternative(self, number: int) -> Alternative | None:
        term, frequency = self.terms[number], int(self.frequency[number])
        if not (term and frequency):
            return None
        return Alternative(self.words[number], term, frequency, int(self.titles[number]))

    def completions(self, prefix: str, limit: int, likeliest: bool = False) -> list[Alternative]:
        """The ``limit`` most frequent terms of words beginning with ``prefix``, one word each
        (``likeliest``: the likeliest, by ``likelihood``).

        Words sharing a stem ("price", "prices") are one completion; ``prefix``
        itself is left out.
        """
        low, high = self._range(prefix)
        wanted = limit * 4  # words sharing stems come in groups
        if high - low > wanted:
            span = self.frequency[low:high]
            if likeliest:
                span = likelihood(span, self.titles[low:high])
            best = np.argpartition(-span, wanted)[:wanted] + low
        else:
            best = np.arange(low, high)
        found = [self._alternative(i) for i in best.tolist() if self.words[i] != prefix]
        return _one_per_term(found, likeliest)[:limit]

    def corrections(self, word: str, edits: int | None = None) -> list[Alternative]:
        """The indexed words fewest edits from ``word``, most frequent first.

        Within ``edits`` edits (at most 2), by default the word's typo allowance.
        """
        edits = min(allowed_typos(word) if edits is None else edits, 2)
        if not edits or len(word) > MAX_TYPO_LETTERS:
            return []
        variants = [word] + [
            "".join(letters)
            for count in range(1, edits + 1)
            for letters in itertools.combinations(word, len(word) - count)
        ]
        wanted = _hashes(_code_points(list(set(variants))))
        starts = np.searchsorted(self._hashes, wanted, side="left")
        ends = np.searchsorted(self._hashes, wanted, side="right")
        numbers = np.unique(
            np.concatenate([self._owners[s:e] for s, e in zip(starts, ends, strict=True)])
        )
        numbers = numbers[np.argsort(-self.frequency[numbers], kind="stable")][:MAX_CANDIDATES]
        found: list[tuple[int, Alternative]] = []
        for number in numbers.tolist():
            alternative = self._alternative(number)
            if alternative is None or alternative.word == word:
                continue
            distance = edit_distance(word, alternative.word)
            if distance <= edits:
                found.append((distance, alternative))
        if not found:
            return []
        nearest = min(distance for distance, _ in found)
        return _one_per_term([a for distance, a in found if distance == nearest])

    def prefix_corrections(self, word: str, limit: int) -> list[Alternative]:
        """The most frequent words beginning with a string one edit from ``word``."""
        if not allowed_typos(word):
            return []
        found: list[Alternative | None] = []
        for variant in _one_edit(word):
            if self.has_prefix(variant):
                found += self.completions(variant, limit)
                number = self._number.get(variant)
                found.append(None if number is None else self._alternative(number))
        return _one_per_term([a for a in found if a is None or a.word != word])[:limit]


def _one_per_term(found: list[Alternative | None], likeliest: bool = False) -> list[Alternative]:
    """The alternatives, most frequent (``likeliest``: likeliest) first, the shortest word
    of each term only.

    Words sharing a stem share its frequency and likelihood; the shortest is most
    often the one people write ("company", not "companies" or a stray "companie").
    """
    ordered = sorted(
        (a for a in found if a is not None),
        key=lambda a: (-(a.likelihood if likeliest else a.frequency), len(a.word), a.word),
    )
    seen: set[str] = set()
    return [a for a in ordered if not (a.term in seen or seen.add(a.term))]


def _add_doc_frequencies(counted: dict[str, int], terms: list[str], counts: np.ndarray) -> None:
    """Add one segment's document frequencies of ``terms`` to ``counted``."""
    if not counted:
        counted.update(zip(terms, counts.tolist(), strict=True))
        return
    get = counted.get
    for term, count in zip(terms, counts.tolist(), strict=True):
        counted[term] = get(term, 0) + count


def _one_edit(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter left out, swapped, changed or added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    changes = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + swaps + changes + inserts) - {word}
