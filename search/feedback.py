"""Pseudo-relevance feedback for long queries: the best first results reorder the rest.

A long query ("has anyone investigated relaxation effects on gaseous heat
transfer to a suddenly heated wall") describes a subject in the reader's
words; the articles it ranks first use the subject's own. The terms that
weigh most in those articles are added as optional, lightly weighted body
terms: an article that shares them moves up. The match set never changes
(``AndMaybe``), so the total, facets and highlighting are those of the query
as typed. Short searches are left alone: their words are the reader's choice.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.searching import Searcher

from search.query import ParsedQuery
from search.ranking import FEEDBACK_DOCS, FEEDBACK_TERMS, FEEDBACK_WEIGHT
from search.results import SearchRequest

FEEDBACK_FIELD = "body"
MAX_ANALYSED_CHARS = 20_000  # of each feedback article: its opening is what counts


def reranks(parsed: ParsedQuery, request: SearchRequest) -> bool:
    """Whether a search is re-ranked by its first results: a long query in relevance
    order. A date order would only pay for terms that change no article's place."""
    return parsed.feedback and request.sort == "relevance"


def feedback_terms(
    searcher: Searcher,
    analyzer: Analyzer,
    parsed: ParsedQuery,
    docnums: Sequence[int],
    scores: Sequence[float],
) -> list[str]:
    """The FEEDBACK_TERMS terms most typical of the first results, query terms aside.

    Each term weighs its share of each article's words, times the article's
    score, summed over the articles, times the term's idf in the body field.
    """
    weights: Counter[str] = Counter()
    for docnum, score in zip(docnums[:FEEDBACK_DOCS], scores[:FEEDBACK_DOCS], strict=False):
        stored = searcher.stored_fields(int(docnum))
        text = f"{stored.get('title', '')}\n{stored.get('body', '')}"[:MAX_ANALYSED_CHARS]
        terms = _term_counts(analyzer, text)
        length = sum(terms.values()) or 1
        for term, count in terms.items():
            weights[term] += float(score) * count / length
    size = searcher.doc_count_all()
    best_idf = math.log(size / 2)  # the rarest a term can be and still count
    ranked: list[tuple[float, str]] = []
    # By weight, so the idf lookups stop once no term left can enter the top.
    for term, weight in sorted(weights.items(), key=lambda pair: (-pair[1], pair[0])):
        if len(ranked) >= FEEDBACK_TERMS and weight * best_idf < ranked[-1][0]:
            break
        if term in parsed.terms:
            continue
        frequency = searcher.doc_frequency(FEEDBACK_FIELD, term)
        if frequency < 2:  # a word of one article says nothing about the others
            continue
        ranked.append((weight * math.log(size / frequency), term))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        del ranked[FEEDBACK_TERMS:]
    return [term for _, term in ranked]


def _term_counts(analyzer: Analyzer, text: str) -> dict[str, int]:
    """How often each term occurs in ``text``, as the index counts them."""
    if getattr(analyzer, "fast", False):  # search.analysis.FastAnalyzer: one pass, no tokens
        positions, _ = analyzer.index_terms(text)
        return {term: len(found) for term, found in positions.items()}
    return Counter(token.text for token in analyzer(text))


def with_feedback(query: wq.Query, terms: Sequence[str]) -> wq.Query:
    """``query``, its scores raised for articles that also have ``terms``."""
    if not terms:
        return query
    optional = [wq.Term(FEEDBACK_FIELD, term, boost=FEEDBACK_WEIGHT) for term in terms]
    return wq.AndMaybe(query, wq.Or(optional))
