"""``article-search serve [--bind HOST:PORT] [--workers N]``: gunicorn serving the web app.

Everything that would stop every worker alike (a bad setting, a missing
package, no index, a facet the index cannot count) is said once, here, before
gunicorn starts; then this process becomes gunicorn.
"""

from __future__ import annotations

import argparse
import os
import sys

from index.commands.common import EXIT_ERROR, index_folder
from index.serving_imports import serving_import_problem
from search import settings
from search.facets import configured_facets, require_indexed
from search.storage.index_folder import IndexFolder


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


def add_command(commands, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser("serve", parents=[common], help="serve the web app with gunicorn")
    serve.add_argument(
        "--bind",
        default=None,
        metavar="HOST:PORT",
        help=f"address to listen on (default: ${settings.BIND.name} or {settings.BIND.default})",
    )
    serve.add_argument("--workers", type=int, help="worker processes (default: from the cores)")
    serve.set_defaults(run=run_serve)
