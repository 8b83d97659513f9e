"""Every environment variable article-search reads, declared once: its default, how its
value is read and checked, and what it does.

A module that needs one asks its ``Setting`` (``WORKERS.read()``); nothing else
reads ``os.environ`` for configuration. An unset or empty variable is its
default. A value that cannot be read is never quietly replaced by the default:
``read`` raises SettingError naming the variable, the value and what it must
be, and the commands print that one line and exit 2 (``check_all`` checks them
all before ``serve`` starts gunicorn). ``docs/operations.md`` lists them in one
table, which ``tests/test_settings.py`` keeps in step with ``SETTINGS``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

ON_WORDS = frozenset({"1", "true", "yes", "on"})
OFF_WORDS = frozenset({"0", "false", "no", "off"})
MIN_SECRET_KEY_LENGTH = 32
MIN_INDEX_MEMORY_MB = 256


class SettingError(ValueError):
    """A configured value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: ``parse`` turns its text into the value or raises ValueError
    saying what the value must be."""

    name: str
    default: T
    parse: Callable[[str], T]
    meaning: str

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        raw = (os.environ if environ is None else environ).get(self.name, "").strip()
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as error:
            raise SettingError(f"{self.name}={raw!r}: {error}") from None


def text(raw: str) -> str:
    return raw


def switch(raw: str) -> bool:
    """On or off: 1/true/yes/on or 0/false/no/off, in any case."""
    word = raw.lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    raise ValueError("must be 1 (on) or 0 (off)")


def positive_int(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError("must be a whole number of 1 or more")
    return int(raw)


def positive_number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a number above 0")
    return value


def memory_mb(raw: str) -> int:
    """A memory budget in MB, at least MIN_INDEX_MEMORY_MB (``--memory`` reads it the same way)."""
    if not raw.isdigit():
        raise ValueError("must be a number of megabytes")
    if int(raw) < MIN_INDEX_MEMORY_MB:
        raise ValueError(f"{raw} MB is too small (at least {MIN_INDEX_MEMORY_MB})")
    return int(raw)


def secret_key(raw: str) -> str:
    if len(raw) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(
            f"must be at least {MIN_SECRET_KEY_LENGTH} characters "
            "(e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return raw


INDEX = Setting(
    "ARTICLE_SEARCH_INDEX", "var/index", text, "the index folder (every command's `--index`)"
)
BIND = Setting("ARTICLE_SEARCH_BIND", "127.0.0.1:8000", text, "where `serve` listens (`--bind`)")
WORKERS = Setting(
    "ARTICLE_SEARCH_WORKERS",
    min(2 * multiprocessing.cpu_count() + 1, 8),
    positive_int,
    "gunicorn workers (`--workers`); default 2 × cores + 1, at most 8",
)
WORKER_CONNECTIONS = Setting(
    "ARTICLE_SEARCH_WORKER_CONNECTIONS", 2000, positive_int, "open connections per worker"
)
QUEUE = Setting(
    "ARTICLE_SEARCH_QUEUE",
    8,
    positive_int,
    "requests waiting in one worker before it sheds with 503",
)
QUEUE_SECONDS = Setting(
    "ARTICLE_SEARCH_QUEUE_SECONDS",
    1.0,
    positive_number,
    "the longest wait in a worker's queue, expected or actual, before a 503",
)
LOG_LEVEL = Setting("ARTICLE_SEARCH_LOG_LEVEL", "info", text, "gunicorn's log level")
SITE_NAME = Setting(
    "ARTICLE_SEARCH_SITE_NAME", "Article Search", text, "the name in the pages' title and header"
)
FACETS = Setting(
    "ARTICLE_SEARCH_FACETS",
    "",
    text,
    'the facets shown, comma-separated, in order (empty: `region,theme`; README, "Searching")',
)
SEMANTIC = Setting(
    "ARTICLE_SEARCH_SEMANTIC", True, switch, "`0`: rank by words only (docs/ranking.md)"
)
INDEX_MEMORY = Setting(
    "ARTICLE_SEARCH_INDEX_MEMORY",
    1024,
    memory_mb,
    f"the indexer's memory budget in MB (`--memory`, at least {MIN_INDEX_MEMORY_MB})",
)
SECRET_KEY = Setting(
    "ARTICLE_SEARCH_SECRET_KEY",
    None,
    secret_key,
    "signs the editors' session cookie (32+ characters); unset: a key made once in "
    "`<index>/secret_key`",
)
SECURE_COOKIE = Setting(
    "ARTICLE_SEARCH_SECURE_COOKIE",
    False,
    switch,
    "`1`: the session cookie is always Secure, even without `X-Forwarded-Proto`",
)
FORWARDED_ALLOW_IPS = Setting(
    "FORWARDED_ALLOW_IPS",
    "127.0.0.1",
    text,
    "proxies whose `X-Forwarded-Proto` and `X-Forwarded-For` are believed (gunicorn's own name)",
)
ANALYTICS = Setting(
    "ARTICLE_SEARCH_ANALYTICS", True, switch, "`0`: record no reader's search (docs/analytics.md)"
)
ANALYTICS_DAYS = Setting(
    "ARTICLE_SEARCH_ANALYTICS_DAYS", 90, positive_int, "days raw search events are kept"
)
ANALYTICS_PER_MINUTE = Setting(
    "ARTICLE_SEARCH_ANALYTICS_PER_MINUTE", 6000, positive_int, "events one worker takes a minute"
)
ANALYTICS_MAX_EVENTS = Setting(
    "ARTICLE_SEARCH_ANALYTICS_MAX_EVENTS", 2_000_000, positive_int, "raw events the file holds"
)
ANALYTICS_MIN_SEARCHES = Setting(
    "ARTICLE_SEARCH_ANALYTICS_MIN_SEARCHES",
    3,
    positive_int,
    "searches in a period before a query is shown in a report",
)
WHOOSH_FALLBACK = Setting(
    "ARTICLE_SEARCH_WHOOSH_FALLBACK",
    False,
    switch,
    "`1`: Whoosh's own writer and matcher instead of the fast paths (docs/internals.md)",
)

SETTINGS: tuple[Setting, ...] = (
    INDEX,
    BIND,
    WORKERS,
    WORKER_CONNECTIONS,
    QUEUE,
    QUEUE_SECONDS,
    LOG_LEVEL,
    SITE_NAME,
    FACETS,
    SEMANTIC,
    INDEX_MEMORY,
    SECRET_KEY,
    SECURE_COOKIE,
    FORWARDED_ALLOW_IPS,
    ANALYTICS,
    ANALYTICS_DAYS,
    ANALYTICS_PER_MINUTE,
    ANALYTICS_MAX_EVENTS,
    ANALYTICS_MIN_SEARCHES,
    WHOOSH_FALLBACK,
)


def check_all(environ: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with the configured values, one line each (empty: all can be read)."""
    problems = []
    for setting in SETTINGS:
        try:
            setting.read(environ)
        except SettingError as error:
            problems.append(str(error))
    return problems
