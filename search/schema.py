"""The Whoosh schema of the article index, and its English analyzer: defined once."""

from __future__ import annotations

import datetime as dt
import pickle
import re

import Stemmer
from whoosh import columns, fields, formats
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

from search.analysis import FastAnalyzer
from search.article import Article

# Multi-valued keyword fields (regions, themes, ...) are indexed as one string
# joined by this separator, so a value keeps its commas, ampersands and spaces.
VALUE_SEPARATOR = "\x1f"
FACET_FIELDS = ("regions", "themes")
KEYWORD_FIELDS = ("authors", "regions", "themes", "reports")

_english_stemmer = Stemmer.Stemmer("english")
# Letters and digits, with inner dots kept ("U.S", "3.5").
WORD_PATTERN = r"\w+(?:\.?\w+)*"


def stem_english(word: str) -> str:
    """Snowball (Porter2) English stem; a module function so the schema pickles."""
    return _english_stemmer.stemWord(word)


def english_analyzer() -> Analyzer:
    """Words, case-folded and accent-folded, stop words dropped, stemmed.

    Accents are folded before stemming so "Séjourné" and "Sejourne" meet.
    The chain is the definition; FastAnalyzer runs it (same tokens, faster).
    Whoosh's default tokenizer keeps "*" inside words (for its wildcard
    syntax, which our queries do not have): "heat*" would find nothing.
    """
    return FastAnalyzer(
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter()
        | StemFilter(stemfn=stem_english, cachesize=100_000)
    )


def encode_positions(numbers: list[int]) -> bytes:
    """``whoosh.formats.Positions().encode(numbers)``: the count, then the pickled deltas.

    Most terms occur once in an article: their bytes are made once per position.
    """
    if len(numbers) == 1 and numbers[0] < _ONE_POSITION_CACHED:
        encoded = _ONE_POSITION.get(numbers[0])
        if encoded is None:
            encoded = _ONE_POSITION[numbers[0]] = pack_uint(1) + pickle.dumps(numbers, 2)
        return encoded
    deltas = [numbers[0], *(b - a for a, b in zip(numbers, numbers[1:], strict=False))]
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


_ONE_POSITION: dict[int, bytes] = {}
_ONE_POSITION_CACHED = 20_000  # positions past this are rare: not worth keeping


class ArticleText(fields.TEXT):
    """A TEXT field that analyses each value once for its terms and its spelling words.

    Whoosh's TEXT runs the analyzer once for the postings and again (unstemmed)
    for the spelling field; with a FastAnalyzer both come from one pass. The
    postings are exactly the ones TEXT makes.
    """

    _spelling: tuple[str, set[str]] | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_spelling", None)
        state.pop("_spelled", None)
        return state

    def index(self, value, **kwargs):
        analyzer = self.analyzer
        if (
            kwargs
            or not isinstance(value, str)
            or not isinstance(analyzer, FastAnalyzer)
            or not analyzer.fast
            or type(self.format) is not formats.Positions
        ):
            return super().index(value, **kwargs)
        positions, words = analyzer.index_terms(value)
        self._spelling = (value, words)
        boost = self.format.field_boost
        return [
            (
                term.encode("utf-8"),
                len(numbers),
                float(len(numbers)) * boost,
                encode_positions(numbers),
            )
            for term, numbers in positions.items()
        ]

    def spellable_words(self, value):
        remembered = self._spelling
        if remembered is not None and remembered[0] is value:
            self._spelling = None
            words = remembered[1]
        else:
            words = set(super().spellable_words(value))
        # Whoosh posts spelling words at docnum 0 of the segment (only the word
        # list is ever read), so a word already posted adds nothing but pool
        # and sort work. Each writer unpickles its own schema from the index,
        # so this field object, and what it has seen, belongs to one writer.
        seen = self.__dict__.setdefault("_spelled", set())
        fresh = words - seen
        seen |= fresh
        return iter(sorted(fresh))


class ColumnDate(fields.DATETIME):
    """A stored date with a column, not indexed.

    The engine filters and sorts dates from the column; no query searches a
    date's index terms (eight per document, for Whoosh's range queries).
    """

    indexed = False


class ColumnText(fields.COLUMN):
    """A string kept only as a per-document column (read with ``column_reader``).

    For the indexer's bookkeeping (content hash, source stamp): an ID field
    would also index each value, one term per article never searched.
    """

    def __init__(self):
        super().__init__(columns.VarBytesColumn())

    def to_bytes(self, value):
        return value.encode("utf-8") if isinstance(value, str) else value

    def from_bytes(self, value):
        return value.decode("utf-8")


def keyword_list_field() -> fields.IDLIST:
    """An exact, multi-valued keyword field usable as a facet and a filter."""
    return fields.IDLIST(stored=True, expression=re.compile(f"[^{VALUE_SEPARATOR}]+"))


def build_schema() -> fields.Schema:
    analyzer = english_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        url=fields.STORED(),
        title=ArticleText(analyzer=analyzer, stored=True, phrase=True),
        body=ArticleText(analyzer=analyzer, stored=True, phrase=True, spelling=True),
        author_text=ArticleText(analyzer=analyzer, phrase=True),
        authors=keyword_list_field(),
        regions=keyword_list_field(),
        themes=keyword_list_field(),
        reports=keyword_list_field(),
        source=fields.STORED(),
        date=ColumnDate(stored=True, sortable=True),
        author_bio=fields.STORED(),
        image_caption=fields.STORED(),
        content_hash=ColumnText(),
        source_file=fields.ID(stored=True, sortable=True),
        source_stamp=ColumnText(),
    )


def join_values(values: tuple[str, ...]) -> str:
    return VALUE_SEPARATOR.join(values)


def article_document(article: Article, source_stamp: str = "") -> dict:
    """The keyword arguments for ``writer.add_document`` for one article."""
    document = {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "body": article.body,
        "author_text": " ".join(article.authors),
        "source": article.source,
        "author_bio": article.author_bio,
        "image_caption": article.image_caption,
        "content_hash": article.content_hash(),
        "source_file": article.source_file or "",
        "source_stamp": source_stamp,
    }
    if article.date is not None:
        document["date"] = dt.datetime.combine(article.date, dt.time())
    for name in KEYWORD_FIELDS:
        values = getattr(article, name)
        if values:
            document[name] = join_values(values)
            document[f"_stored_{name}"] = list(values)
    return document


def stored_article(stored: dict) -> Article:
    """Rebuild the Article from a hit's stored fields."""
    date = stored.get("date")
    return Article(
        id=stored["id"],
        title=stored.get("title", ""),
        body=stored.get("body", ""),
        url=stored.get("url"),
        authors=tuple(stored.get("authors", ())),
        source=stored.get("source"),
        date=date.date() if date else None,
        regions=tuple(stored.get("regions", ())),
        themes=tuple(stored.get("themes", ())),
        reports=tuple(stored.get("reports", ())),
        author_bio=stored.get("author_bio"),
        image_caption=stored.get("image_caption"),
        source_file=stored.get("source_file"),
    )
