"""``article-search publish REPLICA...``: the served generation and the desk to replicas."""

from __future__ import annotations

import argparse
import sys

from index.commands.common import EXIT_ERROR, EXIT_OK, index_folder
from index.lock import IndexLockedError
from index.publish import PublishError, publish
from search.storage.index_folder import IndexNotFoundError


def run_publish(args: argparse.Namespace) -> int:
    index_dir = index_folder(args)
    for replica in args.replicas:
        try:
            name = publish(index_dir, replica)
        except (IndexLockedError, IndexNotFoundError, PublishError) as error:
            print(f"article-search: {error}", file=sys.stderr)
            return EXIT_ERROR
        print(f"{replica}: serving {name}")
    return EXIT_OK


def add_command(commands, common: argparse.ArgumentParser) -> None:
    publish_command = commands.add_parser(
        "publish",
        parents=[common],
        help="copy the live index to read replicas (rsync) and switch them to it",
    )
    publish_command.add_argument(
        "replicas", nargs="+", metavar="REPLICA", help="a replica's index folder, or HOST:FOLDER"
    )
    publish_command.set_defaults(run=run_publish)
