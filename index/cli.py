"""The ``article-search`` command: one console script, a subcommand per module of index/commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from index.commands import analytics, desk, editors, indexing, publishing, searching, serving
from index.commands.common import EXIT_ERROR
from index.commands.searching import FilterError
from search import settings
from search.facets import FacetConfigError
from search.settings import SettingError
from search.storage.index_folder import IndexNotFoundError

COMMANDS = (indexing, searching, serving, publishing, desk, editors, analytics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="article-search", description="Full-text search for an article archive."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index",
        metavar="DIR",
        help=f"index folder (default: ${settings.INDEX.name} or {settings.INDEX.default})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    for command in COMMANDS:
        command.add_command(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (IndexNotFoundError, FacetConfigError, SettingError, FilterError) as error:
        print(f"article-search: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader stopped reading (``| head``): not an error worth a traceback. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
