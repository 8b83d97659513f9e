"""``article-search index PATH... [--rebuild] [--procs N] [--memory MB]``: import articles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from index.commands.common import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, index_folder
from index.indexer import IndexBuildError, index_paths
from index.lock import IndexLockedError
from index.repair import IndexUnrepairableError
from search.settings import SettingError


def _progress(sources):
    if not sys.stderr.isatty():
        return sources
    from tqdm import tqdm

    return tqdm(sources, unit="file", desc="indexing", file=sys.stderr, leave=False)


def run_index(args: argparse.Namespace) -> int:
    try:
        report = index_paths(
            index_folder(args),
            args.paths,
            rebuild=args.rebuild,
            procs=args.procs,
            progress=_progress,
            memory_mb=args.memory,
        )
    except (IndexLockedError, IndexBuildError, SettingError, IndexUnrepairableError) as error:
        print(f"article-search: {error}", file=sys.stderr)
        return EXIT_ERROR
    for repair in report.repairs:
        print(f"article-search: INDEX REPAIRED: {repair}", file=sys.stderr)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(report.summary())
    return EXIT_SKIPPED if report.problems else EXIT_OK


def add_command(commands, common: argparse.ArgumentParser) -> None:
    index = commands.add_parser(
        "index", parents=[common], help="import article files into the index"
    )
    index.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    index.add_argument(
        "--rebuild", action="store_true", help="build a fresh index beside the live one and swap"
    )
    index.add_argument("--procs", type=int, default=None, help="processes (default: all cores)")
    index.add_argument(
        "--memory",
        type=int,
        metavar="MB",
        help="memory for a first import or rebuild, all processes together "
        "(default: ARTICLE_SEARCH_INDEX_MEMORY, else 1024)",
    )
    index.set_defaults(run=run_index)
