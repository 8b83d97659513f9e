"""``article-search desk history`` and ``desk restore N``: the desk's change log."""

from __future__ import annotations

import argparse
import json
import os
import sys

from index.commands.common import EXIT_ERROR, EXIT_OK, index_folder
from search.desk import Desk, DeskError


def run_desk(args: argparse.Namespace) -> int:
    """``desk history`` (newest change first) and ``desk restore N``."""
    desk = Desk(index_folder(args))
    if args.desk_command == "history":
        for change in desk.history(args.limit):
            line = json.dumps(change.to_json(), ensure_ascii=False) if args.json else None
            print(line or change.summary())
        return EXIT_OK
    editor = args.editor or os.environ.get("USER") or "cli"
    try:
        change = desk.restore(args.number, editor)
    except DeskError as error:
        print(f"article-search: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"restored the desk as after change {args.number} (recorded as change {change.number})")
    return EXIT_OK


def add_command(commands, common: argparse.ArgumentParser) -> None:
    desk = commands.add_parser("desk", help="the editors' desk: its change log, restores")
    desk_commands = desk.add_subparsers(dest="desk_command", required=True)
    history = desk_commands.add_parser("history", parents=[common], help="list the desk's changes")
    history.add_argument("--limit", type=int, help="only the newest N changes")
    history.add_argument("--json", action="store_true", help="one JSON object a line")
    restore = desk_commands.add_parser(
        "restore", parents=[common], help="bring back the desk as it was after change N"
    )
    restore.add_argument("number", type=int, metavar="N", help="a change's number (0: empty)")
    restore.add_argument("--editor", help="the name recorded (default: $USER)")
    desk.set_defaults(run=run_desk)
