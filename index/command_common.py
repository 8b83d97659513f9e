"""What every `article-search` subcommand shares: the index folder it names, its exit codes."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_INDEX = "var/index"
EXIT_OK, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2


def index_folder(args: argparse.Namespace) -> Path:
    """``--index``, else ARTICLE_SEARCH_INDEX, else DEFAULT_INDEX."""
    return Path(args.index or os.environ.get("ARTICLE_SEARCH_INDEX") or DEFAULT_INDEX)
