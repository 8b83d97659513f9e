"""The JSON answers of the reader's API, as JSON-ready dicts: a search (``/api/search``,
``search --json``), completions (``/api/suggest``) and an article (``/api/articles/ID``);
web.openapi describes them from the same declarations (search.article, HIT_EXTRAS,
ARTICLE_EXTRAS, SUGGESTION_LABELS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from search.article import CARD_FIELDS, Article, fields_json
from search.facets import KNOWN_FACETS
from search.query import completed_query, field_query, phrase_query
from search.results import Facet, FacetValue, Hit, SearchResult, Suggestion

# What a hit's JSON adds to its article's card (search.article.ArticleCard); not its title_html.
HIT_EXTRAS = ("snippet", "score", "pinned")
# What an article's JSON adds to the article (Article.to_json).
ARTICLE_EXTRAS = ("page_url", "related")
# What a related article's JSON says of it, besides its page's address.
RELATED_FIELDS = ("id", "title", "date")
# Each value of a facet as JSON: its members.
FACET_VALUE_FIELDS = tuple(field.name for field in fields(FacetValue))
# Each kind of completion and what it is called beside it; a word has no label.
SUGGESTION_LABELS = {
    "title": "Article",
    **{name: facet.label for name, facet in KNOWN_FACETS.items() if facet.suggested},
    "term": "",
}


def _hit_json(hit: Hit) -> dict:
    return {**fields_json(hit, CARD_FIELDS), **{name: getattr(hit, name) for name in HIT_EXTRAS}}


def _facet_json(facet: Facet) -> list[dict]:
    return [{name: getattr(v, name) for name in FACET_VALUE_FIELDS} for v in facet.values]


def _read_as(expanded: dict[str, tuple[str, ...]]) -> list[dict]:
    return [{"word": word, "read_as": list(words)} for word, words in expanded.items()]


def result_json(result: SearchResult) -> dict:
    request = result.request
    return {
        "query": request.q,
        "total": result.total,
        "page": request.page,
        "per_page": request.per_page,
        "results": [_hit_json(hit) for hit in result.hits],
        # counts=0 (the search page while the reader types): no facets, no timeline.
        "counted": request.counts,
        "facets": {name: _facet_json(facet) for name, facet in result.facets.items()},
        "facets_timed_out": [name for name, f in result.facets.items() if f.timed_out],
        "facets_unlisted": {name: facet.unlisted for name, facet in result.facets.items()},
        "timeline": [
            {
                "label": bucket.label,
                "from": bucket.start.isoformat(),
                "to": bucket.end.isoformat(),
                "count": bucket.count,
                "granularity": bucket.granularity,
            }
            for bucket in result.timeline
        ],
        "suggestion": result.suggestion,
        "completions": _read_as(result.completions),
        "corrections": _read_as(result.corrections),
        "showing_results_for": result.showing_results_for,
        "synonyms_applied": [
            {"id": applied.id, "word": applied.word, "read_as": list(applied.read_as)}
            for applied in result.synonyms_applied
        ],
        "rules_applied": list(result.rules_applied),
        "meaning_only": result.meaning_only,
        "partial": result.partial,
        "truncated": result.truncated,
        "searched_characters": result.searched_characters,
        "took_ms": round(result.took_ms, 2),
    }


def article_json(article: Article, related: list[Hit], page_url: Callable[[str], str]) -> dict:
    """An article with its page's address and its related articles; ``page_url`` gives the
    address of an article's page from its id."""

    def related_json(hit: Hit) -> dict:
        return {**fields_json(hit, RELATED_FIELDS), "page_url": page_url(hit.id)}

    extras = {"page_url": page_url(article.id), "related": [related_json(hit) for hit in related]}
    return {**article.to_json(), **{name: extras[name] for name in ARTICLE_EXTRAS}}


def suggestion_json(typed: str, suggestion: Suggestion) -> dict:
    """A completion of ``typed``, with its label and what choosing it puts in the box: a word
    completes the query, a person or place becomes a field search after the words before
    it, a title is searched as a phrase."""
    if suggestion.kind == "term":
        query = suggestion.text  # the words before and the word completed (search.suggest)
    elif suggestion.kind == "title":
        query = phrase_query(suggestion.text)
    else:
        query = completed_query(typed, field_query(suggestion.kind, suggestion.text))
    return {
        "text": suggestion.text,
        "kind": suggestion.kind,
        "count": suggestion.count,
        "label": SUGGESTION_LABELS.get(suggestion.kind, ""),
        "query": query,
    }


def suggestions_json(typed: str, suggestions: list[Suggestion]) -> dict:
    """The completions of ``typed``, best first."""
    return {"query": typed, "suggestions": [suggestion_json(typed, s) for s in suggestions]}
