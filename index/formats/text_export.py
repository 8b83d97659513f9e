"""The site's text export: one article per file, a title, metadata lines, then the body.

The layout (see ``shared/samples/000_aa965e4d68b705bb.txt``)::

    Title, on the first non-empty line
    By [Author](#), [Author](#)                      optional
    Source, March 11, 2024                           optional
    Region: [Europe](#), [Russia and FSU](#)         optional
    Theme: [A](#), [B](#)                            optional
    In-depth Report: [UKRAINE REPORT](#)             optional
    site chrome (translate/newsletter/share/fundraising lines)
    body paragraphs, separated by blank lines
    site chrome (separator, notes, author bio, featured image, copyright, disclaimer)

Site chrome is recognised by patterns that hold for any source (calls to action, link-only
lines, copyright and disclaimer openings), some of them written in terms of the parsed
source name; only the edges of the body are searched for it, never its middle.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

from index.formats import MAX_ARTICLE_BYTES, ArticleFormatError, check_limits, megabytes
from search.article import Article

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

# [text](target); the target may hold one level of parentheses, as URLs sometimes do.
_LINK = r"\[(?P<text>[^\]]*)\]\((?:[^()]|\([^()]*\))*\)"
_LINK_RE = re.compile(_LINK)
_LINK_ONLY_RE = re.compile(rf"\s*{_LINK}\s*\.?\s*")

# One value of a list: a link, or plain text up to the next separator.
_VALUE_RE = re.compile(rf"\s*(?:{_LINK}|(?P<plain>[^,\[\]]*?))\s*(?:,|$)")
_AUTHOR_VALUE_RE = re.compile(
    rf"\s*(?:{_LINK}|(?P<plain>[^,\[\]]*?))\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|$)"
)
# A plain (unlinked) author name: one to five capitalised words.
_PLAIN_NAME_RE = re.compile(
    r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|der|da|di|del|al)){0,4}"
)

_BYLINE_RE = re.compile(r"By\s+(?P<names>.+)", re.IGNORECASE)
_FACET_RE = re.compile(
    r"(?P<label>Regions?|Themes?|In-depth Reports?)\s*:\s*(?P<values>.*)", re.IGNORECASE
)
_DATE_LINE_RE = re.compile(
    r"(?:(?P<source>.+?),\s*)?"
    r"(?P<date>(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4}))"
)

# Lines that are never body, wherever they sit at the edges of the article.
_CHROME_RES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bclick (?:here|the [\w ]{0,20}button)\b",
        r"\bshare button\b",
        r"\btranslate website\b",
        r"\bcan be read in \d+ languages\b",
        r"\b(?:receive|subscribe to|sign up for|get) (?:our|the|\S+'s) (?:\w+ )?newsletter\b",
        r"\bfollow us on\b",
        r"\bsubscribe to our\b",
        r"\brepost and share\b",
        r"\bemail/forward this article\b",
        r"^note to (?:our )?readers\s*:",
        r"^for media inquiries\b",
        r"\bcontains copyrighted material\b",
        r"\"fair use\"",
    )
]
# Lines where the article proper has certainly ended: everything from here on is chrome.
_END_RES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^the original source of this article is\b",
        r"^copyright\s*(?:©|\(c\)|&copy;)",
        r"^articles by\s*:",
        r"^disclaimer\s*:",
    )
]
_CAPTION_RE = re.compile(
    r"^(?:featured|top|cover|header) (?:image|photo|picture)\s*:\s*(?P<caption>.*)", re.IGNORECASE
)
_ABOUT_AUTHOR_RE = re.compile(r"^about the authors?\s*:\s*(?P<bio>.+)", re.IGNORECASE)
# A line of nothing but punctuation: "*", "* * *", "---", ".".
_SEPARATOR_RE = re.compile(r"[^\w\s]+(?:\s+[^\w\s]+)*")

# A paragraph ending like this is finished; one ending otherwise may run on into the next.
_SENTENCE_END_RE = re.compile(r"[.!?:;…][\"'”’»)\]]*$")
# Words no sentence ends with (in lower case: "May" is a month): a paragraph ending in one
# of them runs on.
_RUN_ON_WORDS = frozenset(
    """a an the of to from in into on onto at by for with without about against between
    among through over under and or but nor than as that which who whom whose its their his
    her our your my this these those is are was were be been being has have had will would
    can could should may might must not""".split()  # noqa: SIM905 (a list literal is unreadable)
)


def read_text_export(path: Path, article_id: str) -> Article:
    """Read one text-export file; raise ArticleFormatError when it is not an article.

    Empty, binary (NUL bytes), non-UTF-8 and oversized files, and things that are not
    regular files (a FIFO would block for ever), are rejected with the reason; a byte
    order mark is dropped and CRLF line ends are normalised. OSError is left to the caller.
    """
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise ArticleFormatError("not a regular file")
    if status.st_size > MAX_ARTICLE_BYTES:
        raise ArticleFormatError(
            f"file too large ({megabytes(status.st_size)}; an article file may be at most "
            f"{MAX_ARTICLE_BYTES // (1024 * 1024)} MB)"
        )
    with open(path, "rb") as file:
        data = file.read(MAX_ARTICLE_BYTES + 1)  # the file may have grown since stat
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleFormatError(f"file too large (over {megabytes(MAX_ARTICLE_BYTES)})")
    if not data.strip():
        raise ArticleFormatError("empty file")
    if b"\x00" in data:
        raise ArticleFormatError("binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise ArticleFormatError(
            f"not UTF-8 text (byte 0x{byte:02x} at offset {error.start})"
        ) from None
    return parse_text_export(text, article_id, source_file=str(path))


def parse_text_export(text: str, article_id: str, source_file: str | None = None) -> Article:
    """Parse the text of one text-export file into an Article; raise ArticleFormatError."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n")]
    start = next((i for i, line in enumerate(lines) if line), None)
    if start is None:
        raise ArticleFormatError("empty file")
    # An empty wire story still has its source and date line: it is an article
    # without a title (the archive keeps it); any other metadata first is not.
    first_kind = _metadata_kind(lines[start])
    if first_kind not in (None, "date"):
        raise ArticleFormatError("no title")

    # The title is the first line, plus any lines that follow it without a blank line
    # (wire headlines wrap onto a second line).
    end = start + 1 if first_kind is None else start
    while end < len(lines) and lines[end] and _metadata_kind(lines[end]) is None:
        end += 1
    title = _clean_title(" ".join(lines[start:end]))
    if not title and first_kind is None:
        raise ArticleFormatError("no title")

    meta = _Metadata()
    caption: str | None = None
    # The header: metadata lines and leading chrome, up to the first line of the body.
    index = end
    while index < len(lines):
        line = lines[index]
        if not line:
            index += 1
            continue
        if meta.take(line):
            index += 1
            continue
        if _is_chrome(line, meta.source):
            index += 1
            continue
        caption_match = _CAPTION_RE.match(line)
        if caption_match and caption is None:
            caption = _flatten_links(caption_match["caption"]).strip() or None
            index += 1
            continue
        break

    blocks = _blocks(lines[index:])
    body_blocks, author_bio, tail_caption = _split_trailer(blocks, meta)
    article = Article(
        id=article_id,
        title=title,
        body="\n\n".join(_join_paragraphs([_flatten_links(b) for b in body_blocks])),
        authors=tuple(meta.authors),
        source=meta.source,
        date=meta.date,
        regions=tuple(meta.regions),
        themes=tuple(meta.themes),
        reports=tuple(meta.reports),
        author_bio=author_bio,
        image_caption=caption if caption is not None else tail_caption,
        source_file=source_file,
    )
    return check_limits(article)


class _Metadata:
    """The metadata lines of one article, taken one line at a time."""

    def __init__(self) -> None:
        self.authors: list[str] = []
        self.source: str | None = None
        self.date: dt.date | None = None
        self.has_date_line = False
        self.regions: list[str] = []
        self.themes: list[str] = []
        self.reports: list[str] = []

    def take(self, line: str) -> bool:
        """Record `line` if it is a metadata line; say whether it was."""
        kind = _metadata_kind(line)
        if kind == "by":
            self.authors.extend(_authors(_BYLINE_RE.fullmatch(line)["names"]))
        elif kind == "facet":
            match = _FACET_RE.fullmatch(line)
            label = match["label"].lower()
            values = _values(match["values"])
            if label.startswith("region"):
                self.regions.extend(values)
            elif label.startswith("theme"):
                self.themes.extend(values)
            else:
                self.reports.extend(values)
        elif kind == "date" and not self.has_date_line:
            # A second date-like line is not metadata: it can only be the body's first line.
            self.has_date_line = True
            match = _DATE_LINE_RE.fullmatch(line)
            self.date = _parse_date(match)
            source = _flatten_links(match["source"] or "").strip()
            self.source = source or None
        else:
            return False
        return True


def _metadata_kind(line: str) -> str | None:
    """The kind of metadata line `line` is ("by", "facet", "date"), or None."""
    if _FACET_RE.fullmatch(line):
        return "facet"
    byline = _BYLINE_RE.fullmatch(line)
    if byline and _authors(byline["names"]):
        return "by"
    if _DATE_LINE_RE.fullmatch(line):
        return "date"
    return None


def _parse_date(match: re.Match[str]) -> dt.date:
    month = _MONTHS.get(match["month"].lower())
    try:
        if month is None:
            raise ValueError(match["month"])
        return dt.date(int(match["year"]), month, int(match["day"]))
    except ValueError:
        raise ArticleFormatError(f"unparseable date {match['date']!r}") from None


def _list_items(text: str, item_re: re.Pattern[str]) -> list[tuple[str, bool]] | None:
    """(value, was_link) pairs of a separated list, or None when `text` is not one."""
    items: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(text):
        match = item_re.match(text, pos)
        if match is None or match.end() == pos:
            return None
        if match["text"] is not None:
            items.append((" ".join(match["text"].split()), True))
        elif match["plain"]:
            items.append((" ".join(match["plain"].split()), False))
        pos = match.end()
    return [item for item in items if item[0]]


def _values(text: str) -> list[str]:
    """Region/theme/report values: link texts kept whole, plain values split at commas."""
    items = _list_items(text, _VALUE_RE)
    if items is None:  # something odd, like a stray bracket: fall back to commas
        return [v for v in (" ".join(p.split()) for p in _flatten_links(text).split(",")) if v]
    return [value for value, _ in items]


def _authors(text: str) -> list[str]:
    """Author names from a byline, or [] when it does not read as one."""
    items = _list_items(text, _AUTHOR_VALUE_RE)
    if not items:
        return []
    if not all(link or _PLAIN_NAME_RE.fullmatch(value) for value, link in items):
        return []  # "By the end of the week, ..." is a sentence, not a byline
    return [value for value, _ in items]


def _flatten_links(text: str) -> str:
    return _LINK_RE.sub(lambda match: match["text"], text)


def _clean_title(text: str) -> str:
    text = re.sub(r"^#+\s+", "", text)  # a Markdown heading
    return " ".join(_flatten_links(text).split())


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs: runs of non-blank lines, each run joined by spaces."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            blocks.append(" ".join(current))
            current = []
    return blocks


def _is_chrome(block: str, source: str | None) -> bool:
    if _LINK_ONLY_RE.fullmatch(block):
        return True
    if any(pattern.search(block) for pattern in _CHROME_RES):
        return True
    if source:
        # "All Global Research articles ...", "Reuters's daily newsletter" and the like.
        own = rf"\b{re.escape(source)}(?:'s)? (?:articles|(?:daily )?newsletter|fundraising)\b"
        if re.search(own, block, re.IGNORECASE):
            return True
    return False


def _is_bio(block: str, authors: list[str]) -> bool:
    """A paragraph about one of the authors: "Ahmed Adel is a Cairo-based researcher."."""
    text = _flatten_links(block)
    return any(
        re.match(rf"(?:Dr\.?\s+|Prof\.?\s+)?{re.escape(name)}[\s,]", text) for name in authors
    )


def _split_trailer(blocks: list[str], meta: _Metadata) -> tuple[list[str], str | None, str | None]:
    """Separate the body from the chrome after it: (body blocks, author bio, image caption)."""
    author_bio: str | None = None
    caption: str | None = None

    def take_caption(block: str) -> bool:
        nonlocal caption
        match = _CAPTION_RE.match(block)
        if match is None:
            return False
        if caption is None:
            caption = _flatten_links(match["caption"]).strip() or None
        return True

    def take_bio(block: str, by_name: bool) -> bool:
        nonlocal author_bio
        match = _ABOUT_AUTHOR_RE.match(block)
        if match is None and not (by_name and author_bio is None and _is_bio(block, meta.authors)):
            return False
        text = match["bio"] if match else block
        if author_bio is None:
            author_bio = _flatten_links(text).strip()
        return True

    end = next(
        (i for i, block in enumerate(blocks) if any(p.search(block) for p in _END_RES)),
        len(blocks),
    )
    body, trailer = blocks[:end], blocks[end:]

    # Peel chrome off the end of the body. A paragraph about the author only counts as a
    # bio once other chrome shows that the article proper is over.
    in_trailer = bool(trailer)
    while body:
        block = body[-1]
        if _SEPARATOR_RE.fullmatch(block):
            pass
        elif take_caption(block) or _is_chrome(block, meta.source):
            in_trailer = True
        elif take_bio(block, by_name=in_trailer):
            pass
        else:
            break
        body.pop()
    # The trailer itself is dropped, but a bio or caption may sit after the end marker.
    for block in trailer:
        if not take_caption(block):
            take_bio(block, by_name=True)
    return body, author_bio, caption


def _join_paragraphs(paragraphs: list[str]) -> list[str]:
    """Join paragraphs that a blank line split in the middle of a sentence.

    A paragraph that ends in a letter, not in sentence-ending punctuation, runs on into a
    following one that starts with a letter, ends a sentence, and either starts in lower
    case or follows a word no sentence ends with ("withdrew from the" / "Istanbul talks").
    Rows of tables ("Shr 37 cts vs 37 cts" / "net 7.6 mln vs 7.5 mln") stay apart.
    """
    joined: list[str] = []
    for paragraph in paragraphs:
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if joined and _runs_on(joined[-1], paragraph):
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def _runs_on(previous: str, following: str) -> bool:
    if not previous[-1].isalpha() or not following[0].isalpha():
        return False
    if not _SENTENCE_END_RE.search(following):
        return False
    return following[0].islower() or previous.rsplit(None, 1)[-1] in _RUN_ON_WORDS
