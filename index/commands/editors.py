"""``article-search editors add|list|password|remove|token|revoke [NAME]``: editors' accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from index.commands.common import EXIT_ERROR, EXIT_OK, index_folder
from search.editors import EditorError, EditorStore


def _read_password(name: str) -> str:
    """Prompted twice on a terminal (never echoed); else the first line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            raise EditorError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def run_editors(args: argparse.Namespace) -> int:
    index_dir = index_folder(args)
    store = EditorStore(index_dir)
    try:
        if args.action == "list":
            if not store.editors():
                print(
                    f"no editors in {index_dir} yet: `editors add NAME` makes one", file=sys.stderr
                )
            for editor in store.editors():
                signed_in = _when(editor.last_sign_in_at) if editor.last_sign_in_at else "never"
                print(
                    f"{editor.name}\tsince {_when(editor.created_at)}\t"
                    f"last signed in {signed_in}\t{editor.tokens} API token(s)"
                )
            return EXIT_OK
        if args.name is None:
            raise EditorError(f"`editors {args.action}` needs the editor's NAME")
        if args.action == "add":
            index_dir.mkdir(parents=True, exist_ok=True)
            store.add(args.name, _read_password(args.name))
            print(f"editor {args.name} added: sign in at /admin")
        elif args.action == "password":
            ended = store.set_password(args.name, _read_password(args.name))
            print(f"password of {args.name} changed; {ended} open session(s) ended")
        elif args.action == "remove":
            store.remove(args.name)
            print(f"editor {args.name} removed, with their API tokens and sessions")
        elif args.action == "token":
            token = store.new_token(args.name)
            print(f"a new API token for {args.name} (shown once; `editors revoke` ends it):")
            print(token)
        elif args.action == "revoke":
            count = store.revoke_tokens(args.name)
            print(f"{count} API token(s) of {args.name} revoked")
    except EditorError as error:
        print(f"article-search: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def add_command(commands, common: argparse.ArgumentParser) -> None:
    editors = commands.add_parser(
        "editors",
        parents=[common],
        help="editors' accounts for the desk (/admin): add, list, password, remove, token, revoke",
        description="Accounts live in editors.sqlite in the index folder and are never "
        "published. `add` and `password` prompt for the password on a terminal, else read "
        "its first line from standard input (`password` also signs the editor out "
        "everywhere); `token` prints a new API token as its last line.",
    )
    editors.add_argument("action", choices=["add", "list", "password", "remove", "token", "revoke"])
    editors.add_argument("name", nargs="?", metavar="NAME", help="the editor's name")
    editors.set_defaults(run=run_editors)
