"""The article: the one record every part of article-search agrees on, and its fields.

An article's fields are declared once, by the two dataclasses below. A field of
names (its authors, regions, themes, reports) carries a ``Names`` saying what
one of its values is called: ``region`` is its facet's name, its query prefix
(``region:"Europe"``), the kind of a completion and the class of a tag; the
index schema, the import formats, the hit, the JSON and its OpenAPI schemas,
the pages and the command line all read them from here (``NAME_FIELDS``).
Adding a field of names is one line in ``ArticleCard``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Names:
    """What a field of names is called, and how pages show its values."""

    field: str  # the Article and Hit attribute, index field and JSON member ("regions")
    one: str  # one value: facet name, query prefix, completion kind, tag class ("region")
    label: str  # a value's label ("Region: Europe") and its facet's title
    heading: str  # the article page's heading of its values ("Regions")
    suggested: bool = False  # its values are offered as completions in the search box
    byline: bool = False  # shown as "By ..." (the authors), not as tags
    hit_tags: bool = False  # a hit in a list of results shows its values as tags


def _names(one: str, label: str, heading: str, **shown: bool) -> tuple[str, ...]:
    """A field of names (empty by default), declared with what its values are called."""
    return field(
        default=(), metadata={"names": dict(one=one, label=label, heading=heading, **shown)}
    )


@dataclass(frozen=True)
class ArticleCard:
    """What a list of articles shows of each one (a search's Hit is one).

    The fields of names in the order their facets are listed (search.facets).
    """

    id: str
    title: str
    url: str | None = None
    date: dt.date | None = None
    source: str | None = None  # the publication: one value, a facet of its own (search.facets)
    regions: tuple[str, ...] = _names("region", "Region", "Regions", suggested=True, hit_tags=True)
    themes: tuple[str, ...] = _names("theme", "Theme", "Themes", suggested=True, hit_tags=True)
    authors: tuple[str, ...] = _names("author", "Author", "Authors", suggested=True, byline=True)
    reports: tuple[str, ...] = _names("report", "In-depth report", "Reports")


@dataclass(frozen=True)
class Article(ArticleCard):
    """One news or opinion article, as imported and as stored in the index.

    ``id`` is stable across re-imports: the file path relative to the import
    root for the text export, the ``id`` member for JSON Lines.
    """

    body: str = ""
    author_bio: str | None = None
    image_caption: str | None = None
    # Not part of the article's content: where it was imported from.
    source_file: str | None = field(default=None, compare=False)

    def to_json(self) -> dict:
        """The article in the JSON Lines field names, date as YYYY-MM-DD."""
        return fields_json(self, JSON_FIELDS)

    def card(self) -> dict:
        """The ArticleCard's fields of this article, as keyword arguments."""
        return {name: getattr(self, name) for name in CARD_FIELDS}

    def content_hash(self) -> str:
        """A digest of everything the index stores, to detect changed articles."""
        encoded = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(encoded.encode("utf-8"), digest_size=16).hexdigest()


NAME_FIELDS = tuple(
    Names(f.name, **f.metadata["names"]) for f in fields(ArticleCard) if "names" in f.metadata
)
NAME_FIELD_NAMES = tuple(names.field for names in NAME_FIELDS)
CARD_FIELDS = tuple(f.name for f in fields(ArticleCard))
JSON_FIELDS = tuple(f.name for f in fields(Article) if f.name != "source_file")


def fields_json(item: ArticleCard, names: tuple[str, ...]) -> dict:
    """The fields ``names`` of an article or a hit as JSON values: the date as YYYY-MM-DD
    (or null), names as a list."""
    # By hand, not dataclasses.asdict: asdict deep-copies every value, a third
    # of the indexer's reading time.
    data = {name: getattr(item, name) for name in names}
    if "date" in data:
        data["date"] = item.date.isoformat() if item.date else None
    for name in NAME_FIELD_NAMES:
        if name in data:
            data[name] = list(data[name])
    return data
