"""Completions for the search box: facet values, authors, titles and frequent words.

Called on every keystroke, so each call does bounded work: the facet values'
folded words are worked out once per index generation; titles and words look
at a bounded number of index words with the prefix (the words stemmed in one
analyzer call); and the answers are remembered per generation, since the
same prefixes come again and again as people type.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections import OrderedDict
from functools import cached_property

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.searching import Searcher

from search.facets import ValueSets
from search.results import Suggestion
from search.spelling import SPELLING_FIELD

MIN_PREFIX = 2
KINDS = {"regions": "region", "themes": "theme", "authors": "author"}
VALUES_SHOWN = 4
TITLES_SHOWN = 3
TERMS_SHOWN = 4
# Index words with the prefix looked at (in alphabetical order), and how many of
# the most frequent title words the title lookup takes.
EXPANSIONS = 300
TITLE_TERMS = 8
REMEMBERED = 4096  # completions kept per generation


class Completer:
    """Completes the last word being typed; the words before it are kept as typed."""

    def __init__(self, searcher: Searcher, analyzer: Analyzer, values: dict[str, ValueSets]):
        self.searcher = searcher
        self.analyzer = analyzer
        self.values = values
        self._remembered: OrderedDict[tuple[str, int], list[Suggestion]] = OrderedDict()

    def _fold(self, text: str) -> str:
        return " ".join(t.text for t in self.analyzer(text, no_morph=True, removestops=False))

    def complete(self, text: str, limit: int = 8) -> list[Suggestion]:
        key = (text, limit)
        found = self._remembered.get(key)
        if found is None:
            found = self._remembered[key] = self._complete(text, limit)
            if len(self._remembered) > REMEMBERED:
                self._remembered.popitem(last=False)
        else:
            self._remembered.move_to_end(key)
        return list(found)

    def _complete(self, text: str, limit: int) -> list[Suggestion]:
        head, _, last = text.rstrip().rpartition(" ")
        prefix = self._fold(last)
        if len(prefix) < MIN_PREFIX or " " in prefix:
            return []
        keep = f"{head} " if head else ""
        found = self._values(prefix) + self._titles(prefix) + self._terms(prefix, keep)
        unique, seen = [], set()
        for suggestion in found:
            if suggestion.text.casefold() not in seen:
                seen.add(suggestion.text.casefold())
                unique.append(suggestion)
        return unique[:limit]

    @cached_property
    def _value_words(self) -> list[tuple[Suggestion, tuple[str, ...]]]:
        """Every facet value and author as a suggestion, with its folded words."""
        return [
            (Suggestion(value, kind, int(count)), tuple(self._fold(value).split()))
            for field, kind in KINDS.items()
            for value, count in zip(
                self.values[field].names, self.values[field].frequencies, strict=True
            )
        ]

    def _values(self, prefix: str) -> list[Suggestion]:
        matches = [
            suggestion
            for suggestion, words in self._value_words
            if any(word.startswith(prefix) for word in words)
        ]
        return sorted(matches, key=lambda s: -s.count)[:VALUES_SHOWN]

    def _titles(self, prefix: str) -> list[Suggestion]:
        reader = self.searcher.reader()
        expansions = itertools.islice(reader.expand_prefix("title", prefix), EXPANSIONS)
        frequent = heapq.nlargest(
            TITLE_TERMS, expansions, key=lambda term: reader.doc_frequency("title", term)
        )
        if not frequent:
            return []
        # The first titles in index order: a union matcher stepped a few times,
        # not every match scored.
        query = wq.Or([wq.Term("title", term) for term in frequent])
        docnums = itertools.islice(self.searcher.docs_for_query(query), TITLES_SHOWN)
        stored = self.searcher.stored_fields
        return [Suggestion(stored(docnum)["title"], "title", 1) for docnum in docnums]

    def _terms(self, prefix: str, keep: str) -> list[Suggestion]:
        reader = self.searcher.reader()
        words = [
            word.decode("utf-8") if isinstance(word, bytes) else word
            for word in itertools.islice(reader.expand_prefix(SPELLING_FIELD, prefix), EXPANSIONS)
        ]
        frequency = dict.fromkeys(words, 0)
        for word, stem in self._stems(words):
            frequency[word] += reader.doc_frequency("body", stem)
        best = heapq.nlargest(TERMS_SHOWN, words, key=frequency.__getitem__)
        return [
            Suggestion(keep + word, "term", frequency[word]) for word in best if frequency[word]
        ]

    def _stems(self, words: list[str]) -> list[tuple[str, str]]:
        """(word, stem) for each indexed stem of each word, from one analyzer call."""
        if not hasattr(self.analyzer, "spans"):  # not a FastAnalyzer: a call per word
            return [(word, token.text) for word in words for token in self.analyzer(word)]
        starts = list(itertools.accumulate((len(word) + 1 for word in words[:-1]), initial=0))
        spans = self.analyzer.spans(" ".join(words))
        return [(words[bisect.bisect_right(starts, start) - 1], stem) for start, _, stem in spans]
