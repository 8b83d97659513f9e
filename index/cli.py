"""The ``article-search`` command: index, search and serve subcommands."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from index.analytics_command import add_analytics_command
from index.command_common import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, index_folder
from index.indexer import IndexBuildError, index_paths
from index.lock import IndexLockedError
from index.publish import PublishError, publish
from index.repair import IndexUnrepairableError
from index.serving_imports import serving_import_problem
from search import settings
from search.desk import Desk, DeskError
from search.editors import EditorError, EditorStore
from search.engine import SearchEngine
from search.facets import (
    FACETS_ENV,
    FacetConfigError,
    FacetDefinition,
    configured_facets,
    require_indexed,
)
from search.results import SearchRequest
from search.settings import SettingError
from search.storage.index_folder import IndexFolder, IndexNotFoundError


class FilterError(ValueError):
    """A search's filter names a facet the archive does not count, or a value it refuses."""


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


def run_serve(args: argparse.Namespace) -> int:
    index_dir = index_folder(args).absolute()
    # Every worker would stop on the same bad value: say so once, before gunicorn starts.
    problems = settings.check_all()
    if problems:
        for problem in problems:
            print(f"article-search: cannot serve: {problem}", file=sys.stderr)
        return EXIT_ERROR
    problem = serving_import_problem()
    if problem:
        print(f"article-search: {problem}", file=sys.stderr)
        return EXIT_ERROR
    # The article count from the table of contents: each worker opens the index itself.
    live = IndexFolder(index_dir).open_served()[0]
    # Refused here, before gunicorn starts, rather than in every worker's first request.
    require_indexed(live.schema, configured_facets(), index_dir)
    documents = live.doc_count()
    os.environ[settings.INDEX.name] = str(index_dir)
    command = [sys.executable, "-m", "gunicorn", "--config", "python:web.gunicorn_conf"]
    bind = args.bind or settings.BIND.read()
    command += ["--bind", bind]
    if args.workers:
        command += ["--workers", str(args.workers)]
    command.append("web:create_app()")
    print(
        f"article-search: serving {documents} articles from {index_dir} at http://{bind}/",
        flush=True,
    )
    os.execv(sys.executable, command)
    return EXIT_ERROR  # not reached: execv replaces this process


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

    serve = commands.add_parser("serve", parents=[common], help="serve the web app with gunicorn")
    serve.add_argument(
        "--bind",
        default=None,
        metavar="HOST:PORT",
        help=f"address to listen on (default: ${settings.BIND.name} or {settings.BIND.default})",
    )
    serve.add_argument("--workers", type=int, help="worker processes (default: from the cores)")
    serve.set_defaults(run=run_serve)

    publish_command = commands.add_parser(
        "publish",
        parents=[common],
        help="copy the live index to read replicas (rsync) and switch them to it",
    )
    publish_command.add_argument(
        "replicas", nargs="+", metavar="REPLICA", help="a replica's index folder, or HOST:FOLDER"
    )
    publish_command.set_defaults(run=run_publish)

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
    add_analytics_command(commands, common)
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
