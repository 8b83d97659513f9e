"""The article: the one record every part of article-search agrees on."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Article:
    """One news or opinion article, as imported and as stored in the index.

    ``id`` is stable across re-imports: the file path relative to the import
    root for the text export, the ``id`` member for JSON Lines.
    """

    id: str
    title: str
    body: str = ""
    url: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    date: dt.date | None = None
    regions: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()
    author_bio: str | None = None
    image_caption: str | None = None
    # Not part of the article's content: where it was imported from.
    source_file: str | None = field(default=None, compare=False)

    def to_json(self) -> dict:
        """The article in the JSON Lines field names, date as YYYY-MM-DD."""
        # By hand, not dataclasses.asdict: asdict deep-copies every value, a third
        # of the indexer's reading time.
        data = {name: getattr(self, name) for name in _JSON_FIELDS}
        data["date"] = self.date.isoformat() if self.date else None
        for name in ("authors", "regions", "themes", "reports"):
            data[name] = list(data[name])
        return data

    def content_hash(self) -> str:
        """A digest of everything the index stores, to detect changed articles."""
        encoded = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(encoded.encode("utf-8"), digest_size=16).hexdigest()


_JSON_FIELDS = tuple(f.name for f in fields(Article) if f.name != "source_file")
