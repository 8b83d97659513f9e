"""What every `article-search` subcommand shares: the index folder it names, its exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

from search import settings

EXIT_OK, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2


def index_folder(args: argparse.Namespace) -> Path:
    """``--index``, else ARTICLE_SEARCH_INDEX, else var/index (search.settings.INDEX)."""
    return Path(args.index or settings.INDEX.read())
