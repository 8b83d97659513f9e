"""Search results as JSON-ready dicts: the shape of ``/api/search`` and ``search --json``."""

from __future__ import annotations

from search.results import Facet, Hit, SearchResult


def _hit_json(hit: Hit) -> dict:
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "date": hit.date.isoformat() if hit.date else None,
        "authors": list(hit.authors),
        "regions": list(hit.regions),
        "themes": list(hit.themes),
        "reports": list(hit.reports),
        "source": hit.source,
        "snippet": hit.snippet,
        "score": hit.score,
        "pinned": hit.pinned,
    }


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
