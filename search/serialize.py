"""The JSON answers of the reader's API, as JSON-ready dicts: a search (``/api/search``,
``search --json``) and an article (``/api/articles/ID``); web.openapi describes them from
the same declarations (search.article, HIT_EXTRAS, ARTICLE_EXTRAS)."""

from __future__ import annotations

from collections.abc import Callable

from search.article import CARD_FIELDS, Article, fields_json
from search.results import Facet, Hit, SearchResult

# What a hit's JSON adds to its article's card (search.article.ArticleCard); not its title_html.
HIT_EXTRAS = ("snippet", "score", "pinned")
# What an article's JSON adds to the article (Article.to_json).
ARTICLE_EXTRAS = ("page_url", "related")


def _hit_json(hit: Hit) -> dict:
    return {**fields_json(hit, CARD_FIELDS), **{name: getattr(hit, name) for name in HIT_EXTRAS}}


def _facet_json(facet: Facet) -> list[dict]:
    return [{"value": v.value, "count": v.count, "selected": v.selected} for v in facet.values]


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
        return {
            "id": hit.id,
            "title": hit.title,
            "date": hit.date.isoformat() if hit.date else None,
            "page_url": page_url(hit.id),
        }

    extras = {"page_url": page_url(article.id), "related": [related_json(hit) for hit in related]}
    return {**article.to_json(), **{name: extras[name] for name in ARTICLE_EXTRAS}}
