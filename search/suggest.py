"""Completions for the search box: words, facet values, authors and titles, likeliest first.

Called on every keystroke, so each call does bounded work: the facet values'
folded words are worked out once per index generation, the words come from
the generation's vocabulary (the most frequent words with the prefix, one per
stem, search.vocabulary), and the answers are remembered per generation, since
the same prefixes come again and again as people type.

Order: words and values by how many articles choosing them leads to (a word
after others: the articles holding it and them), a value
whose first word is being typed ("Europe" for "eur") counting START_BONUS
times; then, in the slots kept for them, the newest articles whose title
holds the words before and one of the likeliest completions.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from cachetools import LRUCache
from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.searching import Searcher

from search.deadline import NEVER, Deadline
from search.expansion import WordExpander
from search.facets import KNOWN_FACETS, ValueSets
from search.matching import ArrayMatcher, SearchTimedOut
from search.results import Suggestion
from search.vocabulary import Alternative

MIN_PREFIX = 2
KINDS = {facet.field: name for name, facet in KNOWN_FACETS.items() if facet.suggested}
START_BONUS = 3
TERMS_LOOKED_AT = 8
CANDIDATES_AFTER_WORDS = 12  # the most frequent completions counted with the words before
TITLES_SHOWN = 3
TITLE_TERMS = 3  # the likeliest completions whose titles are offered
REMEMBERED = 4096  # completions kept per generation


class Completer:
    """Completes the last word being typed; the words before it are kept as typed."""

    def __init__(
        self,
        searcher: Searcher,
        analyzer: Analyzer,
        values: dict[str, ValueSets],
        expander: WordExpander,
        matcher: ArrayMatcher,
        day: np.ndarray,
    ):
        self.searcher = searcher
        self.analyzer = analyzer
        self.values = values
        self.expander = expander
        self.matcher = matcher
        self.day = day  # date per docnum as a day number, 0 when undated
        self._remembered: LRUCache[tuple[str, int], list[Suggestion]] = LRUCache(REMEMBERED)

    def _fold(self, text: str) -> str:
        return " ".join(t.text for t in self.analyzer(text, no_morph=True, removestops=False))

    def complete(self, text: str, limit: int = 8, deadline: Deadline = NEVER) -> list[Suggestion]:
        """The completions of ``text``; past ``deadline``, without titles (and not remembered)."""
        key = (text, limit)
        found = self._remembered.get(key)
        if found is None:
            found = self._complete(text, limit, deadline)
            if not deadline.exceeded():
                self._remembered[key] = found
        return list(found)

    def _complete(self, text: str, limit: int, deadline: Deadline) -> list[Suggestion]:
        head, _, last = text.rstrip().rpartition(" ")
        prefix = self._fold(last)
        if len(prefix) < MIN_PREFIX or " " in prefix:
            return []
        keep = f"{head} " if head else ""
        head_terms = [token.text for token in self.analyzer(head)]
        words = self._words(prefix, head_terms)
        terms = [(count, Suggestion(keep + a.word, "term", count)) for count, a in words]
        ranked = sorted(self._values(prefix) + terms, key=lambda pair: -pair[0])
        titles = self._titles(head_terms, [a.term for _, a in words[:TITLE_TERMS]], deadline)
        found = [s for _, s in ranked][: max(limit - len(titles), 0)] + titles
        unique, seen = [], set()
        for suggestion in found:
            if suggestion.text.casefold() not in seen:
                seen.add(suggestion.text.casefold())
                unique.append(suggestion)
        return unique[:limit]

    def _words(self, prefix: str, head_terms: list[str]) -> list[tuple[int, Alternative]]:
        """(articles, word): the likeliest completions of ``prefix`` after ``head_terms``.

        Alone, a word counts the articles holding it; after other words, the
        articles holding it and them ("heat pu": pump before public).
        """
        vocabulary = self.expander.vocabulary
        if not head_terms:
            return [(a.frequency, a) for a in vocabulary.completions(prefix, TERMS_LOOKED_AT)]
        candidates = vocabulary.completions(prefix, CANDIDATES_AFTER_WORDS)
        counted = self.expander.co_occurrence.ranked(tuple(head_terms), candidates)
        return [(count, a) for count, a in counted if count][:TERMS_LOOKED_AT]

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

    def _values(self, prefix: str) -> list[tuple[float, Suggestion]]:
        found = []
        for suggestion, words in self._value_words:
            if words and words[0].startswith(prefix):
                found.append((suggestion.count * START_BONUS, suggestion))
            elif any(word.startswith(prefix) for word in words[1:]):
                found.append((suggestion.count, suggestion))
        return found

    def _titles(
        self, head_terms: list[str], terms: list[str], deadline: Deadline
    ) -> list[Suggestion]:
        """The newest articles whose title holds one of ``terms`` and all ``head_terms``;
        none once past ``deadline``."""
        if not terms:
            return []
        wanted = [wq.Term("title", t) for t in head_terms]
        wanted.append(wq.Or([wq.Term("title", t) for t in terms]))
        try:
            docnums = self.matcher.evaluate(wq.And(wanted), deadline).docnums
        except SearchTimedOut:
            return []
        if not len(docnums):
            return []
        newest = docnums[np.argsort(-self.day[docnums], kind="stable")[:TITLES_SHOWN]]
        stored = self.searcher.stored_fields
        return [Suggestion(stored(int(d))["title"], "title", 1) for d in newest]
