"""A text field's postings for one segment, kept as an array of term numbers.

Indexing a document the usual way makes, for every term, its positions, a
posting tuple and three list appends. Here a document adds one number per
kept word to an array (the word's term, looked up in a vocabulary that stems
each distinct word once and knows the stop words), and at the end of the segment
numpy sorts the whole array by term and cuts it into postings: the same
ids, weights and encoded positions Whoosh's TEXT field would have given,
term after term in the order the terms table wants.
"""

from __future__ import annotations

import itertools
import pickle
from array import array
from collections.abc import Iterator

import numpy as np
from whoosh import formats
from whoosh.system import pack_uint

from search.analysis import FastAnalyzer
from search.schema import ArticleText
from search.whoosh_internals import MIN_DOCUMENTS, PositionValues

TermPostings = tuple[bytes, list[int], list[float], list[bytes]]
BATCH_POSTINGS = 50_000  # postings turned into Python lists at a time


def streams(field) -> bool:
    """Whether ``field``'s postings can be kept as a TextPostings stream."""
    analyzer = getattr(field, "analyzer", None)
    return (
        isinstance(field, ArticleText)
        and isinstance(analyzer, FastAnalyzer)
        and analyzer.fast
        and analyzer.renumbers_positions
        and type(field.format) is formats.Positions
    )


class TextPostings:
    """One text field's documents, as term numbers; see the module."""

    def __init__(self, field: ArticleText):
        self.analyzer: FastAnalyzer = field.analyzer
        self.boost = field.format.field_boost
        self.vocabulary: dict[str, int] = {}  # folded word -> term number, -1: a stop word
        self.terms: list[str] = []
        self._term_numbers: dict[str, int] = {}
        self._tokens = array("i")  # every kept word of every document, as its number
        self._starts = array("q")  # where each document's words begin in _tokens
        self._firsts = array("q")  # each document's first position (stop words before it)
        self._docnums = array("q")

    def add(self, docnum: int, text: str) -> int:
        """Add a document's ``text``; its length (the words kept) in this field."""
        words = self.analyzer.folded_words(text)
        numbers = list(map(self.vocabulary.get, words))
        if None in numbers:
            numbers = self._learn(words)
        kept = [number for number in numbers if number >= 0]
        if kept:
            # The stop filter renumbers: the first kept word keeps its place, and
            # each kept word after it is one further.
            first = 0 if numbers[0] >= 0 else numbers.index(kept[0])
            self._docnums.append(docnum)
            self._starts.append(len(self._tokens))
            self._firsts.append(first)
            self._tokens.extend(kept)
        return len(kept)

    def _learn(self, words: list[str]) -> list[int]:
        vocabulary, numbers = self.vocabulary, self._term_numbers
        new = list(set(words).difference(vocabulary))
        for word, term in zip(new, self.analyzer.terms_of(new), strict=True):
            if term is None:
                vocabulary[word] = -1
                continue
            number = numbers.get(term)
            if number is None:
                number = numbers[term] = len(self.terms)
                self.terms.append(term)
            vocabulary[word] = number
        return [vocabulary[word] for word in words]

    def spelling_words(self) -> list[str]:
        """The unstemmed words kept in this field (what Whoosh's spelling field takes)."""
        return [word for word, number in self.vocabulary.items() if number >= 0]

    def postings(self) -> Iterator[TermPostings]:
        """(term bytes, docnums, weights, encoded positions) for each term, in term order."""
        if not self._docnums:
            return
        terms, keys, docnums, positions = self._words_by_term()
        first = np.empty(len(keys), dtype=bool)  # the first word of a posting
        first[0] = True
        first[1:] = (keys[1:] != keys[:-1]) | (docnums[1:] != docnums[:-1])
        posting_starts = np.flatnonzero(first).astype(positions.dtype)
        frequencies = np.diff(posting_starts, append=len(keys))
        posting_keys, posting_docnums = keys[posting_starts], docnums[posting_starts]
        del keys, docnums, first
        deltas = positions.copy()
        deltas[1:] -= positions[:-1]
        deltas[posting_starts] = positions[posting_starts]
        term_starts = np.flatnonzero(np.diff(posting_keys, prepend=-1))
        # Python lists are made a batch of terms at a time: for a whole large segment
        # at once they would take several times the memory of these arrays.
        batch_starts = np.unique(
            np.searchsorted(term_starts, np.arange(0, len(posting_starts), BATCH_POSTINGS))
        ).tolist()
        term_bounds = [*term_starts.tolist(), len(posting_starts)]
        word_bounds = np.append(posting_starts, len(positions))
        for batch_start, batch_end in zip(
            batch_starts, [*batch_starts[1:], len(term_starts)], strict=True
        ):
            first_posting, end_posting = term_bounds[batch_start], term_bounds[batch_end]
            first_word, end_word = word_bounds[[first_posting, end_posting]].tolist()
            batch = slice(first_posting, end_posting)
            values = _values(
                posting_starts[batch] - first_word,
                frequencies[batch],
                positions[first_word:end_word],
                deltas[first_word:end_word],
            )
            weights = (frequencies[batch] * self.boost).tolist()
            batch_docnums = posting_docnums[batch].tolist()
            for term in range(batch_start, batch_end):
                start, end = term_bounds[term], term_bounds[term + 1]
                local = slice(start - first_posting, end - first_posting)
                term_values = values[local]
                if end - start >= MIN_DOCUMENTS:  # its positions go to the frequent-terms file
                    term_values = PositionValues(
                        term_values,
                        frequencies[start:end],
                        positions[word_bounds[start] : word_bounds[end]],
                    )
                yield (
                    terms[posting_keys[start]],
                    batch_docnums[local],
                    weights[local],
                    term_values,
                )

    def _words_by_term(self) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray]:
        """The terms in order, and every kept word's term key (its place in that order),
        docnum and position, sorted by term, then docnum, then position."""
        tokens = np.frombuffer(self._tokens, dtype=np.int32)
        index = np.int32 if len(tokens) < 2**31 else np.int64
        starts = np.frombuffer(self._starts, dtype=np.int64)
        counts = np.diff(starts, append=len(tokens))
        offsets = starts - np.frombuffer(self._firsts, dtype=np.int64)
        positions = np.arange(len(tokens), dtype=index)
        positions -= np.repeat(offsets.astype(index), counts)
        encoded = [term.encode("utf-8") for term in self.terms]
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        keys = rank[tokens]
        # A stable sort keeps each term's words in document, then position, order.
        # (One array re-ordered at a time: a large segment's words take memory.)
        by_term = np.argsort(keys, kind="stable")
        keys = keys[by_term]
        positions = positions[by_term]
        docnums = np.frombuffer(self._docnums, dtype=np.int64).astype(index)
        docnums = np.repeat(docnums, counts)[by_term]
        return [encoded[number] for number in order], keys, docnums, positions


def _values(
    posting_starts: np.ndarray, frequencies: np.ndarray, positions: np.ndarray, deltas: np.ndarray
) -> list[bytes]:
    """Each posting's encoded positions. Most postings hold one position (a word once
    in an article): theirs are taken from a table of encodings in one numpy step, and
    only the others are encoded one by one."""
    values = np.empty(len(posting_starts), dtype=object)
    first_positions = positions[posting_starts]
    tabled = (frequencies == 1) & (first_positions < ONE_POSITION_TABLE)
    values[tabled] = one_position_encodings(first_positions[tabled])
    others = np.flatnonzero(~tabled)
    if len(others):
        starts = posting_starts[others]
        ends = starts + frequencies[others]
        offset = int(starts[0])
        delta_list = deltas[offset : int(ends[-1])].tolist()
        encoded = [
            encode_position_deltas(delta_list[start:end])
            for start, end in zip((starts - offset).tolist(), (ends - offset).tolist(), strict=True)
        ]
        # fromiter: numpy would make equal-length bytes numpy byte strings, cut at a zero byte.
        values[others] = np.fromiter(encoded, dtype=object, count=len(encoded))
    return values.tolist()


def encode_position_deltas(deltas: list[int]) -> bytes:
    """``whoosh.formats.Positions`` encoding of positions given as the first, then the gaps."""
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


def one_position_encodings(positions: np.ndarray) -> np.ndarray:
    """The encodings of single positions below ONE_POSITION_TABLE, as an object array."""
    global _ONE_POSITION
    if len(positions) and int(positions.max()) >= len(_ONE_POSITION):
        size = min(max(int(positions.max()) + 1, 2 * len(_ONE_POSITION)), ONE_POSITION_TABLE)
        added = (encode_position_deltas([p]) for p in range(len(_ONE_POSITION), size))
        _ONE_POSITION = np.fromiter(
            itertools.chain(_ONE_POSITION.tolist(), added), dtype=object, count=size
        )
    return _ONE_POSITION[positions]


ONE_POSITION_TABLE = 1 << 16  # positions past this (in very long articles) are encoded each time
_ONE_POSITION = np.empty(0, dtype=object)  # position -> its encoding
