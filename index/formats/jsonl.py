"""JSON Lines: one article per line, as a JSON object with the Article field names.

``{"id", "url", "title", "authors": [], "source", "date": "YYYY-MM-DD", "regions": [],
"themes": [], "reports": [], "body"}``, plus the optional ``author_bio`` and
``image_caption`` that `Article.to_json` writes. A line that cannot become an article is
reported as an `ImportProblem` with its line number, and reading goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.formats import (
    MAX_ARTICLE_BYTES,
    ArticleFormatError,
    ImportProblem,
    check_limits,
    megabytes,
)
from search.article import NAME_FIELD_NAMES, Article

_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OPTIONAL_TEXT_FIELDS = ("url", "source", "author_bio", "image_caption")
# The longest title made from the first line of a body, as the text export makes it.
_DERIVED_TITLE_LENGTH = 100


def read_jsonl(path: Path) -> Iterator[Article | ImportProblem]:
    """Yield an Article for each good line of `path`, an ImportProblem for each bad one.

    Blank lines are skipped; a line longer than MAX_ARTICLE_BYTES is reported without
    being held in memory. A path that is not a regular file raises ArticleFormatError (a
    FIFO would block for ever); OSError (no such file, unreadable) is left to the caller.
    """
    source_file = str(path)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ArticleFormatError("not a regular file")
    with Path(path).open("rb") as lines:
        for number, raw in enumerate(_bounded_lines(lines), start=1):
            if raw is None:
                reason = f"line too long (over {megabytes(MAX_ARTICLE_BYTES)})"
                yield ImportProblem(source_file, reason, line=number)
                continue
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                reason = f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
                yield ImportProblem(source_file, reason, line=number)
                continue
            if not text.strip():
                continue
            try:
                data = json.loads(text.rstrip("\r\n"))  # a column past the end is no help
            except json.JSONDecodeError as error:
                reason = f"bad JSON: {error.msg} (column {error.colno})"
                yield ImportProblem(source_file, reason, line=number)
                continue
            try:
                yield parse_json_article(data, source_file=source_file)
            except ArticleFormatError as error:
                yield ImportProblem(source_file, str(error), line=number)


def _bounded_lines(file) -> Iterator[bytes | None]:
    """The lines of a binary file; None for a line over MAX_ARTICLE_BYTES (skipped)."""
    while raw := file.readline(MAX_ARTICLE_BYTES + 1):
        if len(raw) > MAX_ARTICLE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = file.readline(1024 * 1024)
            yield None
        else:
            yield raw


def parse_json_article(data: Any, source_file: str | None = None) -> Article:
    """Turn one decoded JSON value into an Article; raise ArticleFormatError if it is not one.

    Unknown members are ignored. A missing or empty title is made from the body the way the
    site's text export makes it: the body's first line, up to its first ". ", at most 100
    characters. Whitespace in titles (wire headlines wrap) collapses to single spaces.
    """
    if not isinstance(data, dict):
        raise ArticleFormatError(f"not a JSON object but {_json_type(data)}")
    if "id" not in data or data["id"] is None:
        raise ArticleFormatError("missing id")
    article_id = _text(data, "id")
    if not article_id.strip():
        raise ArticleFormatError("empty id")

    body = _text(data, "body").replace("\r\n", "\n").strip()
    title = " ".join(_text(data, "title").split()) or title_from_body(body)
    date = _date(data)
    if not title and date is None:
        # An empty but dated story is kept, as the text export keeps it.
        raise ArticleFormatError("no title")
    optional = {name: _text(data, name).strip() or None for name in _OPTIONAL_TEXT_FIELDS}
    lists = {name: _text_list(data, name) for name in NAME_FIELD_NAMES}
    article = Article(
        id=article_id,
        title=title,
        body=body,
        date=date,
        source_file=source_file,
        **optional,
        **lists,
    )
    return check_limits(article)


def title_from_body(body: str) -> str:
    """A title for a story that has none: its first line, up to the first ". ", cut short."""
    first_line = body.strip().split("\n", 1)[0]
    first_sentence = first_line.split(". ", 1)[0]
    return " ".join(first_sentence[:_DERIVED_TITLE_LENGTH].split())


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArticleFormatError(f"{name} must be a string, not {_json_type(value)}")
    return value


def _text_list(data: dict, name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ArticleFormatError(f"{name} must be a list of strings, not {_json_type(value)}")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise ArticleFormatError(
                f"{name} must be a list of strings, but item {position} is {_json_type(item)}"
            )
    return tuple(item.strip() for item in value if item.strip())


def _date(data: dict) -> dt.date | None:
    value = data.get("date")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ArticleFormatError(f"date must be a string (YYYY-MM-DD), not {_json_type(value)}")
    try:
        if not _ISO_DATE_RE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArticleFormatError(f"unparseable date {value!r}") from None


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
