"""``article-search search QUERY [--region R] [--theme T] [--filter NAME=VALUE] ...``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from index.commands.common import EXIT_OK, index_folder
from search.engine import SearchEngine
from search.facets import FACETS_ENV, FacetDefinition
from search.results import SearchRequest


class FilterError(ValueError):
    """A search's filter names a facet the archive does not count, or a value it refuses."""


def _filter(given: str) -> tuple[str, str]:
    """``--filter NAME=VALUE`` as (facet name, value)."""
    name, equals, value = given.partition("=")
    if not equals or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. region=Europe), not {given!r}")
    return name.strip().lower(), value.strip()


def _selections(args: argparse.Namespace, facets: Sequence[FacetDefinition]) -> dict:
    """The values each facet selects, from --region, --theme and --filter; raises
    FilterError for a facet the archive does not count or a value it refuses."""
    pairs = [("region", v) for v in args.region] + [("theme", v) for v in args.theme]
    selected: dict[str, tuple[str, ...]] = {}
    counted = {facet.name: facet for facet in facets}
    for name, value in pairs + args.filter:
        if name not in counted:
            raise FilterError(
                f"no facet named {name!r} in this archive: its facets are "
                f"{', '.join(counted)} ({FACETS_ENV})"
            )
        if refusal := counted[name].refusal(value):
            raise FilterError(refusal)
        selected[name] = (*selected.get(name, ()), value)
    return selected


def run_search(args: argparse.Namespace) -> int:
    engine = SearchEngine(index_folder(args))
    request = SearchRequest(
        q=args.query,
        filters=_selections(args, engine.facets),
        per_page=args.limit,
        prefix=not args.whole_words,
        typos=not args.no_typos,
    )
    result = engine.search(request)
    if args.json:
        from search.serialize import result_json

        print(json.dumps(result_json(result), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{result.total} articles")
    for hit in result.hits:
        date = hit.date.isoformat() if hit.date else "----------"
        print(f"{date}  {hit.title}  [{hit.id}]")
    if result.showing_results_for:
        print(f"showing results for: {result.showing_results_for} (--no-typos for as typed)")
    if result.suggestion:
        print(f"did you mean: {result.suggestion}")
    return EXIT_OK


def add_command(commands, common: argparse.ArgumentParser) -> None:
    search = commands.add_parser("search", parents=[common], help="search the index")
    search.add_argument("query", help="what to search for (may be empty)")
    search.add_argument("--region", action="append", default=[], help="filter by region")
    search.add_argument("--theme", action="append", default=[], help="filter by theme")
    search.add_argument(
        "--filter",
        action="append",
        default=[],
        type=_filter,
        metavar="NAME=VALUE",
        help=f"filter by any facet the archive counts ({FACETS_ENV}), e.g. author='Ahmed Adel' "
        "or year=2024; repeatable: values of one facet OR together, facets AND",
    )
    search.add_argument("--limit", type=int, default=10, help="how many results (default 10)")
    search.add_argument("--json", action="store_true", help="print the /api/search JSON")
    search.add_argument(
        "--whole-words",
        action="store_true",
        help="the last word matches only itself, not the words it begins",
    )
    search.add_argument("--no-typos", action="store_true", help="search the words exactly as typed")
    search.set_defaults(run=run_search)
