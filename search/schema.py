"""The Whoosh schema of the article index, and its English analyzer: defined once."""

from __future__ import annotations

import datetime as dt
import re

import Stemmer
from whoosh import columns, fields
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

from search.analysis import FastAnalyzer
from search.article import NAME_FIELD_NAMES, Article

# Multi-valued keyword fields (regions, themes, ...) are indexed as one string
# joined by this separator, so a value keeps its commas, ampersands and spaces.
VALUE_SEPARATOR = "\x1f"
KEYWORD_FIELDS = NAME_FIELD_NAMES  # the article's fields of names (search.article)
# Every field whose exact values are indexed (looked up by ``region:``-style
# prefixes, counted by facets): the multi-valued ones and the single source.
# Indexes written before the source was indexed hold it only stored.
VALUE_FIELDS = (*KEYWORD_FIELDS, "source")

# No cache of its own: FastAnalyzer keeps the stems, and a miss in its cache of
# recent words costs PyStemmer four times the stemming.
_english_stemmer = Stemmer.Stemmer("english", 0)
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


class ArticleText(fields.TEXT):
    """Whoosh's TEXT, marked as a field the indexer may analyse its own faster way.

    ``index.text_postings`` indexes these fields (with a FastAnalyzer and
    positions) to exactly the postings and spelling words TEXT gives.
    """


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


class KeywordList(fields.IDLIST):
    """An IDLIST whose values are split by its expression in one call.

    The terms of IDLIST's RegexAnalyzer (the expression's matches, once each),
    without a token object and a generator step per value.
    """

    def index(self, value, **kwargs):
        expression = self.analyzer.expression
        if kwargs or not isinstance(value, str) or expression.groups:
            return super().index(value, **kwargs)
        boost = self.format.field_boost
        words = set(expression.findall(value))
        return [(word.encode("utf-8"), 1, boost, b"") for word in words]


def keyword_list_field() -> KeywordList:
    """An exact, multi-valued keyword field usable as a facet and a filter."""
    return KeywordList(stored=True, expression=re.compile(f"[^{VALUE_SEPARATOR}]+"))


def build_schema() -> fields.Schema:
    analyzer = english_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        url=fields.STORED(),
        title=ArticleText(analyzer=analyzer, stored=True, phrase=True),
        body=ArticleText(analyzer=analyzer, stored=True, phrase=True, spelling=True),
        author_text=ArticleText(analyzer=analyzer, phrase=True),
        **{name: keyword_list_field() for name in KEYWORD_FIELDS},
        source=keyword_list_field(),  # one value; a keyword field so it can be a facet
        date=ColumnDate(stored=True, sortable=True),
        author_bio=fields.STORED(),
        image_caption=fields.STORED(),
        content_hash=ColumnText(),
        source_file=fields.ID(stored=True, sortable=True),
        source_stamp=ColumnText(),
    )


def indexed_value_fields(schema: fields.Schema) -> tuple[str, ...]:
    """The VALUE_FIELDS whose values ``schema`` indexes (an older index may lack some)."""
    return tuple(name for name in VALUE_FIELDS if name in schema and schema[name].indexed)


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
        source=stored.get("source"),
        date=date.date() if date else None,
        author_bio=stored.get("author_bio"),
        image_caption=stored.get("image_caption"),
        source_file=stored.get("source_file"),
        **{name: tuple(stored.get(name, ())) for name in KEYWORD_FIELDS},
    )
