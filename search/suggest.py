"""Completions for the search box: facet values, authors, titles and frequent words."""

from __future__ import annotations

import itertools

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.searching import Searcher

from search.facets import ValueSets
from search.results import Suggestion
from search.spelling import SPELLING_FIELD

MIN_PREFIX = 2
MAX_EXPANSIONS = 500
KINDS = {"regions": "region", "themes": "theme", "authors": "author"}


class Completer:
    """Completes the last word being typed; the words before it are kept as typed."""

    def __init__(self, searcher: Searcher, analyzer: Analyzer, values: dict[str, ValueSets]):
        self.searcher = searcher
        self.analyzer = analyzer
        self.values = values

    def _fold(self, text: str) -> str:
        return " ".join(t.text for t in self.analyzer(text, no_morph=True, removestops=False))

    def complete(self, text: str, limit: int = 8) -> list[Suggestion]:
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

    def _values(self, prefix: str) -> list[Suggestion]:
        matches = []
        for field, kind in KINDS.items():
            for value, docs in self.values[field].sets.items():
                if any(word.startswith(prefix) for word in self._fold(value).split()):
                    matches.append(Suggestion(value, kind, len(docs)))
        return sorted(matches, key=lambda s: -s.count)[:4]

    def _titles(self, prefix: str) -> list[Suggestion]:
        results = self.searcher.search(wq.Prefix("title", prefix), limit=3)
        return [Suggestion(hit["title"], "title", 1) for hit in results]

    def _terms(self, prefix: str, keep: str) -> list[Suggestion]:
        reader = self.searcher.reader()
        words = itertools.islice(reader.expand_prefix(SPELLING_FIELD, prefix), MAX_EXPANSIONS)
        scored = []
        for word in words:
            word = word.decode("utf-8") if isinstance(word, bytes) else word
            stems = [t.text for t in self.analyzer(word)]
            frequency = sum(reader.doc_frequency("body", s) for s in stems)
            if frequency:
                scored.append(Suggestion(keep + word, "term", frequency))
        return sorted(scored, key=lambda s: -s.count)[:4]
