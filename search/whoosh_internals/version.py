"""The Whoosh this package was verified against, and the switch to Whoosh's own code.

At import, the installed whoosh-reloaded is compared with VERIFIED_WHOOSH
(the exact pin in pyproject.toml). On any other version, or when
ARTICLE_SEARCH_WHOOSH_FALLBACK is set, ``FAST_PATHS`` is False and the
indexer and the search use Whoosh's own writer, codec and matcher; one
warning says so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from search import settings

VERIFIED_WHOOSH = "2.7.5"  # whoosh-reloaded
FALLBACK_ENV = settings.WHOOSH_FALLBACK.name

log = logging.getLogger("search.whoosh_internals")


def installed_whoosh() -> str | None:
    """The installed whoosh-reloaded's version; None when Whoosh came from another package."""
    try:
        return version("whoosh-reloaded")
    except PackageNotFoundError:
        return None


def fallback_reason(installed: str | None, environ: Mapping[str, str]) -> str | None:
    """Why the fast paths must not be used; None when they may."""
    if settings.WHOOSH_FALLBACK.read(environ):
        return f"{FALLBACK_ENV} is set"
    if installed != VERIFIED_WHOOSH:
        found = f"whoosh-reloaded {installed}" if installed else "not whoosh-reloaded"
        return f"the installed Whoosh is {found}"
    return None


def check(installed: str | None, environ: Mapping[str, str]) -> bool:
    """Whether the fast paths are on; logs the one line that says when they are not."""
    reason = fallback_reason(installed, environ)
    if reason is not None:
        log.warning(
            "Using Whoosh's own writer and matcher, not article-search's fast paths "
            "(verified against whoosh-reloaded %s): %s. Results are the same; "
            "indexing and searching are slower.",
            VERIFIED_WHOOSH,
            reason,
        )
    return reason is None


FAST_PATHS = check(installed_whoosh(), os.environ)
